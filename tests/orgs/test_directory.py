"""The public directory and organization pages."""

from __future__ import annotations

import re

import pytest

from charity.core import regions
from tests.support.factories import (
    MembershipFactory,
    OrganizationFactory,
    QualifiedOrganizationFactory,
    UserFactory,
)


def _names(response) -> list[str]:  # type: ignore[no-untyped-def]
    return re.findall(
        r'<h2 class="card-title"><a href="/orgs/\d+">([^<]+)</a>', response.get_data(as_text=True)
    )


@pytest.fixture
def directory(db_session):  # type: ignore[no-untyped-def]
    return {
        "gd_foundation": QualifiedOrganizationFactory(name="甲 广东基金会", province="广东省"),
        "bj_group": OrganizationFactory(name="乙 北京促进会", province="北京市", type_digit="1"),
        "sh_service": OrganizationFactory(
            name="丙 上海服务中心", province="上海市", type_digit="2"
        ),
        "pending": OrganizationFactory(name="丁 待审核", status="pending"),
        "rejected": OrganizationFactory(name="戊 已驳回", status="rejected"),
    }


def test_only_verified_organizations_are_listed(client, directory):
    names = _names(client.get("/orgs/"))
    assert sorted(names) == sorted(["甲 广东基金会", "乙 北京促进会", "丙 上海服务中心"])
    assert "3 organizations found" in client.get("/orgs/").get_data(as_text=True)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"province": "北京市"}, ["乙 北京促进会"]),
        ({"type": "social_service"}, ["丙 上海服务中心"]),
        ({"type": "foundation"}, ["甲 广东基金会"]),
        ({"qualified": "yes"}, ["甲 广东基金会"]),
        ({"qualified": "no"}, ["丙 上海服务中心", "乙 北京促进会"]),
        ({"q": "上海"}, ["丙 上海服务中心"]),
        ({"q": "待审核"}, []),
        ({"q": "%"}, []),
        ({"q": "北京", "province": "广东省"}, []),
    ],
)
def test_filters_and_search(client, directory, query, expected):
    response = client.get("/orgs/", query_string=query)
    assert response.status_code == 200
    assert sorted(_names(response)) == sorted(expected)


def test_search_by_uscc(client, directory):
    code = directory["bj_group"].uscc
    assert _names(client.get("/orgs/", query_string={"q": code.lower()})) == ["乙 北京促进会"]


@pytest.mark.parametrize(
    "query",
    [{"province": "火星"}, {"type": "club"}, {"qualified": "maybe"}, {"q": "x" * 101}],
)
def test_bad_filters_are_field_errors(client, directory, query):
    response = client.get("/orgs/", query_string=query)
    assert response.status_code == 400
    field = next(iter(query))
    assert f'id="{field}-error"' in response.get_data(as_text=True)


def test_pagination_twenty_per_page(client, db_session):
    for n in range(45):
        OrganizationFactory(name=f"机构{n:02d}", province="广东省")
    first = client.get("/orgs/", query_string={"province": "广东省"})
    assert len(_names(first)) == 20
    page = first.get_data(as_text=True)
    assert "45 organizations found" in page
    assert "Page 1 of 3" in page
    assert "page=2" in page and "province=" in page  # filters kept in the links
    third = client.get("/orgs/", query_string={"province": "广东省", "page": 3})
    assert _names(third) == [f"机构{n:02d}" for n in range(40, 45)]
    # out-of-range and nonsense pages do not fail
    assert client.get("/orgs/?page=99").status_code == 200
    assert client.get("/orgs/?page=abc").status_code == 200
    assert client.get("/orgs/?page=-3").status_code == 200
    assert client.get("/orgs/?page=99999999999999999999999").status_code == 200


def test_public_page_shows_the_facts(client, db_session):
    org = QualifiedOrganizationFactory(website="https://example.org/x")
    page = client.get(f"/orgs/{org.id}").get_data(as_text=True)
    for fact in (
        org.name,
        org.uscc,
        org.registration_authority,
        org.qualification_number,
        org.qualification_authority,
        "2024-03-01",
        org.contact_phone,
        org.contact_email,
        "https://example.org/x",
        "Foundation",
    ):
        assert fact in page, fact


def test_pending_page_is_404_except_for_members_and_admins(client, db_session, login):
    org = OrganizationFactory(status="pending")
    member = MembershipFactory(organization=org, role="editor").user
    assert client.get(f"/orgs/{org.id}").status_code == 404
    login(UserFactory())
    assert client.get(f"/orgs/{org.id}").status_code == 404
    login(member)
    assert client.get(f"/orgs/{org.id}").status_code == 200
    login(UserFactory(platform_role="admin"))
    assert client.get(f"/orgs/{org.id}").status_code == 200
    assert client.get("/orgs/999999").status_code == 404


def test_my_organizations_lists_active_memberships(client, db_session, login):
    membership = MembershipFactory(role="finance")
    login(membership.user)
    page = client.get("/orgs/mine").get_data(as_text=True)
    assert membership.organization.name in page


def test_there_are_34_provincial_divisions():
    assert len(regions.PROVINCES) == 34
    assert len(regions.PROVINCE_NAMES) == 34
    assert len({p.code for p in regions.PROVINCES}) == 34
    assert regions.province_label("广东省", english=True) == "Guangdong"
