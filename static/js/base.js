// Site-wide behaviour that the pages work without.
(function () {
  "use strict";

  // After a form comes back with errors, move the focus to the error summary so keyboard
  // and screen-reader users land on it.
  var summary = document.querySelector(".form-errors");
  if (summary) {
    summary.focus();
  }

  // A table wider than a phone scrolls inside .table-wrap: make that region reachable and
  // scrollable with the keyboard, and name it after its caption or the nearest heading.
  function labelFor(wrap) {
    var caption = wrap.querySelector("caption");
    if (caption && caption.textContent.trim()) { return caption.textContent.trim(); }
    var section = wrap.closest("section, article, main");
    var heading = section && section.querySelector("h1, h2, h3");
    return heading ? heading.textContent.trim() : "";
  }

  function markScrollableTables() {
    var wraps = document.querySelectorAll(".table-wrap");
    for (var i = 0; i < wraps.length; i++) {
      var wrap = wraps[i];
      if (wrap.scrollWidth > wrap.clientWidth + 1) {
        wrap.setAttribute("tabindex", "0");
        wrap.setAttribute("role", "region");
        if (!wrap.hasAttribute("aria-label")) { wrap.setAttribute("aria-label", labelFor(wrap)); }
      } else if (wrap.getAttribute("tabindex") === "0") {
        wrap.removeAttribute("tabindex");
      }
    }
  }

  markScrollableTables();
  window.addEventListener("resize", function () {
    window.requestAnimationFrame(markScrollableTables);
  });
})();
