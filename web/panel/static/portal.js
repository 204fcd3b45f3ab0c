// A running conference's page: the roster is redrawn from the server about every second (who is in,
// talking, muted, their call quality, whom it called in vain). One request at a time; the page works
// without it (reload to see changes).
"use strict";

(function () {
  var box = document.getElementById("roster");
  if (!box || !box.dataset.fragment) { return; }

  function refresh() {
    fetch(box.dataset.fragment, {credentials: "same-origin", headers: {"Accept": "text/html"}})
      .then(function (response) {
        if (response.status !== 200) { throw new Error("status " + response.status); }
        return response.text();
      })
      .then(function (html) {
        box.innerHTML = html;  // rendered (and escaped) by the server
        if (window.kamconfConfirmForms) { window.kamconfConfirmForms(box); }
        setTimeout(refresh, 1000);
      })
      .catch(function () { setTimeout(refresh, 3000); });
  }
  setTimeout(refresh, 1000);
}());
