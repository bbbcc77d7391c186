"""Donors hear back (issue 17 point 10): who asked for news of the campaigns they gave to,
and the news waiting to go out in the next daily digest."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from charity.extensions import db
from charity.models.base import TimestampMixin, UTCDateTime, utcnow
from charity.models.campaign import Campaign

NOTICE_KINDS = ("update", "result", "suspended")


class UpdateSubscription(TimestampMixin, db.Model):
    """One e-mail address (a guest's or an account's) that opted in; kept after an
    unsubscribe (``active`` false) so a later opt-in is a deliberate choice again."""

    __tablename__ = "update_subscriptions"

    #: Lower-cased e-mail address: guests are included, by the address they gave with.
    email: Mapped[str] = mapped_column(String(254), primary_key=True)
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    #: The language the donor used when opting in (zh_Hans_CN or en): the digest's language.
    language: Mapped[str] = mapped_column(String(16), nullable=False, default="zh_Hans_CN")
    #: News older than this is not sent (set at opt-in, moved on by each digest).
    notices_since: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)
    #: The last digest sent: at most one a day.
    last_digest_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class CampaignNotice(db.Model):
    """Something donors of a campaign should hear about, recorded in the same transaction as
    the change itself: an update posted, the result published, the campaign suspended."""

    __tablename__ = "campaign_notices"
    __table_args__ = (
        CheckConstraint(f"kind IN {NOTICE_KINDS!r}", name="kind"),
        Index("ix_campaign_notices_created_at", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(
        ForeignKey("campaigns.id", ondelete="CASCADE"), nullable=False
    )
    kind: Mapped[str] = mapped_column(String(20), nullable=False)
    #: The update's id for kind "update", the disclosure's for "result"; else None.
    ref_id: Mapped[int | None] = mapped_column(Integer)
    #: A short title (the update's) shown in the digest; empty for the others.
    title: Mapped[str] = mapped_column(String(200), nullable=False, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)

    campaign: Mapped[Campaign] = relationship()
