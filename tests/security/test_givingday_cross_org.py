"""A giving-day pledge belongs to one organization: another organization's owner cannot link
a gift to it through their own organization's URL (403, nothing changed, not a 500)."""

from __future__ import annotations

from sqlalchemy import select

from charity.extensions import db
from charity.models import Donation, Pledge
from tests.security import authz_table as table
from tests.security.world import seed


def test_linking_a_gift_to_another_organizations_pledge_is_forbidden(
    app, client, db_session, login
):  # type: ignore[no-untyped-def]
    world = seed(app)
    db.session.commit()
    login(world.users[table.MEMBER_B])  # owner of organization B
    db.session.commit()
    response = client.post(
        f"/orgs/{world.names['org_b']}/pledges/link",
        data={"pledge_id": str(world.names["pledge_a"]), "donation_id": str(world.names["gift"])},
    )
    assert response.status_code == 403
    db.session.expire_all()
    gift = db.session.get(Donation, world.names["gift"])
    assert gift is not None and gift.pledge_id is None
    assert db.session.scalar(select(Pledge).where(Pledge.id == world.names["pledge_a"]))
