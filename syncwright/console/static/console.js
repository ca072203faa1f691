// syncwright console: the little behaviour htmx does not cover. No inline script anywhere (the
// pages are served with a strict Content-Security-Policy), so it lives here.
(function () {
  "use strict";
  // "Select all" checkbox of the exceptions table (works after htmx swaps too).
  document.addEventListener("change", function (event) {
    var box = event.target;
    if (!box.classList || !box.classList.contains("select-all")) return;
    var form = box.closest("form");
    form.querySelectorAll('input[name="ids"]:not([disabled])').forEach(function (item) {
      item.checked = box.checked;
    });
  });
  // Resolving runs compensations (it may delete ERP records): ask before sending.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var submitter = event.submitter;
    var question = form.getAttribute("data-confirm-resolve");
    if (question && submitter && submitter.value === "resolve" && !window.confirm(question)) {
      event.preventDefault();
    }
  });
})();
