"""Filing a campaign: the happy path, every legal rule, bad input, permissions."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from charity.models import Campaign
from tests.support.campaigns import plan_form, sign_in
from tests.support.factories import (
    CampaignFactory,
    MembershipFactory,
    OrganizationFactory,
    QualifiedOrganizationFactory,
)


def _count(db_session) -> int:  # type: ignore[no-untyped-def]
    return db_session.scalar(select(func.count()).select_from(Campaign))


def _post(client, org, data):  # type: ignore[no-untyped-def]
    return client.post(f"/orgs/{org.id}/campaigns/new", data=data)


def test_owner_files_a_draft_with_every_plan_field(client, db_session, qualified_org, owner, today):
    sign_in(client, owner)
    response = _post(client, qualified_org, plan_form(today, expected_amount="¥500,000.50"))
    assert response.status_code == 303
    campaign = db_session.scalar(select(Campaign))
    assert response.headers["Location"].endswith(f"/campaigns/{campaign.id}")
    assert campaign.status == "draft"
    assert campaign.organization_id == qualified_org.id
    assert campaign.expected_amount_fen == 50_000_050
    assert campaign.start_date == today + timedelta(days=8)
    assert campaign.beneficiaries == "梅州市 20 所乡村小学的学生"
    assert campaign.created_by_id == owner.id
    page = client.get(f"/campaigns/{campaign.id}").get_data(as_text=True)
    assert "乡村学校图书角" in page and "53440100MJL0000001A26001" in page


def test_editor_may_file_too(client, db_session, qualified_org, editor, today):
    sign_in(client, editor)
    response = _post(client, qualified_org, plan_form(today))
    assert response.status_code == 303, response.get_data(as_text=True)
    assert _count(db_session) == 1


def test_the_form_lists_every_plan_field(client, qualified_org, owner):
    sign_in(client, owner)
    page = client.get(f"/orgs/{qualified_org.id}/campaigns/new").get_data(as_text=True)
    for name in plan_form(qualified_org.created_at.date()):
        assert f'name="{name}"' in page, name
    assert 'name="is_emergency"' in page


def test_unqualified_org_is_told_why_and_offered_cooperation(
    client, db_session, unqualified_org, today
):
    user = MembershipFactory(organization=unqualified_org, role="owner").user
    sign_in(client, user)
    page = client.get(f"/orgs/{unqualified_org.id}/campaigns/new?lang=en")
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "public fundraising qualification" in text
    assert "arts. 22 and 24" in text
    assert "cooperation" in text and unqualified_org.uscc in text
    assert 'name="filing_number"' not in text
    response = _post(client, unqualified_org, plan_form(today))
    assert response.status_code == 403
    assert "arts. 22 and 24" in response.get_data(as_text=True)
    assert _count(db_session) == 0


def test_unverified_org_cannot_file(client, db_session, today):
    org = QualifiedOrganizationFactory(status="pending")
    sign_in(client, MembershipFactory(organization=org, role="owner").user)
    response = _post(client, org, plan_form(today))
    assert response.status_code == 403
    assert "not been verified" in client.get(f"/orgs/{org.id}/campaigns/new?lang=en").get_data(
        as_text=True
    )
    assert _count(db_session) == 0


def _rejected(client, db_session, org, data, field, fragment):  # type: ignore[no-untyped-def]
    before = _count(db_session)
    response = client.post(f"/orgs/{org.id}/campaigns/new?lang=en", data=data)
    text = response.get_data(as_text=True)
    assert response.status_code == 422, text[:2000]
    assert f'id="{field}-error"' in text, f"no error on {field}"
    error = text.split(f'id="{field}-error"', 1)[1].split("</p>", 1)[0]
    assert fragment in error, error
    assert _count(db_session) == before


def test_start_needs_ten_days_after_filing(client, db_session, qualified_org, owner, today):
    sign_in(client, owner)
    data = plan_form(today, start_date=(today + timedelta(days=7)).isoformat())
    _rejected(client, db_session, qualified_org, data, "start_date", "art. 24")


def test_emergency_may_start_before_filing_plus_ten_days(
    client, db_session, qualified_org, owner, today
):
    sign_in(client, owner)
    data = plan_form(
        today,
        is_emergency="y",
        filing_date=today.isoformat(),
        start_date=(today - timedelta(days=3)).isoformat(),
    )
    assert _post(client, qualified_org, data).status_code == 303
    assert db_session.scalar(select(Campaign)).is_emergency is True


def test_emergency_must_still_be_filed_within_ten_days_of_its_start(
    client, db_session, qualified_org, owner, today
):
    sign_in(client, owner)
    data = plan_form(
        today,
        is_emergency="y",
        filing_date=today.isoformat(),
        start_date=(today - timedelta(days=11)).isoformat(),
    )
    _rejected(client, db_session, qualified_org, data, "filing_date", "art. 73")


@pytest.mark.parametrize(
    ("overrides", "field", "fragment"),
    [
        ({"end_start": -1}, "end_date", "on or after the start"),
        ({"filing_date": "+1"}, "filing_date", "future"),
        ({"filing_date": "2015-01-01", "start_date": "2015-02-01"}, "filing_date", "2016"),
        ({"end_date": "2099-01-01"}, "end_date", "ten years"),
        ({"end_date": "2026-13-45"}, "end_date", ""),
        ({"start_date": "not a date"}, "start_date", ""),
        ({"filing_date": "99999-01-01"}, "filing_date", ""),
    ],
)
def test_dates_must_be_sane(
    client, db_session, qualified_org, owner, today, overrides, field, fragment
):
    sign_in(client, owner)
    data = plan_form(today)
    if overrides.pop("end_start", None):
        data["end_date"] = (today + timedelta(days=7)).isoformat()
    if overrides.get("filing_date") == "+1":
        overrides["filing_date"] = (today + timedelta(days=1)).isoformat()
    data.update(overrides)
    _rejected(client, db_session, qualified_org, data, field, fragment)


def test_an_ended_plan_cannot_be_filed(client, db_session, qualified_org, owner, today):
    sign_in(client, owner)
    data = plan_form(
        today,
        filing_date=(today - timedelta(days=60)).isoformat(),
        start_date=(today - timedelta(days=40)).isoformat(),
        end_date=(today - timedelta(days=1)).isoformat(),
    )
    _rejected(client, db_session, qualified_org, data, "end_date", "passed")


def test_filing_number_is_unique(client, db_session, qualified_org, owner, today):
    CampaignFactory(filing_number="53440100MJL0000001A26001")
    sign_in(client, owner)
    before = _count(db_session)
    response = client.post(f"/orgs/{qualified_org.id}/campaigns/new?lang=en", data=plan_form(today))
    assert response.status_code == 422
    assert "already on the platform" in response.get_data(as_text=True)
    assert _count(db_session) == before


def test_filing_number_is_compared_case_insensitively(
    client, db_session, qualified_org, owner, today
):
    CampaignFactory(filing_number="53440100MJL0000001A26001")
    sign_in(client, owner)
    data = plan_form(today, filing_number=" 53440100mjl0000001a26001 ")
    _rejected(client, db_session, qualified_org, data, "filing_number", "already")


@pytest.mark.parametrize(
    "amount", ["0", "-5", "abc", "1.234", "", "１e5", "＄１２３", "1" * 13, "0.00"]
)
def test_bad_expected_amounts(client, db_session, qualified_org, owner, today, amount):
    sign_in(client, owner)
    response = _post(client, qualified_org, plan_form(today, expected_amount=amount))
    assert response.status_code == 422
    assert 'id="expected_amount-error"' in response.get_data(as_text=True)
    assert _count(db_session) == 0


@pytest.mark.parametrize(
    ("typed", "fen"), [("１２３", 12_300), ("￥１２３．５", 12_350), ("¥1,234.56", 123_456)]
)
def test_fullwidth_digits_are_understood(
    client, db_session, qualified_org, owner, today, typed, fen
):
    sign_in(client, owner)
    response = _post(client, qualified_org, plan_form(today, expected_amount=typed))
    assert response.status_code == 303
    assert db_session.scalar(select(Campaign)).expected_amount_fen == fen


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("title", "长" * 121),
        ("summary", "长" * 301),
        ("region", "长" * 201),
        ("filing_number", "A" * 65),
        ("purpose_md", "长" * 10_001),
        ("title", "good\x00title"),
        ("beneficiaries", "bad\x00"),
        ("filing_number", "有中文的编号"),
        ("cause", "astrology"),
        ("title", ""),
    ],
)
def test_bad_texts_are_refused(client, db_session, qualified_org, owner, today, field, value):
    sign_in(client, owner)
    response = _post(client, qualified_org, plan_form(today, **{field: value}))
    assert response.status_code == 422
    assert f'id="{field}-error"' in response.get_data(as_text=True)
    assert _count(db_session) == 0


def test_html_in_the_purpose_is_rendered_inert(client, db_session, qualified_org, owner, today):
    sign_in(client, owner)
    purpose = (
        "<script>alert(1)</script> **bold** [x](javascript:alert(1)) <img src=x onerror=alert(1)>"
    )
    assert _post(client, qualified_org, plan_form(today, purpose_md=purpose)).status_code == 303
    campaign = db_session.scalar(select(Campaign))
    page = client.get(f"/campaigns/{campaign.id}").get_data(as_text=True)
    assert "<script>alert(1)" not in page
    assert "<img" not in page and 'href="javascript' not in page
    assert "<strong>bold</strong>" in page


class TestPartner:
    def test_a_verified_unqualified_partner_is_named(
        self, client, db_session, qualified_org, owner, unqualified_org, today
    ):
        sign_in(client, owner)
        data = plan_form(today, partner_uscc=unqualified_org.uscc.lower())
        assert _post(client, qualified_org, data).status_code == 303
        campaign = db_session.scalar(select(Campaign))
        assert campaign.partner_id == unqualified_org.id
        page = client.get(f"/campaigns/{campaign.id}?lang=en").get_data(as_text=True)
        assert unqualified_org.name in page
        assert "receives all the money" in page

    @pytest.mark.parametrize(
        ("kind", "fragment"),
        [
            ("qualified", "own public fundraising qualification"),
            ("pending", "No verified organization"),
            ("unknown", "No verified organization"),
            ("self", "cannot be its partner"),
        ],
    )
    def test_partner_rules(self, client, db_session, qualified_org, owner, today, kind, fragment):
        if kind == "qualified":
            uscc = QualifiedOrganizationFactory().uscc
        elif kind == "pending":
            uscc = OrganizationFactory(status="pending").uscc
        elif kind == "unknown":
            uscc = "51440100MJ0000000X"
        else:
            uscc = qualified_org.uscc
        sign_in(client, owner)
        data = plan_form(today, partner_uscc=uscc)
        _rejected(client, db_session, qualified_org, data, "partner_uscc", fragment)


class TestPermissions:
    def test_anonymous_visitors_are_sent_to_log_in(self, client, qualified_org, today):
        response = client.get(f"/orgs/{qualified_org.id}/campaigns/new")
        assert response.status_code == 302
        assert "/account/login" in response.headers["Location"]
        response = _post(client, qualified_org, plan_form(today))
        assert response.status_code == 302

    def test_a_donor_cannot_file(self, client, db_session, qualified_org, donor, today):
        sign_in(client, donor)
        assert _post(client, qualified_org, plan_form(today)).status_code == 403
        assert _count(db_session) == 0

    def test_editor_of_org_a_cannot_file_for_org_b(self, client, db_session, editor, today):
        other = QualifiedOrganizationFactory()
        sign_in(client, editor)
        assert _post(client, other, plan_form(today)).status_code == 403
        assert client.get(f"/orgs/{other.id}/campaigns").status_code == 403
        assert _count(db_session) == 0

    def test_finance_member_cannot_file(self, client, db_session, qualified_org, today):
        user = MembershipFactory(organization=qualified_org, role="finance").user
        sign_in(client, user)
        assert _post(client, qualified_org, plan_form(today)).status_code == 403

    def test_unknown_organization_is_404(self, client, owner, today):
        sign_in(client, owner)
        assert client.get("/orgs/999999/campaigns/new").status_code == 404


def test_csrf_token_is_required(app, client, db_session, qualified_org, owner, today):
    sign_in(client, owner)
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        response = _post(client, qualified_org, plan_form(today))
    finally:
        app.config["WTF_CSRF_ENABLED"] = False
    assert response.status_code == 400
    assert db_session.scalar(select(func.count()).select_from(Campaign)) == 0
