"""Card testing (issue 15 point 3; issue 17 point 8): one SetupIntent per payment attempt,
reused on every visit of the card page; card attempts limited per address (generous), per
donation or monthly gift and per card (strict); refused forms do not count against the
donor; a 429 keeps the donor's form and says when to retry; giving to a fund is limited.
Real Stripe SDK against localstripe, real Flask-Limiter."""

from __future__ import annotations

import re

from charity.extensions import db
from tests.support.factories import CampaignFactory, FundFactory
from tests.support.gifts import give_monthly
from tests.support.payments import browser_sets_up_card, give, pay
from tests.support.security import client_from

DECLINED = "4000000000000341"


def _secret(page) -> str:  # type: ignore[no-untyped-def]
    assert page.status_code == 200, page.get_data(as_text=True)[:500]
    return page.get_data(as_text=True).split('data-client-secret="')[1].split('"')[0]


def test_the_card_page_shown_again_creates_no_new_setup_intent(donating):
    client = client_from(donating(), "198.51.100.11")
    donation = give(client, CampaignFactory())
    secrets = {_secret(client.get(f"/donations/{donation.public_token}/pay")) for _ in range(5)}
    assert len(secrets) == 1
    db.session.refresh(donation)
    assert donation.stripe_setup_secret in secrets
    assert donation.stripe_payment_intent_id


def test_each_attempt_gets_its_own_setup_intent_and_still_succeeds(donating):
    client = client_from(donating(), "198.51.100.12")
    donation = give(client, CampaignFactory())
    first = _secret(client.get(f"/donations/{donation.public_token}/pay"))
    declined = pay(client, donation, DECLINED)
    assert declined.status_code == 402
    second = declined.json["client_secret"]
    assert second != first
    assert _secret(client.get(f"/donations/{donation.public_token}/pay")) == second
    assert pay(client, donation).json["status"] == "succeeded"


def test_monthly_card_page_reuses_its_setup_intent(donating):
    client = client_from(donating(), "198.51.100.13")
    gift = give_monthly(client, CampaignFactory())
    pages = {_secret(client.get(f"/monthly/{gift.public_token}/pay")) for _ in range(4)}
    assert len(pages) == 1


def test_monthly_confirm_has_an_attempt_limit_per_gift(donating):
    app = donating(RATELIMIT_PAYMENT_DONATION="3 per hour")
    gift = give_monthly(client_from(app, "198.51.100.14"), CampaignFactory())
    for n in range(3):  # three attempts, each from another address: the gift is the key
        answer = client_from(app, f"198.51.100.{20 + n}").post(
            f"/monthly/{gift.public_token}/confirm", data={"setup_intent": "seti_made_up"}
        )
        assert answer.status_code in (400, 402, 502), answer.status_code
    answer = client_from(app, "198.51.100.30").post(
        f"/monthly/{gift.public_token}/confirm", data={"setup_intent": "seti_made_up"}
    )
    assert answer.status_code == 429
    assert answer.json["status"] == "limited" and answer.json["retry_after"] > 0
    assert re.search(r"\d+ (minutes|分钟)", answer.json["error"])
    assert int(answer.headers["Retry-After"]) > 0


def test_one_donation_tried_from_many_addresses_is_cut_off(donating):
    app = donating(RATELIMIT_PAYMENT_DONATION="2 per hour")
    donation = give(client_from(app, "198.51.100.40"), CampaignFactory())
    for n in range(2):
        assert pay(client_from(app, f"198.51.100.{41 + n}"), donation, DECLINED).status_code == 402
    answer = client_from(app, "198.51.100.49").post(
        f"/donations/{donation.public_token}/confirm", data={"setup_intent": "seti_x"}
    )
    assert answer.status_code == 429 and answer.json["status"] == "limited"


def test_one_card_tried_on_many_donations_is_cut_off_other_cards_still_work(donating):
    app = donating(RATELIMIT_PAYMENT_CARD="2 per hour")
    campaign = CampaignFactory()
    for n in range(2):
        client = client_from(app, f"198.51.100.{60 + n}")
        donation = give(client, campaign, donor_email=f"d{n}@example.org")
        assert pay(client, donation, DECLINED).status_code == 402
    client = client_from(app, "198.51.100.70")
    donation = give(client, campaign, donor_email="d9@example.org")
    limited = pay(client, donation, DECLINED)
    assert limited.status_code == 429
    assert limited.json["status"] == "limited"
    # the donor may try another card at once, with the SetupIntent the answer carries
    seti = browser_sets_up_card("", limited.json["client_secret"], "4242424242424242")
    answer = client.post(f"/donations/{donation.public_token}/confirm", data={"setup_intent": seti})
    assert answer.json["status"] == "succeeded"


def test_refused_forms_do_not_count_against_the_donor(donating):
    app = donating(RATELIMIT_DONATION_IP="1 per hour", RATELIMIT_DONATION_EMAIL="1 per hour")
    client = client_from(app, "198.51.100.80")
    campaign = CampaignFactory()
    for _ in range(3):  # a missing name, three times: the form is refused, nothing counted
        refused = client.post(
            f"/campaigns/{campaign.id}/donate",
            data={"amount": "8800", "donor_name": "", "donor_email": "donor@example.org"},
        )
        assert refused.status_code == 400
    give(client, campaign, donor_email="donor@example.org")


def test_a_429_keeps_the_donors_form_and_says_when_to_retry(donating):
    app = donating(RATELIMIT_DONATION_EMAIL="1 per hour")
    campaign = CampaignFactory()
    give(client_from(app, "198.51.100.90"), campaign, donor_email="same@example.org")
    answer = client_from(app, "198.51.100.91").post(
        f"/campaigns/{campaign.id}/donate",
        data={
            "amount": "custom",
            "custom_amount": "66",
            "donor_name": "张保留",
            "donor_email": "same@example.org",
            "message": "留言不丢",
        },
    )
    assert answer.status_code == 429
    assert int(answer.headers["Retry-After"]) > 0
    page = answer.get_data(as_text=True)
    assert "张保留" in page and "留言不丢" in page and 'value="66"' in page
    assert re.search(r"try again in \d+ minutes|\d+ 分钟后", page)


def test_giving_to_a_fund_is_rate_limited(donating):
    app = donating(RATELIMIT_DONATION_EMAIL="1 per hour")
    fund = FundFactory()
    data = {"amount": "8800", "donor_name": "王小明", "donor_email": "fund@example.org"}
    first = client_from(app, "198.51.100.100").post(f"/funds/{fund.id}/donate", data=data)
    assert first.status_code == 302, first.get_data(as_text=True)[:300]
    again = client_from(app, "198.51.100.101").post(f"/funds/{fund.id}/donate", data=data)
    assert again.status_code == 429
    assert "王小明" in again.get_data(as_text=True)


def test_donors_behind_one_proxy_do_not_share_a_limit(donating):
    """Behind the documented proxy (TRUSTED_PROXIES=1) each donor is their own client."""
    app = donating(TRUSTED_PROXIES=1, RATELIMIT_DONATION_IP="1 per hour")
    campaign = CampaignFactory()
    for n in range(3):
        client = client_from(app, "10.0.0.2")  # the proxy
        client.environ_base["HTTP_X_FORWARDED_FOR"] = f"203.0.113.{n + 1}"
        give(client, campaign, donor_email=f"p{n}@example.org")
    client = client_from(app, "10.0.0.2")
    client.environ_base["HTTP_X_FORWARDED_FOR"] = "203.0.113.1"
    answer = client.post(
        f"/campaigns/{campaign.id}/donate",
        data={"amount": "8800", "donor_name": "再来", "donor_email": "p9@example.org"},
    )
    assert answer.status_code == 429
