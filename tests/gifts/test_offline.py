"""Offline gifts: bank transfers and cash boxes with evidence checked by content."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
import time_machine

from charity.extensions import db
from charity.models import AuditEntry, Donation, OfflineGiftDetail
from charity.services import ledger
from tests.support.factories import MembershipFactory
from tests.support.gifts import post_offline as _post
from tests.support.gifts import real_pdf, real_png


def _offline(campaign) -> list[Donation]:  # type: ignore[no-untyped-def]
    return list(
        db.session.scalars(
            sa.select(Donation).where(
                Donation.campaign_id == campaign.id,
                Donation.channel.in_(("bank_transfer", "cash_box")),
            )
        )
    )


def test_bank_transfer_is_recorded_posted_logged_and_shown(client, setting, app):
    campaign = setting
    pdf = real_pdf()

    response = _post(client, campaign, pdf)

    assert response.status_code == 303, response.get_data(as_text=True)
    [gift] = _offline(campaign)
    assert gift.status == "succeeded" and gift.amount_fen == 123450
    assert gift.receipt_number and gift.donor_name == "深圳某某科技有限公司"
    detail = db.session.get(OfflineGiftDetail, gift.id)
    assert detail.bank_reference == "CMB20261120-0042" and detail.evidence_size == len(pdf)
    entry = db.session.scalar(
        sa.select(AuditEntry).where(
            AuditEntry.event_type == "donation.succeeded", AuditEntry.subject_id == gift.id
        )
    )
    assert entry is not None and "bank_transfer" in entry.payload
    assert "深圳某某" not in entry.payload and "payer.example" not in entry.payload
    assert ledger.campaign_raised_fen(db.session, campaign.id) == 123450
    assert ledger.check_books(db.session)[0] == []
    page = client.get(f"/campaigns/{campaign.id}").get_data(as_text=True)
    assert "offline gift" in page and "1,234.50" in page

    download = client.get(f"/orgs/{campaign.organization_id}/offline-gifts/{gift.id}/evidence")
    assert download.status_code == 200 and download.data == pdf
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    assert download.headers["Content-Disposition"].startswith("attachment;")
    assert download.mimetype == "application/pdf"
    stored = Path(app.config["UPLOAD_DIR"]) / detail.evidence_sha256[:2] / detail.evidence_sha256
    assert stored.read_bytes() == pdf


def test_bank_transfer_with_payer_email_and_receipt_wanted_mails_the_receipt(
    client, setting, mail_outbox, app, monkeypatch
):
    """Issue 19: the receipt number was assigned but no mail went out (the view used a plain
    commit); now the service queues the receipt mail and the unit of work sends it."""
    monkeypatch.setitem(app.config, "RECEIPT_EMAIL_PDF", True)
    response = _post(client, setting, real_pdf())

    assert response.status_code == 303, response.get_data(as_text=True)
    [gift] = _offline(setting)
    [mail] = [m for m in mail_outbox if m["To"] == "finance@payer.example"]
    assert gift.receipt_number
    assert gift.receipt_number in mail.get_body(("plain",)).get_content()
    [pdf] = [
        part for part in mail.iter_attachments() if part.get_content_type() == "application/pdf"
    ]
    assert pdf.get_filename() == f"receipt-{gift.receipt_number}.pdf"


def test_bank_transfer_without_receipt_wanted_sends_no_mail(client, setting, mail_outbox):
    response = _post(client, setting, real_pdf(), receipt_wanted="")

    assert response.status_code == 303, response.get_data(as_text=True)
    [gift] = _offline(setting)
    assert gift.receipt_number is None
    assert mail_outbox == []


def test_refused_offline_gift_sends_no_mail(client, setting, mail_outbox):
    response = _post(client, setting, b"not a pdf at all", name="slip.pdf")

    assert response.status_code == 422
    assert _offline(setting) == [] and mail_outbox == []


def test_cash_box_counted_by_two(client, setting):
    campaign = setting
    fields = {
        "kind": "cash_box",
        "payer_name": "",
        "bank_reference": "",
        "donor_email": "",
        "receipt_wanted": "",
        "event_name": "公益墟日",
        "place": "南山区海岸城广场",
        "counted_by_1": "张三",
        "counted_by_2": "张三",
    }
    same = _post(client, campaign, real_png(), "count.png", **fields)
    assert same.status_code == 422 and "two different people" in same.get_data(as_text=True)
    assert _offline(campaign) == []

    response = _post(
        client, campaign, real_png(), "count.png", **{**fields, "counted_by_2": "李四"}
    )

    assert response.status_code == 303
    [gift] = _offline(campaign)
    assert gift.channel == "cash_box" and gift.receipt_number is None and gift.donor_name is None
    assert ledger.check_books(db.session)[0] == []


@pytest.mark.parametrize(
    ("evidence", "name"),
    [
        (b"%PDF-1.4 this is not really a pdf", "fake.pdf"),
        (b"<html><script>alert(1)</script></html>", "slip.pdf"),
        (real_png()[:40], "cut.png"),
        (b"\xff\xd8\xff\xe0 not a jpeg", "photo.jpg"),
        (b"", "empty.pdf"),
    ],
)
def test_evidence_that_is_not_a_pdf_or_image_is_refused(client, setting, app, evidence, name):
    campaign = setting

    response = _post(client, campaign, evidence, name)

    assert response.status_code in (400, 422)
    html = response.get_data(as_text=True)
    assert "not really a PDF or an image" in html or "PDF or an image" in html or "empty" in html
    assert _offline(campaign) == []
    assert not list(Path(app.config["UPLOAD_DIR"]).glob("*/*"))


def test_only_finance_members_record(client, setting, login):
    campaign = setting
    login(None)
    assert _post(client, campaign, real_pdf()).status_code in (302, 401, 403)
    outsider = MembershipFactory(role="finance")  # another organization
    login(outsider.user)
    assert _post(client, campaign, real_pdf()).status_code == 403
    assert _offline(campaign) == []


def test_finance_pages_list_gifts_with_evidence_and_reverse_links(client, setting):
    campaign = setting
    org = campaign.organization_id
    assert client.get(f"/orgs/{org}/offline-gifts/new").status_code == 200
    assert client.get(f"/orgs/{org}/in-kind-gifts/new").status_code == 200
    assert _post(client, campaign, real_pdf()).status_code == 303
    [gift] = _offline(campaign)

    page = client.get(f"/orgs/{org}/offline-gifts")

    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "CMB20261120-0042" in html and f"/offline-gifts/{gift.id}/evidence" in html
    assert f"/gifts/{gift.id}/reverse" in html
    assert client.get(f"/orgs/{org}/gifts/{gift.id}/reverse").status_code == 200


def test_a_gift_received_on_new_years_day_in_china_is_not_in_the_future(client, setting):
    """00:30 on Jan 1 in China is still Dec 31 on a server that keeps UTC: the date check
    compares with the China-time date (charity.core.clock.today_cst), not the server's."""
    with time_machine.travel(datetime(2026, 12, 31, 16, 30, tzinfo=UTC)):
        tomorrow = _post(client, setting, real_pdf(), received_on="2027-01-02")
        assert tomorrow.status_code == 422 and _offline(setting) == []
        today = _post(client, setting, real_pdf(), received_on="2027-01-01")
    assert today.status_code == 303, today.get_data(as_text=True)
    [gift] = _offline(setting)
    assert gift.status == "succeeded"
