"""Donors hear back (issue 17 point 10): donors who opted in get one e-mail a day at most
about the campaigns they gave to — an update posted, the result published, the campaign
suspended — with a one-click unsubscribe.

Opting in is per e-mail address (``UpdateSubscription``), so guests are included: the box
on the giving form, or the setting on 我的捐赠. News is recorded as a ``CampaignNotice`` in
the same transaction as the change: ``post_update`` notes updates; the event subscriber
:func:`notice_on_event` (wired in charity.wiring) notes ``disclosure.published`` of a
campaign result and ``campaign.suspended`` (recorded by charity.services.suspensions with
the ``CampaignSuspension`` as its subject).
``flask campaigns digest`` (the scheduler, hourly) collects what is due and mails it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import sqlalchemy as sa
from flask import current_app, render_template
from flask_babel import force_locale
from flask_babel import gettext as _
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy.orm import Session

from charity.compliance.rules.law import CAMPAIGN_RESULT
from charity.core.events import Event
from charity.models import Campaign, CampaignNotice, Donation, UpdateSubscription, User
from charity.models.disclosure import DisclosureVersion
from charity.models.enforcement import CampaignSuspension
from charity.ops.mail import Mail
from charity.web.links import public_url

CST_OFFSET_HOURS = 8
_SALT = "donor-updates-unsubscribe"
RECEIVED = ("succeeded", "partially_refunded", "refunded")


@dataclass(frozen=True)
class Digest:
    email: str
    language: str
    #: (campaign, its notices oldest first), campaigns in the order of their first notice.
    campaigns: tuple[tuple[Campaign, tuple[CampaignNotice, ...]], ...]


def normalize(email: str) -> str:
    return (email or "").strip().lower()


def opt_in(session: Session, email: str, language: str, now: datetime | None = None) -> None:
    """Start (or restart) news for ``email``; news from before this moment is not sent."""
    now = now or datetime.now(UTC)
    row = session.get(UpdateSubscription, normalize(email))
    if row is None:
        session.add(
            UpdateSubscription(email=normalize(email), language=language, notices_since=now)
        )
    elif not row.active:
        row.active, row.language, row.notices_since = True, language, now
    else:
        row.language = language


def opt_out(session: Session, email: str) -> None:
    row = session.get(UpdateSubscription, normalize(email))
    if row is not None:
        row.active = False


def is_subscribed(session: Session, email: str) -> bool:
    row = session.get(UpdateSubscription, normalize(email))
    return row is not None and row.active


def unsubscribe_token(secret: str, email: str) -> str:
    return URLSafeSerializer(secret, salt=_SALT).dumps(normalize(email))


def email_from_token(secret: str, token: str) -> str | None:
    try:
        value = URLSafeSerializer(secret, salt=_SALT).loads(token)
    except BadSignature:
        return None
    return value if isinstance(value, str) else None


# --- news, recorded with the change ---------------------------------------------------


def note(session: Session, campaign_id: int, kind: str, ref_id: int | None, title: str) -> None:
    session.add(
        CampaignNotice(campaign_id=campaign_id, kind=kind, ref_id=ref_id, title=title[:200])
    )


def notice_on_event(session: Session, event: Event) -> None:
    """Subscriber: a campaign's published result and its suspension are news for donors."""
    if event.type == "campaign.suspended" and event.subject_id is not None:
        suspension = session.get(CampaignSuspension, event.subject_id)
        if suspension is not None:
            note(session, suspension.campaign_id, "suspended", suspension.id, "")
    elif event.type == "disclosure.published" and event.subject_id is not None:
        version = session.get(DisclosureVersion, event.subject_id)
        disclosure = version.disclosure if version is not None else None
        if (
            disclosure is not None
            and disclosure.disclosure_type == CAMPAIGN_RESULT
            and disclosure.campaign_id is not None
        ):
            note(session, disclosure.campaign_id, "result", disclosure.id, version.title)


# --- the daily digest ----------------------------------------------------------------


def _day(moment: datetime) -> int:
    """The China Standard Time calendar day of ``moment``, as a number to compare."""
    shifted = moment.astimezone(UTC).timestamp() + CST_OFFSET_HOURS * 3600
    return int(shifted // 86400)


def due_digests(session: Session, now: datetime) -> list[Digest]:
    """Every active subscriber not mailed yet today (CST) with news since their last one."""
    digests = []
    for row in session.scalars(
        sa.select(UpdateSubscription).where(UpdateSubscription.active.is_(True))
    ):
        if row.last_digest_at is not None and _day(row.last_digest_at) >= _day(now):
            continue
        news = _news_for(session, row.email, row.notices_since, now)
        if news:
            digests.append(Digest(row.email, row.language, news))
    return digests


def _news_for(session: Session, email: str, since: datetime, now: datetime):  # type: ignore[no-untyped-def]
    gave_to = (
        sa.select(Donation.campaign_id)
        .outerjoin(User, User.id == Donation.donor_user_id)
        .where(
            Donation.status.in_(RECEIVED),
            Donation.campaign_id.is_not(None),
            sa.or_(
                sa.func.lower(Donation.donor_email) == email, sa.func.lower(User.email) == email
            ),
        )
    )
    notices = session.scalars(
        sa.select(CampaignNotice)
        .where(
            CampaignNotice.campaign_id.in_(gave_to),
            CampaignNotice.created_at > since,
            CampaignNotice.created_at <= now,
        )
        .order_by(CampaignNotice.created_at, CampaignNotice.id)
    ).all()
    grouped: dict[int, list[CampaignNotice]] = {}
    for notice in notices:
        grouped.setdefault(notice.campaign_id, []).append(notice)
    return tuple((items[0].campaign, tuple(items)) for items in grouped.values())


def mark_sent(session: Session, email: str, now: datetime) -> None:
    row = session.get(UpdateSubscription, email)
    if row is not None:
        row.last_digest_at = row.notices_since = now


def build_digest_mail(digest: Digest) -> Mail:
    """The digest in the donor's language, with RFC 8058 one-click unsubscribe headers
    (call inside a request context: the command makes one)."""
    token = unsubscribe_token(current_app.config["SECRET_KEY"], digest.email)
    unsubscribe = public_url("donor_updates.unsubscribe", token=token)
    with force_locale(digest.language):
        return Mail(
            to=digest.email,
            subject=_("News of the campaigns you gave to"),
            body=render_template(
                "donor/updates_digest.txt",
                digest=digest,
                unsubscribe_url=unsubscribe,
                campaign_url=lambda campaign: public_url("campaigns.show", campaign_id=campaign.id),
            ),
            headers=(
                ("List-Unsubscribe", f"<{unsubscribe}>"),
                ("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"),
            ),
        )


def send_due_digests(session: Session, now: datetime, send) -> int:  # type: ignore[no-untyped-def]
    """Build every due digest, hand each to ``send`` (queue_mail: after the commit) and
    mark it sent in the same transaction."""
    digests = due_digests(session, now)
    for digest in digests:
        send(build_digest_mail(digest))
        mark_sent(session, digest.email, now)
    return len(digests)
