"""Findable (issue 17 point 3): one 我的捐赠 page, header links by role, the obvious next
step after logging in and after signing up, the 成员 button once, the review queue's
organization column named as such."""

from __future__ import annotations

import re

import pytest

from tests.support.factories import (
    PASSWORD,
    MembershipFactory,
    OrganizationFactory,
    UserFactory,
    open_verification_link,
)


def _header(html: str) -> str:
    return html.split("<header", 1)[1].split("</header>", 1)[0]


def _header_links(client) -> set[str]:  # type: ignore[no-untyped-def]
    header = _header(client.get("/").get_data(as_text=True))
    return set(re.findall(r'<a href="([^"]+)" class="role-link"', header))


def _log_in(client, user):  # type: ignore[no-untyped-def]
    return client.post("/account/login", data={"email": user.email, "password": PASSWORD})


def test_the_old_my_gifts_address_leads_to_the_one_page(client, login, db_session):
    login(UserFactory())
    response = client.get("/donations/mine")
    assert response.status_code == 301 and response.headers["Location"].endswith("/account/gifts")
    assert client.get("/account/gifts").status_code == 200


def test_anonymous_visitors_get_no_role_links(client, db_session):
    assert _header_links(client) == set()


@pytest.mark.parametrize(
    ("role", "member", "expected", "absent"),
    [
        ("donor", False, {"/account/gifts", "/orgs/apply"}, {"/orgs/mine", "/regulator/"}),
        ("donor", True, {"/account/gifts", "/orgs/mine"}, {"/orgs/apply", "/admin/organizations"}),
        ("admin", False, {"/account/gifts", "/admin/organizations", "/regulator/"}, set()),
        ("regulator", False, {"/account/gifts", "/regulator/"}, {"/admin/organizations"}),
    ],
)
def test_the_header_links_by_role(client, login, db_session, role, member, expected, absent):  # type: ignore[no-untyped-def]
    user = UserFactory(platform_role=role)
    if member:
        MembershipFactory(user=user, organization=OrganizationFactory(), role="owner")
    login(user)
    links = _header_links(client)
    assert expected <= links and not (absent & links)


@pytest.mark.chinese
def test_the_header_says_it_in_chinese(client, login, db_session):
    login(UserFactory(platform_role="admin"))
    header = _header(client.get("/").get_data(as_text=True))
    for words in ("我的捐赠", "审核队列", "合规看板"):
        assert words in header
    login(UserFactory())
    assert "登记慈善组织" in _header(client.get("/").get_data(as_text=True))


@pytest.mark.parametrize(
    ("role", "member", "landing"),
    [
        ("donor", False, "/account/gifts"),
        ("admin", False, "/admin/organizations"),
        ("regulator", False, "/regulator/"),
    ],
)
def test_logging_in_leads_to_where_the_work_is(client, db_session, role, member, landing):  # type: ignore[no-untyped-def]
    user = UserFactory(platform_role=role)
    response = _log_in(client, user)
    assert response.status_code == 302 and response.headers["Location"].endswith(landing)


def test_a_member_of_one_organization_lands_on_its_page(client, db_session):
    user = UserFactory()
    org = OrganizationFactory()
    MembershipFactory(user=user, organization=org, role="owner")
    response = _log_in(client, user)
    assert response.headers["Location"].endswith(f"/orgs/{org.id}/manage")


def test_next_still_wins_after_login(client, db_session):
    user = UserFactory(platform_role="regulator")
    response = client.post(
        "/account/login?next=/campaigns/",
        data={"email": user.email, "password": PASSWORD},
    )
    assert response.headers["Location"].endswith("/campaigns/")


def test_after_sign_up_the_next_steps_are_offered(client, db_session, mail_outbox):
    client.post(
        "/account/signup",
        data={
            "email": "new-donor@example.org",
            "name": "新捐赠人",
            "password": "a-long-enough-password-2026",
            "confirm": "a-long-enough-password-2026",
        },
    )
    response = open_verification_link(client, mail_outbox)
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "What would you like to do?" in html
    main = html.split("<main", 1)[1]
    for href in ('href="/campaigns/"', 'href="/account/gifts"', 'href="/orgs/apply"'):
        assert href in main


def test_the_members_button_appears_once(client, login, db_session):
    user = UserFactory()
    org = OrganizationFactory(status="verified")
    MembershipFactory(user=user, organization=org, role="owner")
    login(user)
    html = client.get(f"/orgs/{org.id}/manage").get_data(as_text=True)
    assert html.count(f'href="/orgs/{org.id}/members"') == 1


@pytest.mark.chinese
def test_the_review_queue_names_the_organization_column(client, login, db_session):
    OrganizationFactory(status="pending")
    login(UserFactory(platform_role="admin"))
    html = client.get("/admin/organizations").get_data(as_text=True)
    assert "<th>机构名称</th>" in html and "<th>姓名</th>" not in html
