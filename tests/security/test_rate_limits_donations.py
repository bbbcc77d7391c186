"""Card-testing protection: donation creation is limited per address and per email, card
attempts per address; a donor who mistypes a card twice still gives."""

from __future__ import annotations

from tests.support.factories import CampaignFactory
from tests.support.payments import give, pay
from tests.support.security import STRICT, client_from

DECLINED = "4000000000000341"


def test_two_declined_cards_then_success_even_under_strict_limits(donating):
    client = client_from(donating(**STRICT), "198.51.100.1")
    donation = give(client, CampaignFactory())  # the one creation allowed this hour
    assert pay(client, donation, DECLINED).status_code == 402
    assert pay(client, donation, DECLINED).status_code == 402
    response = pay(client, donation)
    assert response.status_code == 200 and response.json["status"] == "succeeded"


def test_honest_retries_are_far_below_the_default_limits(donating):
    client = client_from(donating(), "198.51.100.2")
    campaign = CampaignFactory()
    for _ in range(2):  # gives twice, once after two declines
        donation = give(client, campaign)
        for _ in range(2):
            assert pay(client, donation, DECLINED).status_code == 402
        assert pay(client, donation).status_code == 200


def test_a_second_creation_from_the_same_address_is_refused(donating):
    campaign = CampaignFactory()
    client = client_from(donating(**STRICT), "198.51.100.3")
    give(client, campaign)
    response = client.post(
        f"/campaigns/{campaign.id}/donate",
        data={"amount": "8800", "donor_name": "别人", "donor_email": "other@example.org"},
    )
    assert response.status_code == 429
    assert int(response.headers["Retry-After"]) > 0
    assert "text/html" in response.headers["Content-Type"]


def test_the_same_email_from_another_address_is_refused(donating):
    app = donating(**STRICT)
    campaign = CampaignFactory()
    give(client_from(app, "198.51.100.4"), campaign, donor_email="tester@example.org")
    response = client_from(app, "198.51.100.5").post(
        f"/campaigns/{campaign.id}/donate",
        data={"amount": "8800", "donor_name": "测试", "donor_email": " Tester@Example.org "},
    )
    assert response.status_code == 429


def test_card_testing_on_one_donation_is_cut_off(donating):
    client = client_from(donating(**STRICT), "198.51.100.6")
    donation = give(client, CampaignFactory())
    for _ in range(3):
        assert pay(client, donation, DECLINED).status_code == 402
    response = client.post(
        f"/donations/{donation.public_token}/confirm", data={"setup_intent": "seti_x"}
    )
    assert response.status_code == 429
