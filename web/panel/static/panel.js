// Small progressive touches; every page works without them. No inline handlers (the CSP forbids them).
"use strict";

function confirmForms(root) {
  root.querySelectorAll("form[data-confirm]").forEach(function (form) {
    if (form.dataset.confirmBound) { return; }
    form.dataset.confirmBound = "1";
    form.addEventListener("submit", function (event) {
      if (!window.confirm(form.dataset.confirm)) { event.preventDefault(); }
    });
  });
}

function languageSwitch() {
  var select = document.getElementById("language-choice");
  if (!select) { return; }
  document.querySelectorAll("button.nojs").forEach(function (b) { b.hidden = true; });
  select.addEventListener("change", function () { select.form.submit(); });
}

// A drop-down of the sound library (the greeting, the music) with its Play button.
function soundPlayers() {
  document.querySelectorAll("select.sound-choice").forEach(soundPlayer);
}

function soundPlayer(select) {
  var button = document.getElementById(select.dataset.play);
  if (!button) { return; }
  var audio = null;
  function update() { button.disabled = !select.selectedOptions[0].dataset.audio; }
  select.addEventListener("change", function () { if (audio) { audio.pause(); } update(); });
  button.addEventListener("click", function () {
    var url = select.selectedOptions[0].dataset.audio;
    if (!url) { return; }
    if (audio) { audio.pause(); }
    audio = new Audio(url);
    audio.play();
  });
  update();
}

// The sound upload: a file dropped on the zone goes into the file field; one too large is refused
// here already, next to the field (the server refuses it too).
function dropzone() {
  var zone = document.getElementById("dropzone");
  if (!zone) { return; }
  var input = document.getElementById("file");
  var error = document.getElementById("file-error");
  function check() {
    var file = input.files[0];
    var tooLarge = file && file.size > Number(zone.dataset.maxBytes);
    error.hidden = !tooLarge;
    if (tooLarge) { error.textContent = zone.dataset.tooLarge; }
    return !tooLarge;
  }
  ["dragenter", "dragover"].forEach(function (name) {
    zone.addEventListener(name, function (event) { event.preventDefault(); zone.classList.add("over"); });
  });
  zone.addEventListener("dragleave", function () { zone.classList.remove("over"); });
  zone.addEventListener("drop", function (event) {
    event.preventDefault();
    zone.classList.remove("over");
    if (event.dataTransfer.files.length) { input.files = event.dataTransfer.files; check(); }
  });
  input.addEventListener("change", check);
  input.form.addEventListener("submit", function (event) { if (!check()) { event.preventDefault(); } });
}

document.addEventListener("DOMContentLoaded", function () {
  confirmForms(document);
  languageSwitch();
  soundPlayers();
  dropzone();
});
window.kamconfConfirmForms = confirmForms;
