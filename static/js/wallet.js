// Follows a WeChat Pay / Alipay payment without reloading: asks our server (which asks the
// provider; the browser's word never counts) every few seconds and moves on to the receipt
// once the payment is confirmed. Without JavaScript the page's links do the same by hand.
(function () {
  "use strict";
  var status = document.querySelector("[data-status-url]");
  if (!status || !window.fetch) { return; }
  var url = status.getAttribute("data-status-url");
  var failedText = status.getAttribute("data-failed-text");
  var delay = 2000;

  function check() {
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (answer) {
        if (answer && answer.status && answer.status !== "pending") {
          window.location.assign(answer.redirect);
          return;
        }
        if (answer && answer.failure && failedText) {
          status.textContent = failedText;
          window.location.assign(answer.redirect);
          return;
        }
        delay = Math.min(delay * 1.2, 6000);
        window.setTimeout(check, delay);
      })
      .catch(function () { window.setTimeout(check, 6000); });
  }
  window.setTimeout(check, delay);
})();
