// The Live page: follows the room event stream (server-sent events) without reloading.
// The server ends each stream as soon as it sent what is new (or after a second); this script then
// opens the next one from the last event seen, after refreshing the rooms if someone joined, left or
// was muted. One request at a time: a web worker is never held by a stream the page waits behind.
"use strict";

(function () {
  var box, after, talking = {}, refreshing = false, source = null;

  function applyTalking() {
    box.querySelectorAll("tr[data-participant]").forEach(function (row) {
      if (!(row.dataset.participant in talking)) { return; }  // as the server drew it
      var on = talking[row.dataset.participant] === true;
      row.querySelector(".talking").dataset.talking = on ? "yes" : "no";
      row.classList.toggle("is-talking", on);
    });
  }

  function refresh() {
    return fetch(box.dataset.fragment, {credentials: "same-origin", headers: {"Accept": "text/html"}})
      .then(function (response) {
        if (response.status === 200) { return response.text(); }
        throw new Error("status " + response.status);
      })
      .then(function (html) {
        box.innerHTML = html;  // rendered (and escaped) by the server
        applyTalking();
        if (window.kamconfConfirmForms) { window.kamconfConfirmForms(box); }
      });
  }

  function handle(event) {
    after = event.lastEventId || after;
    var data = JSON.parse(event.data);
    if (data.type === "talking" || data.type === "not_talking") {
      talking[data.participant] = data.type === "talking";
      applyTalking();
    } else {
      if (data.type === "left" && data.participant) { delete talking[data.participant]; }
      refreshing = true;
    }
  }

  function next() {
    var url = box.dataset.events + "?after=" + encodeURIComponent(after);
    var opened = false;
    source = new EventSource(url);
    source.addEventListener("open", function () { opened = true; });
    source.addEventListener("message", handle);
    source.addEventListener("error", function () {
      // The server ended this stream: refresh if needed, then listen again. A stream that never
      // opened (signed out, the server or Redis down) is retried after a pause, not at once.
      source.close();
      var wait = refreshing ? refresh() : Promise.resolve();
      refreshing = false;
      wait.catch(function () { opened = false; })
        .then(function () { setTimeout(next, opened ? 100 : 3000); });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    box = document.getElementById("live");
    if (!box) { return; }
    after = box.dataset.after;
    next();
  });
})();
