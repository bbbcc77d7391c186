// The card step of a gift: Stripe.js sets up the card (confirmCardSetup), then our server
// confirms the PaymentIntent and decides. The browser's word never makes a gift succeed.
(function () {
  "use strict";
  var form = document.getElementById("donate-card-form");
  if (!form || typeof Stripe === "undefined") { return; }
  var data = form.dataset;
  // The page's language for Stripe's own labels; its error texts are replaced by ours.
  var stripe = Stripe(data.stripeKey, { stripeAccount: data.stripeAccount, locale: data.locale || "zh" });
  var declineMessages = {};
  try { declineMessages = JSON.parse(data.declineMessages || "{}"); } catch (e) { declineMessages = {}; }
  var card = stripe.elements().create("card");
  card.mount("#card-element");
  var errors = document.getElementById("card-errors");
  var button = document.getElementById("card-submit");
  var buttonText = button.textContent;
  var clientSecret = data.clientSecret;
  var keptSetupIntent = null;

  function fail(message) {
    errors.textContent = message || data.genericError;
    button.disabled = false;
    button.textContent = buttonText;
  }

  async function submit(event) {
    event.preventDefault();
    errors.textContent = "";
    button.disabled = true;
    button.textContent = data.processingText;
    var setupIntentId = keptSetupIntent;
    if (!setupIntentId) {
      var result = await stripe.confirmCardSetup(clientSecret, { payment_method: { card: card } });
      var done = result.error && result.error.setup_intent;
      if (done && done.status === "succeeded") {
        setupIntentId = done.id;  // set up before a limit answered: use it, set nothing up
      } else if (result.error) {
        var code = result.error.decline_code || result.error.code || "";
        return fail(declineMessages[result.error.decline_code] || declineMessages[result.error.code] ||
          (code ? declineMessages[""] : data.genericError));
      } else {
        setupIntentId = result.setupIntent.id;
      }
    }
    keptSetupIntent = null;
    var body = new URLSearchParams();
    body.set("setup_intent", setupIntentId);
    body.set("csrf_token", data.csrfToken);
    var response = await fetch(data.confirmUrl, {
      method: "POST",
      body: body,
      credentials: "same-origin",
      headers: { "X-CSRFToken": data.csrfToken }
    });
    var answer = await response.json().catch(function () { return {}; });
    if (answer.redirect) { window.location.assign(answer.redirect); return; }
    // Too many attempts (429): the card set up is kept for the next try, after the wait.
    if (response.status === 429 && !answer.client_secret) { keptSetupIntent = setupIntentId; }
    if (answer.client_secret) { clientSecret = answer.client_secret; }
    fail(answer.error);
  }

  form.addEventListener("submit", function (event) {
    submit(event).catch(function () { fail(); });
  });
})();
