"""Charity Law (2023) art. 82 and the PIPL (issue 16 point 17): identity-card
numbers and phone numbers of individuals are refused in every disclosure text and in the
text of attachments, with a clear error naming the field; nothing is published."""

from __future__ import annotations

from datetime import date

import pytest
from fpdf import FPDF
from sqlalchemy import func, select

from charity.extensions import db
from charity.models.disclosure import Disclosure
from charity.services import disclosures as service
from tests.support.compliance import CAMPAIGN_FIGURES, make_campaign, make_org, member

ID_NUMBER = "44010619850312001X"  # the shape of a resident ID number (not a real person's)
MOBILE = "138 1234 5678"


def _pdf(text: str) -> bytes:
    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("helvetica", size=12)
    pdf.multi_cell(0, 8, text=text)
    return bytes(pdf.output())


def _publish(app, org, campaign, title="进展", body="", attachments=(), **fields):  # type: ignore[no-untyped-def]
    command = service.PublishDisclosure(
        org.id, "campaign_result", f"campaign:{campaign.id}", "result", title, body,
        {**CAMPAIGN_FIGURES, "implementation": "完成", **fields}, attachments,
    )  # fmt: skip
    owner = member(org, "owner")
    return service.publish_disclosure(db.session, owner, command, app.config["UPLOAD_DIR"])


@pytest.mark.parametrize(
    ("where", "field"),
    [
        ({"title": f"受助人 {ID_NUMBER}"}, "title"),
        ({"body": f"受助学生家长电话 {MOBILE}"}, "body_md"),
        ({"implementation": f"资助对象身份证号 {ID_NUMBER.lower()}"}, "implementation"),
        ({"use_summary": "联系受助人 +86 13812345678"}, "use_summary"),
    ],
)
def test_cl82_personal_numbers_in_a_text_are_refused_naming_the_field(
    app, db_session, where, field
):
    org = make_org()
    campaign = make_campaign(org, date(2025, 3, 1), date(2025, 4, 1))
    with pytest.raises(service.DisclosureError) as caught:
        _publish(app, org, campaign, **where)
    assert caught.value.field == field
    assert db_session.scalar(select(func.count()).select_from(Disclosure)) == 0


def test_cl82_personal_numbers_in_an_attachment_are_refused(app, db_session):
    org = make_org()
    campaign = make_campaign(org, date(2025, 3, 1), date(2025, 4, 1))
    upload = service.Upload("名单.pdf", _pdf(f"Beneficiary list: Wang, ID {ID_NUMBER}"))
    with pytest.raises(service.DisclosureError) as caught:
        _publish(app, org, campaign, attachments=(upload,))
    assert caught.value.field == "attachments"
    assert "名单.pdf" in str(caught.value.message)
    phone = service.Upload("phones.pdf", _pdf(f"Call the family at {MOBILE}"))
    with pytest.raises(service.DisclosureError):
        _publish(app, org, campaign, attachments=(phone,))
    assert db_session.scalar(select(func.count()).select_from(Disclosure)) == 0
    # Amounts, dates and filing numbers are not personal data.
    clean = service.Upload("账目.pdf", _pdf("Total 123,456.78 yuan on 2025-04-01, No. 20250401"))
    _publish(app, org, campaign, body="共资助 128 名学生，金额 123456.78 元", attachments=(clean,))


def test_cl82_the_organization_may_publish_its_own_switchboard_in_basic_information(
    app, db_session
):
    org = make_org()
    owner = member(org, "owner")
    fields = {"charter_summary": "章程", "board": "理事会", "supervisors": "监事"}
    command = service.PublishDisclosure(
        org.id, "basic_info", "org", "registration", "基本信息", "",
        {**fields, "contacts": "020-83331234"},
    )  # fmt: skip
    service.publish_disclosure(db.session, owner, command, app.config["UPLOAD_DIR"])
    # ... but not an identity-card number there either.
    other = make_org()
    command = service.PublishDisclosure(
        other.id, "basic_info", "org", "registration", "基本信息", "",
        {**fields, "contacts": f"张三 {ID_NUMBER}"},
    )  # fmt: skip
    with pytest.raises(service.DisclosureError) as caught:
        service.publish_disclosure(
            db.session, member(other, "owner"), command, app.config["UPLOAD_DIR"]
        )
    assert caught.value.field == "contacts"
