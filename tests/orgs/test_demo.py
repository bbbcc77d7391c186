"""The demo organizations loader."""

from __future__ import annotations

from sqlalchemy import func, select

from charity.demo import load_users
from charity.demo.orgs import DEMO_ORGS, demo_uscc, load_organizations
from charity.models import Membership, Organization, User
from charity.services.organizations import org_type_from_uscc


def _counts(db_session) -> tuple[int, int, int]:  # type: ignore[no-untyped-def]
    return tuple(
        db_session.scalar(select(func.count()).select_from(model))
        for model in (Organization, Membership, User)
    )


def test_demo_organizations_are_valid_and_varied(db_session, recorded_events):
    load_users()
    lines = load_organizations()
    orgs = {o.uscc: o for o in db_session.scalars(select(Organization))}
    assert len(orgs) == len(DEMO_ORGS) >= 5
    for spec in DEMO_ORGS:
        code = demo_uscc(spec.uscc_prefix)
        assert org_type_from_uscc(code) == orgs[code].org_type
    verified = [o for o in orgs.values() if o.status == "verified"]
    assert {o.org_type for o in verified} == {"foundation", "social_group", "social_service"}
    assert len({o.province for o in verified}) >= 3
    assert {o.status for o in orgs.values()} == {"verified", "pending", "rejected"}
    foundation = next(o for o in verified if o.stripe_account_id == "acct_demo_gdfoundation")
    assert foundation.province == "广东省" and foundation.has_qualification
    for org in verified:
        assert sorted(m.role for m in org.active_memberships) == ["editor", "finance", "owner"]
    verified_events = [e for e in recorded_events if e.type == "organization.verified"]
    assert sorted(e.subject_id for e in verified_events) == sorted(o.id for o in verified)
    assert any("gdfoundation-finance@demo.charity" in line for line in lines)


def test_demo_loader_is_idempotent(db_session, recorded_events):
    load_users()
    load_organizations()
    before, events_before = _counts(db_session), len(recorded_events)
    load_organizations()
    assert _counts(db_session) == before
    assert len(recorded_events) == events_before
