"""Ids beyond the database's integer range are 404, never a 500 (issue 15, low)."""

from __future__ import annotations

import pytest

from tests.support.factories import MembershipFactory, OrganizationFactory

HUGE = "99999999999999999999"


@pytest.mark.parametrize(
    "path",
    [
        f"/orgs/{HUGE}",
        f"/campaigns/{HUGE}",
        f"/funds/{HUGE}",
        f"/campaigns/{HUGE}/donate",
        f"/orgs/{HUGE}/members",
        "/orgs/2147483648",
    ],
)
def test_an_id_beyond_the_integer_range_is_not_found(client, db_session, login, path):
    owner = MembershipFactory(organization=OrganizationFactory(), role="owner").user
    login(owner)
    assert client.get(path).status_code == 404


def test_the_largest_id_still_routes(client, db_session):
    assert client.get("/orgs/2147483647").status_code == 404  # routed, then not found
