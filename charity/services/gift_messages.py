"""Donor messages (留言) on the donor wall, and their moderation (issue 17 point 9).

A donor may leave a short message with a gift; it is shown on the campaign page, escaped
like any other text. What we refuse at the door, with a clear error and nothing stored:

* more than ``MESSAGE_MAX_LENGTH`` characters;
* obvious contact spam: a web address (``http``, ``www.``, a domain such as ``xx.com`` or
  ``xx.cn``), an e-mail address, a phone number (7 digits or more, separators and full-width
  digits included), or a WeChat/QQ id offered as contact (``微信：abc123``).

After that, people moderate: a visitor reports a message (it goes to the organization's
queue, ``/orgs/<id>/messages``), and the campaign's organization (owner or editor) hides a
message with a reason. Hiding is recorded in the public log (``donation.message_hidden``)
with the reason but never the message or the donor; the campaign page then says that the
organization hid a message and why, so nothing disappears silently (Charity Law art. 76:
the organization answers for what its campaign page shows).
"""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from charity.core.errors import DomainError
from charity.core.events import record_event
from charity.models import Campaign, Donation, User
from charity.services.campaign_stats import COUNTED_STATUSES
from charity.web.i18n import N_

MESSAGE_MAX_LENGTH = 200
REASON_MAX = 300
MODERATOR_ROLES = ("owner", "editor")
#: A message reported this many times by visitors is listed first in the queue.
QUEUE_LIMIT = 100

_URL = re.compile(
    r"(https?://|www\.|\b[a-z0-9-]+\.(com|cn|net|org|top|xyz|cc|io|me|info|vip|shop)\b)",
    re.IGNORECASE,
)
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.]+")
#: 7+ digits, allowing spaces, dashes, dots and brackets between them (138 0013 8000).
_PHONE = re.compile(r"\d(?:[\s\-.()]*\d){6,}")
_CONTACT_ID = re.compile(r"(微信|weixin|wechat|vx|v信|qq|加我)\s*[:：号]?\s*[a-z0-9_-]{5,}", re.I)


class MessageError(DomainError, ValueError):
    """A message or a moderation step we refuse; ``message`` is an N_ msgid."""


def clean_message(text: str | None) -> str:
    """The message as stored, or MessageError: trimmed, length-capped, no contact spam."""
    message = (text or "").strip()
    if len(message) > MESSAGE_MAX_LENGTH:
        raise MessageError(N_("The message is too long."), "message")
    # full-width letters and digits (１３８、ｗｗｗ) count as their plain forms
    plain = unicodedata.normalize("NFKC", message)
    if _URL.search(plain) or _EMAIL.search(plain):
        raise MessageError(
            N_("Messages may not contain web addresses, e-mail addresses or phone numbers."),
            "message",
        )
    if _PHONE.search(plain) or _CONTACT_ID.search(plain):
        raise MessageError(
            N_("Messages may not contain web addresses, e-mail addresses or phone numbers."),
            "message",
        )
    return message


def is_shown(donation: Donation) -> bool:
    """The message is on a public page: a counted gift's, not hidden."""
    return (
        bool(donation.message)
        and donation.message_hidden_at is None
        and donation.status in COUNTED_STATUSES
    )


def report_message(session: Session, donation_id: int) -> bool:
    """A visitor reports a message: counted, and queued for its organization. False when
    there is nothing to report (no message, or already hidden)."""
    donation = session.get(Donation, donation_id)
    if donation is None:
        raise LookupError(donation_id)
    if not is_shown(donation):
        return False
    donation.message_reports = (donation.message_reports or 0) + 1
    donation.message_reported_at = datetime.now(UTC)
    return True


def _require_moderator(actor: User, organization_id: int) -> None:
    if actor.role_in(organization_id) not in MODERATOR_ROLES:
        raise PermissionError("not a manager of the gift's organization")


def hide_message(session: Session, actor: User, donation_id: int, reason: str) -> Donation:
    """The organization (owner, editor) hides a donor's message, with a reason (logged)."""
    donation = session.get(Donation, donation_id)
    if donation is None:
        raise LookupError(donation_id)
    _require_moderator(actor, donation.organization_id)
    reason = (reason or "").strip()
    if not reason or len(reason) > REASON_MAX:
        raise MessageError(N_("Give a reason (at most 300 characters)."), "reason")
    if not donation.message:
        raise MessageError(N_("This gift has no message."))
    if donation.message_hidden_at is not None:
        raise MessageError(N_("This message is already hidden."))
    donation.message_hidden_at = datetime.now(UTC).replace(microsecond=0)
    donation.message_hidden_reason = reason
    donation.message_hidden_by_id = actor.id
    session.flush()
    record_event(session, "donation.message_hidden", subject_id=donation.id)
    return donation


def message_hidden_payload(session: Session, donation_id: int) -> dict[str, Any]:
    """Public: which gift's message was hidden, where, when and why; never the message or
    anything about the donor."""
    donation = session.get(Donation, donation_id)
    if donation is None or donation.message_hidden_at is None:
        raise LookupError(f"donation {donation_id} has no hidden message")
    hidden_at = donation.message_hidden_at.astimezone(UTC).replace(microsecond=0)
    return {
        "donation_id": donation.id,
        "organization_id": donation.organization_id,
        "campaign_id": donation.campaign_id,
        "reason": donation.message_hidden_reason,
        "hidden_at": hidden_at.isoformat().replace("+00:00", "Z"),
    }


def queue(session: Session, organization_id: int) -> list[Donation]:
    """The organization's messages to look at: reported first (most reports), then the
    latest shown messages; hidden ones are left out."""
    query = (
        sa.select(Donation)
        .where(
            Donation.organization_id == organization_id,
            Donation.message != "",
            Donation.message_hidden_at.is_(None),
            Donation.status.in_(COUNTED_STATUSES),
        )
        .order_by(
            Donation.message_reports.desc(),
            Donation.created_at.desc(),
            Donation.id.desc(),
        )
        .limit(QUEUE_LIMIT)
    )
    return list(session.scalars(query))


def campaign_of(session: Session, donation: Donation) -> Campaign | None:
    return session.get(Campaign, donation.campaign_id) if donation.campaign_id else None
