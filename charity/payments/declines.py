"""Our own words for a declined or refused card, keyed by the provider's code.

A donor never reads the provider's English text: Stripe's ``message`` is dropped at the
boundary (charity/payments/stripe.py) and the code chooses a msgid from this catalog,
which the page translates with ``_()``. Stripe.js errors in the browser use the same
catalog (``browser_messages``), so the card form speaks the page's language too.
"""

from __future__ import annotations

from flask_babel import get_locale, gettext

from charity.web.i18n import N_

GENERIC = N_("Your bank declined the card.")

#: Stripe's ``decline_code`` (or ``code`` when there is none) -> msgid.
MESSAGES: dict[str, str] = {
    "card_declined": GENERIC,
    "generic_decline": GENERIC,
    "do_not_honor": GENERIC,
    "lost_card": GENERIC,
    "stolen_card": GENERIC,
    "fraudulent": GENERIC,
    "pickup_card": GENERIC,
    "restricted_card": GENERIC,
    "security_violation": GENERIC,
    "call_issuer": N_("Your bank declined the card; please call the bank or use another card."),
    "insufficient_funds": N_("The card does not have enough funds."),
    "card_velocity_exceeded": N_("The card has reached its spending limit."),
    "withdrawal_count_limit_exceeded": N_("The card has reached its spending limit."),
    "expired_card": N_("The card has expired."),
    "incorrect_cvc": N_("The card's security code (CVC) is incorrect."),
    "invalid_cvc": N_("The card's security code (CVC) is incorrect."),
    "incomplete_cvc": N_("The card's security code (CVC) is incomplete."),
    "incorrect_number": N_("The card number is incorrect."),
    "invalid_number": N_("The card number is incorrect."),
    "incomplete_number": N_("The card number is incomplete."),
    "invalid_expiry_month": N_("The card's expiry date is incorrect."),
    "invalid_expiry_year": N_("The card's expiry date is incorrect."),
    "invalid_expiry_year_past": N_("The card's expiry date is in the past."),
    "incomplete_expiry": N_("The card's expiry date is incomplete."),
    "incomplete_zip": N_("The postal code is incomplete."),
    "incorrect_zip": N_("The postal code does not match the card."),
    "processing_error": N_("The card could not be processed. Please try again."),
    "authentication_required": N_(
        "Your bank asks you to confirm this payment; please try again and complete the check."
    ),
    "payment_intent_authentication_failure": N_(
        "The payment was not confirmed with your bank. Please try again."
    ),
    "setup_intent_authentication_failure": N_(
        "The payment was not confirmed with your bank. Please try again."
    ),
    "card_not_supported": N_("This card cannot be used for this payment."),
    "currency_not_supported": N_("This card cannot be used for this payment."),
    "transaction_not_allowed": N_("This card cannot be used for this payment."),
    "not_permitted": N_("This card cannot be used for this payment."),
    "try_again_later": N_("The card could not be processed. Please try again."),
}

#: A wallet order that did not end in a payment, by its (normalized) state.
WALLET_MESSAGES: dict[str, str] = {
    "failed": N_("The payment did not go through."),
    "closed": N_("The payment was closed before it was paid."),
}


def decline_message(*codes: str | None) -> str:
    """The msgid for the first known code (``decline_code`` first, then ``code``)."""
    for code in codes:
        if code and code in MESSAGES:
            return MESSAGES[code]
    return GENERIC


def known_messages() -> set[str]:
    return set(MESSAGES.values()) | set(WALLET_MESSAGES.values()) | {GENERIC}


def browser_messages(translate) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """The catalog translated for the card form's Stripe.js errors (code -> text)."""
    return {code: translate(message) for code, message in MESSAGES.items()}


def card_form_language() -> dict[str, object]:
    """Stripe.js's locale and our decline texts for the card form (static/js/donate.js);
    a template global (charity.payments.init_app)."""
    locale = get_locale()
    return {
        "locale": "zh" if locale is not None and locale.language == "zh" else "en",
        "messages": {**browser_messages(gettext), "": gettext(GENERIC)},
    }
