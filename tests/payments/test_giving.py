"""Giving end to end with the real Stripe SDK against localstripe."""

from __future__ import annotations

import subprocess

import pytest
import sqlalchemy as sa

from charity.extensions import db
from charity.models import Donation, LedgerTransaction
from charity.services.ledger import campaign_raised_fen
from tests.support.payments import give, pay

DECLINED = "4000000000000341"


def test_happy_path_succeeds_with_ledger_receipt_and_email(client, campaign, mail_outbox, pdf_mail):
    donation = give(client, campaign)
    assert donation.status == "pending"
    assert donation.stripe_payment_intent_id.startswith("pi_")

    response = pay(client, donation)

    assert response.status_code == 200
    assert response.json["status"] == "succeeded"
    assert donation.status == "succeeded"
    assert donation.amount_fen == 8800
    assert donation.receipt_number.endswith(f"-{donation.succeeded_at.year}-000001")
    assert campaign_raised_fen(db.session, campaign.id) == 8800
    assert len(mail_outbox) == 1
    attachment = next(mail_outbox[0].iter_attachments())
    assert attachment.get_content_type() == "application/pdf"
    page = client.get(f"/donations/{donation.public_token}")
    html = page.get_data(as_text=True)
    assert donation.receipt_number in html
    assert donation.commitment_salt in html
    assert campaign.organization.uscc in html
    # The public log entry and its page (inclusion proof) are linked from the receipt.
    assert donation.log_index is not None
    assert f'href="/log/{donation.log_index}"' in html


def test_decline_then_retry_makes_one_donation(client, campaign):
    donation = give(client, campaign)
    first_intent = donation.stripe_payment_intent_id

    declined = pay(client, donation, DECLINED)

    assert declined.status_code == 402
    assert "declined" in declined.json["error"]
    assert declined.json["client_secret"].startswith("seti_")
    assert donation.status == "pending"
    assert donation.failure_message

    retried = pay(client, donation)

    assert retried.json["status"] == "succeeded"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Donation)) == 1
    assert donation.status == "succeeded"
    assert donation.stripe_payment_intent_id != first_intent  # replaced, same donation
    assert db.session.scalar(sa.select(sa.func.count()).select_from(LedgerTransaction)) == 1
    assert campaign_raised_fen(db.session, campaign.id) == 8800


def test_return_page_applies_success_once(client, campaign):
    donation = give(client, campaign)
    pay(client, donation)
    for _ in range(3):
        assert client.get(f"/donations/{donation.public_token}").status_code == 200
    assert db.session.scalar(sa.select(sa.func.count()).select_from(LedgerTransaction)) == 1


def test_custom_amount_and_anonymous_gift(client, campaign):
    donation = give(
        client, campaign, amount="custom", custom_amount="１２３.４５", name_display="anonymous"
    )
    assert donation.amount_fen == 12345
    assert donation.is_anonymous and donation.public_name is None


def test_waived_receipt_recorded_without_number(client, campaign, mail_outbox):
    donation = give(client, campaign, receipt_wanted="")
    pay(client, donation)
    assert donation.status == "succeeded"
    assert donation.receipt_waived and donation.receipt_number is None
    assert not list(mail_outbox[0].iter_attachments())


@pytest.mark.parametrize(
    "typed",
    ["0", "-5", "abc", "1.234", "0.5", "50000.01", "1e3", "", "NaN", "１２３abc"],
)
def test_bad_amounts_are_field_errors_and_store_nothing(client, campaign, typed):
    response = client.post(
        f"/campaigns/{campaign.id}/donate",
        data={
            "amount": "custom",
            "custom_amount": typed,
            "donor_name": "王小明",
            "donor_email": "donor@example.org",
        },
    )
    assert response.status_code == 400
    assert 'class="error"' in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Donation)) == 0


def test_unknown_preset_and_control_characters_refused(client, campaign):
    for data in (
        {"amount": "1"},
        {"amount": "8800", "message": "hi\x07there"},
        {"amount": "8800", "message": "长" * 201},
    ):
        payload = {"donor_name": "王小明", "donor_email": "donor@example.org", **data}
        response = client.post(f"/campaigns/{campaign.id}/donate", data=payload)
        assert response.status_code == 400
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Donation)) == 0


def test_message_is_rendered_escaped(client, campaign):
    donation = give(client, campaign, message="<script>alert(1)</script>")
    pay(client, donation)
    html = client.get(f"/donations/{donation.public_token}").get_data(as_text=True)
    assert "<script>alert(1)" not in html
    assert "&lt;script&gt;" in html


def test_pay_page_uses_external_script_and_data_attributes(client, campaign, stripe_app):
    donation = give(client, campaign)
    html = client.get(f"/donations/{donation.public_token}/pay").get_data(as_text=True)
    assert "js/donate.js" in html
    assert 'data-client-secret="seti_' in html
    assert "<script>" not in html


@pytest.mark.chinese
def test_pdf_receipt_renders_chinese(client, campaign, tmp_path):
    """A 捐赠电子凭证 in one language: its name, the amount in 大写, the organization's
    address and USCC, the check address, and what it is not (issue 17.5)."""
    donation = give(client, campaign)
    pay(client, donation)
    response = client.get(f"/donations/{donation.public_token}/receipt.pdf")
    assert response.status_code == 200
    path = tmp_path / "receipt.pdf"
    path.write_bytes(response.data)
    text = subprocess.run(
        ["pdftotext", "-enc", "UTF-8", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout
    flat = text.replace("\n", "")
    assert "捐赠电子凭证" in text and "公益事业捐赠收据" not in text
    assert campaign.organization.name in text
    assert donation.receipt_number in text
    assert "¥88.00" in text and "捌拾捌元整" in text
    assert campaign.organization.uscc in text
    assert "/v/" + donation.receipt_number in flat  # the short check address
    assert "不是通过财政部门系统开具的公益事业捐赠统一票据" in flat
    assert "Receipt" not in text and "Amount" not in text


def test_pdf_without_cjk_font_is_503_not_500(client, campaign, stripe_app, tmp_path, monkeypatch):
    from charity.services import receipts

    donation = give(client, campaign)
    pay(client, donation)
    monkeypatch.setattr(receipts, "FONT_CANDIDATES", (str(tmp_path / "missing.ttc"),))
    monkeypatch.delenv("RECEIPT_FONT_PATH", raising=False)
    response = client.get(f"/donations/{donation.public_token}/receipt.pdf")
    assert response.status_code == 503
    assert client.get(f"/donations/{donation.public_token}").status_code == 200
