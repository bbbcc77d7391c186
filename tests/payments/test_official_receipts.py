"""The finance bureau's receipt (issue 17 point 5): a company donor gives its USCC and
invoice title; the organization records the 财政电子票据 it issued (one by one, or by a CSV
import that records all rows or none); the donor sees and downloads it."""

from __future__ import annotations

import io
import zipfile

import pytest
import sqlalchemy as sa

from charity.extensions import db
from charity.models import AuditEntry, Donation, OfficialReceipt
from tests.support.factories import MembershipFactory, log_in, make_uscc
from tests.support.payments import give, pay

COMPANY_USCC = make_uscc("1", 4242)  # a valid check digit
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def _ofd() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("OFD.xml", "<ofd:OFD xmlns:ofd='http://www.ofdspec.org/2016'/>")
    return buffer.getvalue()


def _paid_gift(client, campaign, **fields) -> Donation:  # type: ignore[no-untyped-def]
    donation = give(client, campaign, **fields)
    assert pay(client, donation).json["status"] == "succeeded"
    return donation


def _finance(campaign):  # type: ignore[no-untyped-def]
    return MembershipFactory(organization=campaign.organization, role="finance").user


def test_a_company_gives_its_uscc_and_invoice_title(client, campaign):
    donation = give(
        client, campaign, company_uscc=COMPANY_USCC.lower(), invoice_title="示例科技有限公司"
    )
    assert (donation.donor_uscc, donation.invoice_title) == (COMPANY_USCC, "示例科技有限公司")


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        (
            {
                "company_uscc": COMPANY_USCC[:-1] + ("0" if COMPANY_USCC[-1] != "0" else "1"),
                "invoice_title": "示例科技有限公司",
            },
            "not a valid unified social credit code",
        ),
        ({"company_uscc": "", "invoice_title": "示例科技有限公司"}, "Enter the company"),
        ({"company_uscc": COMPANY_USCC, "invoice_title": ""}, "Enter the name the bill"),
    ],
)
def test_a_wrong_company_entry_is_a_field_error_and_stores_nothing(
    client, campaign, fields, message
):
    data = {"amount": "8800", "donor_name": "王", "donor_email": "a@b.cn", **fields}
    response = client.post(f"/campaigns/{campaign.id}/donate", data=data)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Donation)) == 0


def test_the_organization_records_a_bill_and_the_donor_downloads_it(client, campaign):
    donation = _paid_gift(
        client, campaign, company_uscc=COMPANY_USCC, invoice_title="示例科技有限公司"
    )
    waiting = client.get(f"/donations/{donation.public_token}").get_data(as_text=True)
    assert "once the charity has recorded it" in waiting and "示例科技有限公司" in waiting
    log_in(client, _finance(campaign))
    org = campaign.organization.id
    listing = client.get(f"/orgs/{org}/official-receipts").get_data(as_text=True)
    assert "示例科技有限公司" in listing and donation.receipt_number in listing
    url = f"/orgs/{org}/official-receipts/{donation.id}"
    bad = client.post(
        url,
        data={
            "bill_code": "4401",
            "bill_number": "0000012345",
            "check_code": "A1B2C3",
            "issued_on": "2026-03-01",
        },
    )
    assert bad.status_code == 400 and "The bill code is 8 digits." in bad.get_data(as_text=True)
    image = client.post(
        url,
        data={
            "bill_code": "44010126",
            "bill_number": "0000012345",
            "check_code": "a1b2c3",
            "issued_on": "2026-03-01",
            "file": (io.BytesIO(b"\x89PNG\r\n\x1a\n" + b"0" * 20), "b.png"),
        },
    )
    assert image.status_code == 400 and "PDF or OFD" in image.get_data(as_text=True)
    good = client.post(
        url,
        data={
            "bill_code": "44010126",
            "bill_number": "0000012345",
            "check_code": "a1b2c3",
            "issued_on": "2026-03-01",
            "file": (io.BytesIO(PDF), "bill.pdf"),
        },
    )
    assert good.status_code == 303
    bill = db.session.scalars(sa.select(OfficialReceipt)).one()
    assert (bill.donation_id, bill.check_code, bill.file_type) == (
        donation.id,
        "A1B2C3",
        "application/pdf",
    )
    entry = db.session.scalars(
        sa.select(AuditEntry).where(AuditEntry.event_type == "donation.official_receipt_recorded")
    ).one()
    assert '"bill_number":"0000012345"' in entry.payload and "A1B2C3" not in entry.payload
    page = client.get(f"/donations/{donation.public_token}").get_data(as_text=True)
    assert "44010126" in page and "0000012345" in page and "A1B2C3" in page
    download = client.get(f"/donations/{donation.public_token}/official-receipt")
    assert download.status_code == 200 and download.data == PDF
    assert download.headers["Content-Disposition"].startswith("attachment")
    again = client.post(
        url,
        data={
            "bill_code": "44010126",
            "bill_number": "0000099999",
            "check_code": "a1b2c3",
            "issued_on": "2026-03-01",
        },
    )
    assert db.session.scalar(sa.select(sa.func.count()).select_from(OfficialReceipt)) == 1
    assert again.status_code == 400


def test_an_ofd_bill_is_accepted(client, campaign):
    donation = _paid_gift(client, campaign)
    log_in(client, _finance(campaign))
    response = client.post(
        f"/orgs/{campaign.organization.id}/official-receipts/{donation.id}",
        data={
            "bill_code": "44010126",
            "bill_number": "0000000001",
            "check_code": "ZZZ999",
            "issued_on": "2026-03-02",
            "file": (io.BytesIO(_ofd()), "bill.ofd"),
        },
    )
    assert response.status_code == 303
    download = client.get(f"/donations/{donation.public_token}/official-receipt")
    assert download.status_code == 200 and download.mimetype == "application/ofd"


def _csv(*rows: str) -> tuple[io.BytesIO, str]:
    text = "凭证编号,票据代码,票据号码,校验码,开票日期\n" + "\n".join(rows) + "\n"
    return io.BytesIO(text.encode("utf-8-sig")), "bills.csv"


def test_a_csv_import_records_every_row_or_none(client, campaign):
    first, second = _paid_gift(client, campaign), _paid_gift(client, campaign)
    log_in(client, _finance(campaign))
    url = f"/orgs/{campaign.organization.id}/official-receipts/import"
    refused = client.post(
        url,
        data={
            "csv_file": _csv(
                f"{first.receipt_number},44010126,0000000010,AAAAAA,2026-03-01",
                f"{second.receipt_number},44010126,123,BBBBBB,2026-03-01",
                "NO-SUCH-1,44010126,0000000012,CCCCCC,2026-03-01",
                f"{first.receipt_number},44010126,0000000013,DDDDDD,2026/03/01",
            )
        },
    )
    html = refused.get_data(as_text=True)
    assert refused.status_code == 400
    assert "Row 3: The bill number is 10 digits." in html
    assert "Row 4: No gift to this organization has voucher number NO-SUCH-1." in html
    assert "Row 5: The same gift is also on row 2." in html
    assert db.session.scalar(sa.select(sa.func.count()).select_from(OfficialReceipt)) == 0
    done = client.post(
        url,
        data={
            "csv_file": _csv(
                f"{first.receipt_number},44010126,0000000010,AAAAAA,2026-03-01",
                f"{second.receipt_number},44010126,0000000011,BBBBBB,2026/03/01",
            )
        },
    )
    assert done.status_code == 303
    assert db.session.scalar(sa.select(sa.func.count()).select_from(OfficialReceipt)) == 2
    missing = client.post(url, data={"csv_file": (io.BytesIO("票据代码\n1\n".encode()), "x.csv")})
    assert missing.status_code == 400 and "Column 凭证编号 is missing." in missing.get_data(
        as_text=True
    )


def test_another_organization_cannot_record_a_bill(client, campaign):
    donation = _paid_gift(client, campaign)
    outsider = MembershipFactory(role="finance").user
    log_in(client, outsider)
    response = client.post(
        f"/orgs/{outsider.memberships[0].organization_id}/official-receipts/{donation.id}",
        data={
            "bill_code": "44010126",
            "bill_number": "0000000001",
            "check_code": "ZZZ999",
            "issued_on": "2026-03-02",
        },
    )
    assert response.status_code == 404
    assert db.session.scalar(sa.select(sa.func.count()).select_from(OfficialReceipt)) == 0


@pytest.mark.chinese
def test_the_bill_pages_speak_chinese_only(client, campaign):
    from tests.support.pages import PageText, problems_in_text

    with client.session_transaction() as session:
        session["lang"] = "zh_Hans_CN"
    donation = _paid_gift(
        client, campaign, company_uscc=COMPANY_USCC, invoice_title="示例科技有限公司"
    )
    log_in(client, _finance(campaign))
    org = campaign.organization.id
    client.post(
        f"/orgs/{org}/official-receipts/{donation.id}",
        data={
            "bill_code": "44010126",
            "bill_number": "0000012345",
            "check_code": "A1B2C3",
            "issued_on": "2026-03-01",
            "file": (io.BytesIO(PDF), "bill.pdf"),
        },
    )
    for url in (
        f"/donations/{donation.public_token}",
        f"/orgs/{org}/official-receipts",
        f"/orgs/{org}/official-receipts/{donation.id}",
        f"/campaigns/{campaign.id}/donate",
        "/account/gifts",
    ):
        page = PageText()
        page.feed(client.get(url).get_data(as_text=True))
        text = " ".join(page.text)
        assert not problems_in_text(text), (url, problems_in_text(text))
    html = client.get(f"/donations/{donation.public_token}").get_data(as_text=True)
    assert "财政电子票据" in html and "下载票据（PDF）" in html and "捐赠电子凭证" in html
