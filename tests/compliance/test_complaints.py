"""Complaints (举报), issue 16 point 15. Source: Charity Law (2023 amendment) art. 108,
art. 97 in the 2016 numbering (anyone may complain about a charitable organization's or
trust's unlawful conduct to civil affairs; complaints are to be dealt with promptly).
The 5-working-day reply clock is this platform's commitment (docs/compliance.md), counted in Chinese
working days: the State Council's holiday notice, 调休 make-up days included."""

from __future__ import annotations

import io
from datetime import date

import pytest
import time_machine
from sqlalchemy import select

from charity.compliance.rules.dates import add_working_days
from charity.models import Complaint
from tests.support.compliance import cst_noon, login, make_campaign, make_org, make_pdf
from tests.support.factories import UserFactory

PERSONAL = ("王小明", "wang@example.org", "13812345678", "他们挪用了善款")


def test_reply_clock_counts_chinese_working_days_across_national_day():
    # 2026 国庆: Oct 1-7 off, Sat Oct 10 a make-up working day (调休).
    assert add_working_days(date(2026, 9, 30), 5) == date(2026, 10, 13)
    assert add_working_days(date(2026, 9, 28), 2) == date(2026, 9, 30)
    # an ordinary week: received Monday, due the next Monday
    assert add_working_days(date(2026, 11, 2), 5) == date(2026, 11, 9)
    # 春节 2026 (Feb 15-23 off; Sat Feb 14 and Sat Feb 28 make-up days)
    assert add_working_days(date(2026, 2, 13), 1) == date(2026, 2, 14)
    assert add_working_days(date(2026, 2, 14), 1) == date(2026, 2, 24)


def _send(client, org, **data):  # type: ignore[no-untyped-def]
    form = {"category": "misuse_of_funds", "body": PERSONAL[3], **data}
    return client.post(
        f"/orgs/{org.id}/complaints/new", data=form, content_type="multipart/form-data"
    )


def test_every_public_page_links_to_the_complaint_form(en_client, db_session):
    org = make_org()
    campaign = make_campaign(org, date(2026, 3, 1), date(2026, 12, 31))
    with time_machine.travel(cst_noon(date(2026, 6, 1)), tick=False):
        page = en_client.get(f"/campaigns/{campaign.id}").get_data(as_text=True)
        assert f"/orgs/{org.id}/complaints/new?campaign={campaign.id}" in page
        page = en_client.get(f"/orgs/{org.id}").get_data(as_text=True)
        assert f"/orgs/{org.id}/complaints/new" in page
        form = en_client.get(f"/orgs/{org.id}/complaints/new?campaign={campaign.id}")
        assert form.status_code == 200 and campaign.title in form.get_data(as_text=True)
        # another organization's campaign: not found
        other = make_org()
        assert (
            en_client.get(f"/orgs/{other.id}/complaints/new?campaign={campaign.id}").status_code
            == 404
        )


@pytest.mark.chinese
def test_the_form_cites_the_2023_article_number(client, db_session):
    # The 2023 amendment renumbered the articles: the complaint article is now 108 (art. 97
    # in 2016, now 弘扬慈善文化); the form must not send complainants to the wrong article.
    org = make_org()
    with time_machine.travel(cst_noon(date(2026, 6, 1)), tick=False):
        page = client.get(f"/orgs/{org.id}/complaints/new").get_data(as_text=True)
    assert "《慈善法》第一百零八条" in page and "第九十七条" not in page


def test_anonymous_complaint_acknowledged_with_reference_and_checked_without_contact(
    en_client, db_session, recorded_events, mail_outbox
):
    org = make_org(province="广东省")
    with time_machine.travel(cst_noon(date(2026, 9, 30)), tick=False):
        response = _send(
            en_client, org, anonymous="y",
            evidence=(io.BytesIO(make_pdf("receipt")), "evidence.pdf"),
        )  # fmt: skip
    assert response.status_code == 201
    complaint = db_session.scalar(select(Complaint).where(Complaint.organization_id == org.id))
    page = response.get_data(as_text=True)
    assert complaint.reference in page and complaint.reference.startswith("JB20260930-")
    assert "2026-10-13" in page  # due: 5 working days across 国庆 and the 调休 Saturday
    assert complaint.is_anonymous and not complaint.complainant_email
    assert complaint.evidence_type == "application/pdf" and complaint.status == "received"
    assert mail_outbox == []  # nobody to mail
    [event] = [e for e in recorded_events if e.type == "complaint.received"]
    assert event.data["reply_due_on"] == "2026-10-13"
    assert not any(word in str(event.data) for word in PERSONAL)
    code = page.split('complaint-code">')[1].split("<")[0]
    found = en_client.post(
        "/complaints/check", data={"reference": complaint.reference, "code": code}
    )
    assert found.status_code == 200 and "Received" in found.get_data(as_text=True)
    wrong = en_client.post(
        "/complaints/check", data={"reference": complaint.reference, "code": "X"}
    )
    assert wrong.status_code == 404


def test_named_complaint_needs_a_contact_and_gets_the_acknowledgement_by_mail(
    en_client, db_session, mail_outbox
):
    org = make_org()
    response = _send(en_client, org, name=PERSONAL[0])
    assert response.status_code == 400 and 'id="email-error"' in response.get_data(as_text=True)
    response = _send(en_client, org, name=PERSONAL[0], email="not-an-address")
    assert response.status_code == 400
    bad = _send(en_client, org, anonymous="y", evidence=(io.BytesIO(b"MZ\x90\x00"), "x.pdf"))
    assert bad.status_code == 400 and 'id="evidence-error"' in bad.get_data(as_text=True)
    assert db_session.scalar(select(Complaint)) is None
    response = _send(en_client, org, name=PERSONAL[0], email=PERSONAL[1], phone=PERSONAL[2])
    assert response.status_code == 201
    complaint = db_session.scalar(select(Complaint))
    [mail] = mail_outbox
    assert mail["To"] == PERSONAL[1] and complaint.reference in mail.get_content()


def test_the_honeypot_keeps_nothing(en_client, db_session):
    org = make_org()
    response = _send(en_client, org, anonymous="y", website="http://spam.example")
    assert response.status_code == 201
    assert db_session.scalar(select(Complaint)) is None


def test_regulator_queue_marks_overdue_and_reply_is_mailed_and_logged(
    en_client, db_session, recorded_events, mail_outbox
):
    org = make_org(province="广东省")
    with time_machine.travel(cst_noon(date(2026, 9, 30)), tick=False):
        assert _send(en_client, org, name=PERSONAL[0], email=PERSONAL[1]).status_code == 201
    complaint = db_session.scalar(select(Complaint))
    mail_outbox.clear()
    regulator = UserFactory(platform_role="regulator", regulator_province="广东省")
    with time_machine.travel(cst_noon(date(2026, 10, 13)), tick=False):  # the last day
        login(en_client, regulator)
        queue = en_client.get("/regulator/complaints").get_data(as_text=True)
        assert complaint.reference in queue and "complaint-overdue" not in queue
    with time_machine.travel(cst_noon(date(2026, 10, 14)), tick=False):
        login(en_client, regulator)
        queue = en_client.get("/regulator/complaints").get_data(as_text=True)
        assert "complaint-overdue" in queue
        detail = en_client.get(f"/regulator/complaints/{complaint.id}").get_data(as_text=True)
        assert PERSONAL[1] in detail  # the regulator sees the contact
        assert en_client.post(f"/regulator/complaints/{complaint.id}/review").status_code == 302
        response = en_client.post(
            f"/regulator/complaints/{complaint.id}/reply", data={"reply": "已核查，责令整改。"}
        )
        assert response.status_code == 302
    db_session.refresh(complaint)
    assert complaint.status == "replied" and complaint.replied_on == date(2026, 10, 14)
    [mail] = mail_outbox
    assert mail["To"] == PERSONAL[1] and "责令整改" in mail.get_content()
    steps = [e for e in recorded_events if e.type.startswith("complaint.")]
    assert [e.type for e in steps] == [
        "complaint.received",
        "complaint.in_review",
        "complaint.replied",
    ]
    assert steps[-1].data["on_time"] is False
    assert not any(word in str(e.data) for e in steps for word in PERSONAL)
    # another province's regulator neither sees it nor may act on it
    login(en_client, UserFactory(platform_role="regulator", regulator_province="湖南省"))
    assert complaint.reference not in en_client.get("/regulator/complaints").get_data(as_text=True)
    assert en_client.get(f"/regulator/complaints/{complaint.id}").status_code == 404
    assert en_client.post(f"/regulator/complaints/{complaint.id}/close").status_code == 404
    assert en_client.get(f"/regulator/complaints/{complaint.id}/evidence").status_code == 404
