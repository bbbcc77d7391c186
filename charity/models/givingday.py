"""Giving days (公益日): events, matching pools (配捐), matches, teams (一起捐), pledges (认捐).

Dates of an event are Beijing time (CST) calendar days; a pool's daily windows are CST
clock times. Money is integer fen. A pool's ``allocated_fen`` is what its matches hold now
(matched minus released); the CHECK keeps it within ``total_fen`` on both databases, and
``charity.services.givingdays`` raises it only under the pool's row lock.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from charity.extensions import db
from charity.models.base import TimestampMixin, UTCDateTime
from charity.models.campaign import Campaign
from charity.models.organization import Organization
from charity.models.statuses import status_guard
from charity.models.user import User

EVENT_CAMPAIGN_STATUSES = ("applied", "accepted", "rejected")
SPONSOR_PAYMENT_STATUSES = ("recorded", "confirmed", "rejected")


class GivingDay(TimestampMixin, db.Model):
    """A giving-day event (e.g. 6·30 广东扶贫济困日), its days in Beijing time."""

    __tablename__ = "giving_days"
    __table_args__ = (CheckConstraint("start_date <= end_date", name="dates_ordered"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    theme: Mapped[str] = mapped_column(Text, nullable=False, default="")
    #: First and last day, CST calendar days.
    start_date: Mapped[date] = mapped_column(Date, nullable=False)
    end_date: Mapped[date] = mapped_column(Date, nullable=False)
    #: A province for a regional day ("广东省"), "" for a national one.
    region: Mapped[str] = mapped_column(String(32), nullable=False, default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    pools: Mapped[list[MatchingPool]] = relationship(
        back_populates="event", order_by="MatchingPool.id"
    )


class GivingDayCampaign(TimestampMixin, db.Model):
    """A campaign's participation: the organization applies, an admin accepts."""

    __tablename__ = "giving_day_campaigns"
    __table_args__ = (
        UniqueConstraint("event_id", "campaign_id"),
        CheckConstraint(f"status IN {EVENT_CAMPAIGN_STATUSES!r}", name="status"),
        Index("ix_giving_day_campaigns_campaign", "campaign_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("giving_days.id"), nullable=False)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"), nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="applied")
    _follow_transitions = validates("status")(status_guard("event_campaign"))
    applied_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    event: Mapped[GivingDay] = relationship()
    campaign: Mapped[Campaign] = relationship()


class MatchingPool(TimestampMixin, db.Model):
    """A sponsor's matching money (配捐) for an event.

    ``organization_id`` is the charity that holds the pool (the sponsor's own foundation,
    or the charity the sponsor pays, e.g. 南海慈善会 for its 龙大慈善基金); the sponsor is
    named (and, for a company, its USCC). Ratio in percent of the gift (100 = 1:1,
    50 = 1:0.5). A cap of None is no cap. ``windows``: "09:00-12:00;14:00-16:00" (CST,
    each day of the event), "" = all day.
    """

    __tablename__ = "matching_pools"
    __table_args__ = (
        CheckConstraint("total_fen > 0", name="total_positive"),
        CheckConstraint("allocated_fen >= 0 AND allocated_fen <= total_fen", name="within_total"),
        CheckConstraint("ratio_percent > 0 AND ratio_percent <= 1000", name="ratio"),
        CheckConstraint("cap_per_gift_fen IS NULL OR cap_per_gift_fen > 0", name="cap_gift"),
        CheckConstraint("cap_per_donor_day_fen IS NULL OR cap_per_donor_day_fen > 0", name="cap_d"),
        CheckConstraint("cap_per_campaign_fen IS NULL OR cap_per_campaign_fen > 0", name="cap_c"),
        Index("ix_matching_pools_event", "event_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("giving_days.id"), nullable=False)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), nullable=False)
    sponsor_name: Mapped[str] = mapped_column(String(200), nullable=False)
    sponsor_uscc: Mapped[str] = mapped_column(String(18), nullable=False, default="")
    ratio_percent: Mapped[int] = mapped_column(Integer, nullable=False, default=100)
    cap_per_gift_fen: Mapped[int | None] = mapped_column(BigInteger)
    cap_per_donor_day_fen: Mapped[int | None] = mapped_column(BigInteger)
    cap_per_campaign_fen: Mapped[int | None] = mapped_column(BigInteger)
    windows: Mapped[str] = mapped_column(String(200), nullable=False, default="")
    #: Only the campaigns listed in matching_pool_campaigns; else every accepted campaign.
    restricted: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    total_fen: Mapped[int] = mapped_column(BigInteger, nullable=False)
    allocated_fen: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    currency: Mapped[str] = mapped_column(String(3), nullable=False, default="CNY")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    event: Mapped[GivingDay] = relationship(back_populates="pools")
    organization: Mapped[Organization] = relationship()

    @property
    def remaining_fen(self) -> int:
        return self.total_fen - self.allocated_fen


class SponsorPayment(TimestampMixin, db.Model):
    """A sponsor's bank transfer (对公转账) into its pool's organization, against the
    commitment: recorded by one owner/finance member (or an admin) and confirmed by a
    second person (charity.services.four_eyes); only the confirmation posts
    ``match_receipt`` and is logged (``matching_pool.sponsor_paid``). Rejected records
    stay, with the reason.

    The bank slip (银行回单), when the recorder attached one, is a file of the one upload
    store (``charity.services.uploads``): its SHA-256 names it there, and the public log
    entry carries that digest, so anyone shown the slip later can match it to the entry."""

    __tablename__ = "sponsor_payments"
    __table_args__ = (
        CheckConstraint("amount_fen > 0", name="amount_positive"),
        CheckConstraint(
            "(slip_sha256 IS NULL AND slip_content_type IS NULL AND slip_size IS NULL)"
            " OR (slip_sha256 IS NOT NULL AND slip_content_type IS NOT NULL"
            " AND slip_size > 0)",
            name="slip_whole",
        ),
        CheckConstraint(f"status IN {SPONSOR_PAYMENT_STATUSES!r}", name="status"),
        CheckConstraint(
            "decided_by_id IS NULL OR decided_by_id <> recorded_by_id", name="four_eyes"
        ),
        Index("ix_sponsor_payments_pool", "pool_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    pool_id: Mapped[int] = mapped_column(ForeignKey("matching_pools.id"), nullable=False)
    amount_fen: Mapped[int] = mapped_column(BigInteger, nullable=False)
    #: The day the money reached the organization's bank account (its statement's date).
    received_on: Mapped[date] = mapped_column(Date, nullable=False)
    #: The bank's reference of the transfer (流水号), to find it on the statement.
    reference: Mapped[str] = mapped_column(String(100), nullable=False)
    note: Mapped[str] = mapped_column(String(500), nullable=False, default="")
    #: The bank slip (银行回单): its SHA-256 in the upload store, checked type and size.
    slip_sha256: Mapped[str | None] = mapped_column(String(64))
    slip_content_type: Mapped[str | None] = mapped_column(String(50))
    slip_size: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(10), nullable=False, default="recorded")
    _follow_transitions = validates("status")(status_guard("sponsor_payment"))
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    reject_reason: Mapped[str] = mapped_column(String(300), nullable=False, default="")
    transaction_id: Mapped[int | None] = mapped_column(ForeignKey("ledger_transactions.id"))

    pool: Mapped[MatchingPool] = relationship()
    recorded_by: Mapped[User] = relationship(foreign_keys=[recorded_by_id])
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])


class MatchingPoolCampaign(db.Model):
    """An eligible campaign of a restricted pool."""

    __tablename__ = "matching_pool_campaigns"

    pool_id: Mapped[int] = mapped_column(ForeignKey("matching_pools.id"), primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"), primary_key=True)


class Match(TimestampMixin, db.Model):
    """Matching money a gift earned from a pool; ``released_fen`` went back on refunds."""

    __tablename__ = "matches"
    __table_args__ = (
        CheckConstraint("amount_fen > 0", name="amount_positive"),
        CheckConstraint("released_fen >= 0 AND released_fen <= amount_fen", name="released"),
        UniqueConstraint("donation_id", "pool_id"),
        Index("ix_matches_pool_donor_day", "pool_id", "donor_key", "cst_day"),
        Index("ix_matches_pool_campaign", "pool_id", "campaign_id"),
        Index("ix_matches_campaign", "campaign_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    donation_id: Mapped[int] = mapped_column(ForeignKey("donations.id"), nullable=False)
    pool_id: Mapped[int] = mapped_column(ForeignKey("matching_pools.id"), nullable=False)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"), nullable=False)
    amount_fen: Mapped[int] = mapped_column(BigInteger, nullable=False)
    released_fen: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    #: Who gave, for the per-donor daily cap: a hash of the e-mail (or user id), never shown.
    donor_key: Mapped[str] = mapped_column(String(64), nullable=False)
    #: The CST day of the gift's success.
    cst_day: Mapped[date] = mapped_column(Date, nullable=False)

    pool: Mapped[MatchingPool] = relationship()

    @property
    def net_fen(self) -> int:
        return self.amount_fen - self.released_fen


class MatchRelease(TimestampMixin, db.Model):
    """Part of a match given back to its pool because the gift was refunded."""

    __tablename__ = "match_releases"
    __table_args__ = (
        CheckConstraint("amount_fen > 0", name="amount_positive"),
        UniqueConstraint("match_id", "refund_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    match_id: Mapped[int] = mapped_column(ForeignKey("matches.id"), nullable=False)
    refund_id: Mapped[int] = mapped_column(ForeignKey("refunds.id"), nullable=False)
    amount_fen: Mapped[int] = mapped_column(BigInteger, nullable=False)

    match: Mapped[Match] = relationship()


class Team(TimestampMixin, db.Model):
    """一起捐: a supporter's team page for a campaign; gifts through its link count for it."""

    __tablename__ = "teams"
    __table_args__ = (
        CheckConstraint("goal_fen > 0", name="goal_positive"),
        Index("ix_teams_campaign", "campaign_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"), nullable=False)
    creator_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False)
    name: Mapped[str] = mapped_column(String(60), nullable=False)
    goal_fen: Mapped[int] = mapped_column(BigInteger, nullable=False)
    message: Mapped[str] = mapped_column(String(500), nullable=False, default="")
    hidden: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    hidden_reason: Mapped[str] = mapped_column(String(300), nullable=False, default="")
    hidden_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    hidden_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    campaign: Mapped[Campaign] = relationship()
    creator: Mapped[User] = relationship(foreign_keys=[creator_id])


class Pledge(TimestampMixin, db.Model):
    """认捐: a company's promise made at an event; gifts are linked as the money arrives.
    A pledge never counts in "raised": only its linked gifts do, as gifts."""

    __tablename__ = "pledges"
    __table_args__ = (
        CheckConstraint("amount_fen > 0", name="amount_positive"),
        Index("ix_pledges_event", "event_id"),
        Index("ix_pledges_organization", "organization_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("giving_days.id"), nullable=False)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), nullable=False)
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaigns.id"))
    company_name: Mapped[str] = mapped_column(String(200), nullable=False)
    company_uscc: Mapped[str] = mapped_column(String(18), nullable=False)
    amount_fen: Mapped[int] = mapped_column(BigInteger, nullable=False)
    due_date: Mapped[date] = mapped_column(Date, nullable=False)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    event: Mapped[GivingDay] = relationship()
    organization: Mapped[Organization] = relationship()
    campaign: Mapped[Campaign | None] = relationship()
