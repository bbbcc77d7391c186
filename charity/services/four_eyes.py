"""Four eyes by two different PEOPLE (issue 15 finding 6): the one rule for every outflow.

A second account is cheap: an owner can invite another address of their own as finance
and approve their own request with it. So the second person of every outflow
(disbursements, fund-to-host transfers, refunds above REFUND_FOUR_EYES_FEN, offline gifts
above OFFLINE_FOUR_EYES_FEN, payout account changes) must

- not be the person who asked (a different user),
- have a confirmed e-mail address,
- have two-factor authentication turned on,
- have held the role that lets them approve (a membership of the organization, or a seat
  on the fund's committee) for at least FOUR_EYES_MIN_MEMBERSHIP_DAYS days.

This does not prove that two accounts are two people; it makes the cheap shortcut (a
fresh account, invited today) fail, and the age leaves the other members time to notice
the invitation (every member added is on the public log and mailed to the owners).
Services call :func:`second_person_refusal`/:func:`require_second_person`; views use
:func:`may_approve` to show or hide the approve buttons.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app, has_app_context

from charity.core.errors import DomainError
from charity.models import Fund, User
from charity.models.base import utcnow
from charity.web.i18n import N_

DEFAULT_MIN_MEMBERSHIP_DAYS = 7

OWN_REQUEST = N_("You cannot approve or reject your own request.")
NO_VERIFIED_EMAIL = N_("Confirm your e-mail address before you approve money leaving.")
NO_TWO_FACTOR = N_("Turn on two-factor authentication before you approve money leaving.")
TOO_NEW = N_(
    "Your membership is too new to approve money leaving: the second person must have "
    "held the role for longer. Ask another member."
)


class FourEyesError(DomainError, ValueError):
    """The second person does not qualify; ``message`` says why (translatable)."""


def min_membership_days() -> int:
    if not has_app_context():
        return DEFAULT_MIN_MEMBERSHIP_DAYS
    return int(current_app.config.get("FOUR_EYES_MIN_MEMBERSHIP_DAYS", DEFAULT_MIN_MEMBERSHIP_DAYS))


def role_since(user: User, organization_id: int, fund: Fund | None = None) -> datetime | None:
    """Since when the user holds a role that lets them approve here: their active
    membership of the organization, or their active seat on the fund's committee."""
    starts = [m.since for m in user.active_memberships if m.organization_id == organization_id]
    if fund is not None:
        starts += [m.created_at for m in fund.active_committee if m.user_id == user.id]
    return min(starts) if starts else None


def second_person_refusal(
    approver: User,
    requester_id: int | None,
    organization_id: int,
    *,
    fund: Fund | None = None,
    now: datetime | None = None,
) -> str | None:
    """Why ``approver`` may not be the second person (None: they may). The caller has
    checked already that their role lets them decide at all."""
    if requester_id is not None and approver.id == requester_id:
        return OWN_REQUEST
    if approver.email_verified_at is None:
        return NO_VERIFIED_EMAIL
    if approver.totp_enabled_at is None:
        return NO_TWO_FACTOR
    since = role_since(approver, organization_id, fund)
    cutoff = (now or utcnow()) - timedelta(days=min_membership_days())
    if since is None or since > cutoff:
        return TOO_NEW
    return None


def require_second_person(
    approver: User,
    requester_id: int | None,
    organization_id: int,
    *,
    fund: Fund | None = None,
) -> None:
    refusal = second_person_refusal(approver, requester_id, organization_id, fund=fund)
    if refusal is not None:
        raise FourEyesError(refusal)


def may_approve(
    approver: User, requester_id: int | None, organization_id: int, fund: Fund | None = None
) -> bool:
    return second_person_refusal(approver, requester_id, organization_id, fund=fund) is None
