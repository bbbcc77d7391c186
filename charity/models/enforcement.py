"""Complaints (举报) about organizations and campaigns, and the suspension of a campaign
by a regulator or an admin (issue 16 point 15)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from charity.extensions import db
from charity.models.base import TimestampMixin, UTCDateTime
from charity.models.campaign import Campaign
from charity.models.organization import Organization
from charity.models.statuses import TRANSITIONS, status_guard

COMPLAINT_STATUSES = ("received", "in_review", "replied", "closed")
#: received -> in review -> replied -> closed (charity.models.statuses).
COMPLAINT_TRANSITIONS = TRANSITIONS["complaint"]
COMPLAINT_CATEGORIES = (
    "misuse_of_funds",
    "false_information",
    "unlawful_fundraising",
    "disclosure",
    "privacy",
    "other",
)
#: Open complaints are on the reply clock.
OPEN_STATUSES = ("received", "in_review")


class Complaint(TimestampMixin, db.Model):
    """A complaint from the public about an organization (and optionally one of its
    campaigns or funds). The complainant's name, e-mail, phone, text and evidence are
    private: only admins and the regulator of the organization's province see them, and
    the public log carries none of them."""

    __tablename__ = "complaints"
    __table_args__ = (
        CheckConstraint(f"status IN {COMPLAINT_STATUSES!r}", name="status"),
        CheckConstraint(f"category IN {COMPLAINT_CATEGORIES!r}", name="category"),
        CheckConstraint("reply_due_on >= received_on", name="due_after_received"),
        UniqueConstraint("reference"),
        Index("ix_complaints_organization_id", "organization_id"),
        Index("ix_complaints_status_reply_due_on", "status", "reply_due_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: 受理编号 shown to the complainant, e.g. JB20261008-7K2QF9XA (random, unguessable).
    reference: Mapped[str] = mapped_column(String(32), nullable=False)
    #: SHA-256 of the check code shown once: with the reference it opens the status page,
    #: the contact-free path for anonymous complainants.
    check_code_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), nullable=False)
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaigns.id"))
    fund_id: Mapped[int | None] = mapped_column(ForeignKey("funds.id"))
    category: Mapped[str] = mapped_column(String(32), nullable=False)
    body: Mapped[str] = mapped_column(Text, nullable=False)
    is_anonymous: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    complainant_name: Mapped[str] = mapped_column(String(100), nullable=False, default="")
    complainant_email: Mapped[str] = mapped_column(String(254), nullable=False, default="")
    complainant_phone: Mapped[str] = mapped_column(String(32), nullable=False, default="")
    #: Evidence in the content-checked upload store (charity.services.uploads).
    evidence_sha256: Mapped[str | None] = mapped_column(String(64))
    evidence_type: Mapped[str | None] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="received")
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    #: The CST date received and the last day of the 5-working-day reply clock.
    received_on: Mapped[date] = mapped_column(Date, nullable=False)
    reply_due_on: Mapped[date] = mapped_column(Date, nullable=False)
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    replied_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    replied_on: Mapped[date | None] = mapped_column(Date)
    reply: Mapped[str] = mapped_column(Text, nullable=False, default="")
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    handled_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    organization: Mapped[Organization] = relationship()
    campaign: Mapped[Campaign | None] = relationship()

    def is_overdue_on(self, day: date) -> bool:
        """Still open after the last day of the reply clock."""
        return self.status in OPEN_STATUSES and day > self.reply_due_on

    @property
    def has_contact(self) -> bool:
        return bool(self.complainant_email or self.complainant_phone)

    _follow_transitions = validates("status")(status_guard("complaint"))


class CampaignSuspension(TimestampMixin, db.Model):
    """A regulator (of the organization's province) or an admin suspended the campaign:
    from ``suspended_at`` until ``lifted_at`` it takes no gifts, online or offline."""

    __tablename__ = "campaign_suspensions"
    __table_args__ = (
        CheckConstraint("length(reason) > 0", name="reason_present"),
        Index("ix_campaign_suspensions_campaign_id", "campaign_id"),
        Index("ix_campaign_suspensions_lifted_at", "lifted_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"), nullable=False)
    #: The reason in plain words, shown on the campaign page.
    reason: Mapped[str] = mapped_column(Text, nullable=False)
    complaint_id: Mapped[int | None] = mapped_column(ForeignKey("complaints.id"))
    suspended_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    suspended_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False)
    lifted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    lifted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    lift_note: Mapped[str] = mapped_column(Text, nullable=False, default="")

    campaign: Mapped[Campaign] = relationship()


class CnchinaEntry(TimestampMixin, db.Model):
    """Where a disclosure is also published on 慈善中国 (the national platform,
    cszg.mca.gov.cn): its entry number and address there (issue 16 point 16)."""

    __tablename__ = "cnchina_entries"
    __table_args__ = (UniqueConstraint("disclosure_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    disclosure_id: Mapped[int] = mapped_column(ForeignKey("disclosures.id"), nullable=False)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), nullable=False)
    entry_number: Mapped[str] = mapped_column(String(64), nullable=False)
    url: Mapped[str] = mapped_column(String(500), nullable=False, default="")
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
