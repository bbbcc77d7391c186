// Site-wide behaviour that the pages work without: after a form comes back with errors,
// move the focus to the error summary so keyboard and screen-reader users land on it.
(function () {
  "use strict";
  var summary = document.querySelector(".form-errors");
  if (summary) {
    summary.focus();
  }
})();
