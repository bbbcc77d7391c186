"""The application form: happy path, every bad input, duplicates, edits after rejection."""

from __future__ import annotations

import re
from datetime import date, timedelta
from html.parser import HTMLParser

import pyotp
import pytest
from sqlalchemy import func, select

from charity.core.clock import today_cst
from charity.models import Organization
from charity.services import organizations as service
from tests.support.factories import OrganizationFactory, UserFactory, make_uscc


def _count(db_session) -> int:  # type: ignore[no-untyped-def]
    return db_session.scalar(select(func.count()).select_from(Organization))


def test_apply_creates_a_pending_organization_owned_by_the_applicant(
    client, db_session, login, application_form
):
    user = UserFactory()
    login(user)
    response = client.post("/orgs/apply", data=application_form)
    assert response.status_code == 302
    org = db_session.scalar(
        select(Organization).where(Organization.uscc == application_form["uscc"])
    )
    assert response.headers["Location"] == f"/orgs/{org.id}/manage"
    assert org.status == "pending"
    assert org.org_type == "social_group"
    assert org.contact_email == "contact@example.org"
    assert org.qualification_number is None and not org.has_qualification
    assert user.role_in(org.id) == "owner"
    # An owner needs two-factor authentication (issue 15): set it up first, then manage.
    sent = client.get(f"/orgs/{org.id}/manage")
    assert sent.headers["Location"] == f"/account/2fa/setup?next=/orgs/{org.id}/manage"
    setup = client.get(sent.headers["Location"]).get_data(as_text=True)
    secret = re.search(r'id="totp-secret">([A-Z2-7]+)<', setup).group(1)
    done = client.post(sent.headers["Location"], data={"code": pyotp.TOTP(secret).now()})
    assert done.status_code == 200
    page = client.get(f"/orgs/{org.id}/manage").get_data(as_text=True)
    assert "广州市海珠区邻里互助会" in page


def test_apply_with_a_qualification_and_type_from_the_code(
    client, db_session, login, application_form
):
    login(UserFactory())
    application_form.update(
        uscc=make_uscc("3", 778),
        qualification_number="粤民募字〔2020〕001号",
        qualification_authority="广东省民政厅",
        qualification_date="2020-05-01",
    )
    assert client.post("/orgs/apply", data=application_form).status_code == 302
    org = db_session.scalar(
        select(Organization).where(Organization.uscc == application_form["uscc"])
    )
    assert org.org_type == "foundation"
    assert org.qualification_date == date(2020, 5, 1)


def test_uscc_is_normalized(client, db_session, login, application_form):
    login(UserFactory())
    code = application_form["uscc"]
    application_form["uscc"] = f" {code[:6].lower()} {code[6:].lower()} "
    assert client.post("/orgs/apply", data=application_form).status_code == 302
    assert db_session.scalar(select(Organization.uscc).where(Organization.uscc == code)) == code


def _bad_check_character(code: str) -> str:
    wrong = "0" if code[-1] != "0" else "1"
    return code[:-1] + wrong


def _with_check(body: str) -> str:
    from stdnum.cn import uscc

    return body + uscc.calc_check_digit(body)


FUTURE = (today_cst() + timedelta(days=2)).isoformat()

BAD_INPUTS = [
    ("uscc", _bad_check_character(make_uscc("1", 5)), "check character"),
    ("uscc", _with_check("91440100MA5XXXXX1"[:17]), "start with 5"),
    ("uscc", _with_check("59440100000000001"), "second character"),
    ("uscc", "12345", "18 characters"),
    ("uscc", "", "required"),
    ("name", "慈" * 5000, "200"),
    ("name", "", "required"),
    ("registration_authority", "", "required"),
    # CL art. 78 / Order 81: the legal registration date starts the basic-info duty.
    ("registered_on", "", "required"),
    ("registered_on", "2999-01-01", "future"),
    ("registered_on", "1900-01-01", "too early"),
    ("province", "", "required"),
    ("province", "火星省", "Not a valid choice"),
    ("city", "", "required"),
    ("address", "", "required"),
    ("contact_name", "", "required"),
    ("contact_name", "x" * 101, "100"),
    ("contact_phone", "call me", "phone"),
    ("contact_email", "not-an-email", "email"),
    ("website", "javascript:alert(1)", "http"),
    ("website", "ftp://example.org", "http"),
    ("description_md", "", "required"),
    ("description_md", "x" * 20001, "20000"),
    ("qualification_date", "2020-13-45", "date"),
    ("qualification_date", FUTURE, "future"),
    ("name", "bad\x00name", "not allowed"),
]


@pytest.mark.parametrize(("field", "value", "message"), BAD_INPUTS)
def test_bad_input_gives_a_field_error_and_stores_nothing(
    client, db_session, login, application_form, field, value, message
):
    login(UserFactory())
    application_form[field] = value
    if field == "qualification_date":
        application_form.update(
            qualification_number="粤民募字1号", qualification_authority="广东省民政厅"
        )
    before = _count(db_session)
    response = client.post("/orgs/apply", data=application_form)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert f'id="{field}-error"' in page
    error = page.split(f'id="{field}-error"', 1)[1].split("</p>", 1)[0]
    assert message.lower() in error.lower()
    assert _count(db_session) == before


@pytest.mark.parametrize(
    "given",
    [
        {"qualification_number": "粤民募字1号"},
        {"qualification_authority": "广东省民政厅"},
        {"qualification_date": "2020-01-01"},
        {"qualification_number": "粤民募字1号", "qualification_date": "2020-01-01"},
    ],
)
def test_qualification_is_all_or_nothing(client, db_session, login, application_form, given):
    login(UserFactory())
    application_form.update(given)
    response = client.post("/orgs/apply", data=application_form)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    missing = [name for name in service.QUALIFICATION_FIELDS if name not in given]
    for name in missing:
        assert f'id="{name}-error"' in page
    assert _count(db_session) == 0


def test_wrong_check_character_message_differs_from_the_type_messages():
    messages = set()
    for code in (
        _bad_check_character(make_uscc("1", 5)),
        _with_check("91440100MA5XXXXX1"),
        _with_check("59440100000000001"),
    ):
        with pytest.raises(service.OrganizationError) as caught:
            service.org_type_from_uscc(code)
        assert caught.value.field == "uscc"
        messages.add(str(caught.value.message))
    assert len(messages) == 3


def test_duplicate_uscc_is_a_field_error(client, db_session, login, application_form):
    OrganizationFactory(uscc=application_form["uscc"], type_digit="1")
    login(UserFactory())
    before = _count(db_session)
    response = client.post("/orgs/apply", data=application_form)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert 'id="uscc-error"' in page and "already registered" in page
    assert _count(db_session) == before


def test_html_in_the_description_renders_inert(client, db_session, login):
    org = OrganizationFactory(
        description_md=(
            '<script>alert("x")</script>\n\n<img src=x onerror="alert(1)">\n\n'
            '[click](javascript:alert(1)) <a href="javascript:alert(2)">a</a>\n\n'
            "**bold** and [ok](https://example.org)"
        )
    )
    page = client.get(f"/orgs/{org.id}").get_data(as_text=True)
    tags = _tags(page.split('class="prose"', 1)[1].split("</div>", 1)[0])
    names = {name for name, _ in tags}
    assert not names & {"script", "img", "iframe"}
    assert not any(key.startswith("on") for _, attrs in tags for key, _ in attrs)
    hrefs = [value for name, attrs in tags if name == "a" for key, value in attrs if key == "href"]
    assert hrefs == ["https://example.org"]
    assert "strong" in names


def _tags(html: str) -> list[tuple[str, list[tuple[str, str | None]]]]:
    """The real elements of an HTML fragment (escaped text is not an element)."""
    found: list[tuple[str, list[tuple[str, str | None]]]] = []

    class Collector(HTMLParser):
        def handle_starttag(self, tag, attrs):  # type: ignore[no-untyped-def]
            found.append((tag, attrs))

    Collector().feed(html)
    return found


def test_regulator_cannot_apply(client, db_session, login, application_form):
    login(UserFactory(platform_role="regulator"))
    assert client.get("/orgs/apply").status_code == 403
    assert client.post("/orgs/apply", data=application_form).status_code == 403
    assert _count(db_session) == 0


def test_anonymous_visitor_is_sent_to_log_in(client, db_session, application_form):
    response = client.post("/orgs/apply", data=application_form)
    assert response.status_code == 302
    assert "/account/login" in response.headers["Location"]
    assert _count(db_session) == 0
