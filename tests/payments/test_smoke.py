from tests.payments.conftest import give, pay


def test_smoke(client, campaign, mail_outbox):
    donation = give(client, campaign)
    response = pay(client, donation)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert donation.status == "succeeded"
    print(donation.receipt_number, mail_outbox)
