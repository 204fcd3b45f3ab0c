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

function greetingPlayer() {
  var select = document.getElementById("greeting_sound_id");
  var button = document.getElementById("play-greeting");
  if (!select || !button) { return; }
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

document.addEventListener("DOMContentLoaded", function () {
  confirmForms(document);
  languageSwitch();
  greetingPlayer();
});
window.kamconfConfirmForms = confirmForms;
