"""Organizations: applications, verification, members.

Public log payloads for organization events are built here from immutable fields only
(id, USCC and the type it implies), so `flask audit verify` can recompute them.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from charity.events import payload_builder
from charity.models import Membership, Organization


def _organization_payload(session: Session, organization_id: int) -> dict[str, Any]:
    organization = session.get(Organization, organization_id)
    if organization is None:
        raise LookupError(f"organization {organization_id} is gone")
    return {
        "organization_id": organization.id,
        "org_uscc": organization.uscc,
        "org_type": organization.org_type,
    }


payload_builder("organization.verified", "organizations")(_organization_payload)
payload_builder("organization.rejected", "organizations")(_organization_payload)


@payload_builder("organization.member_added", "memberships")
def _member_added_payload(session: Session, membership_id: int) -> dict[str, Any]:
    membership = session.get(Membership, membership_id)
    if membership is None:
        raise LookupError(f"membership {membership_id} is gone")
    payload = _organization_payload(session, membership.organization_id)
    payload["membership_id"] = membership.id
    return payload
