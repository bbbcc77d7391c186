"""Charitable organizations (慈善组织) and their verification."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from charity.core.clock import today_cst
from charity.extensions import db
from charity.models.base import TimestampMixin, UTCDateTime
from charity.models.statuses import status_guard
from charity.models.user import Membership, User

ORG_TYPES = ("social_group", "social_service", "foundation")
ORG_STATUSES = ("pending", "verified", "rejected")
#: Second character of a civil-affairs USCC -> organization type.
USCC_TYPE_DIGIT = {"1": "social_group", "2": "social_service", "3": "foundation"}


class Organization(TimestampMixin, db.Model):
    __tablename__ = "organizations"
    __table_args__ = (
        CheckConstraint(f"org_type IN {ORG_TYPES!r}", name="org_type"),
        CheckConstraint(f"status IN {ORG_STATUSES!r}", name="status"),
        Index("ix_organizations_status_province", "status", "province"),
        Index("ix_organizations_uscc", "uscc"),
        # One verified organization per USCC; applications (pending, rejected) do not
        # block the code for anyone else (issue 15 finding 10: no squatting).
        Index(
            "uq_organizations_uscc_verified",
            "uscc",
            unique=True,
            postgresql_where=text("status = 'verified'"),
            sqlite_where=text("status = 'verified'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Full registered name, e.g. 广州市越秀区慈善会.
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    #: 统一社会信用代码, 18 characters, check character verified.
    uscc: Mapped[str] = mapped_column(String(18), nullable=False)
    #: Derived from the USCC's second character.
    org_type: Mapped[str] = mapped_column(String(20), nullable=False)
    #: The civil-affairs department it is registered with (登记管理机关).
    registration_authority: Mapped[str] = mapped_column(String(200), nullable=False)
    #: The legal registration / recognition date as a charitable organization (登记或认定
    #:日期), typed at application. The 30 days to publish the basic information run from
    #: it (CL art. 78, Order 81); None for organizations that applied before it was asked.
    registered_on: Mapped[date | None] = mapped_column(Date)
    province: Mapped[str] = mapped_column(String(32), nullable=False)
    city: Mapped[str] = mapped_column(String(64), nullable=False, default="")
    district: Mapped[str] = mapped_column(String(64), nullable=False, default="")
    address: Mapped[str] = mapped_column(String(300), nullable=False, default="")
    contact_name: Mapped[str] = mapped_column(String(100), nullable=False)
    contact_phone: Mapped[str] = mapped_column(String(40), nullable=False)
    contact_email: Mapped[str] = mapped_column(String(254), nullable=False)
    website: Mapped[str] = mapped_column(String(300), nullable=False, default="")
    #: Markdown as typed; rendered through charity.core.text.render_markdown (sanitized).
    description_md: Mapped[str] = mapped_column(Text, nullable=False, default="")
    #: 公开募捐资格证书 — all three set, or none.
    qualification_number: Mapped[str | None] = mapped_column(String(100))
    qualification_authority: Mapped[str | None] = mapped_column(String(200))
    qualification_date: Mapped[date | None] = mapped_column(Date)
    #: Loss of the qualification (CL art. 22, MCA Order 74: revoked, cancelled, not
    #: renewed): the first CST day it no longer held it, why, and the decision it comes
    #: from (authority and document number). Recorded by a regulator or admin; gifts to
    #: its campaigns stop from that day (charity.services.campaigns.gift_refusal).
    qualification_lost_on: Mapped[date | None] = mapped_column(Date)
    qualification_loss_reason: Mapped[str] = mapped_column(Text, nullable=False, default="")
    qualification_loss_source: Mapped[str] = mapped_column(String(300), nullable=False, default="")
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="pending")
    _follow_transitions = validates("status")(status_guard("organization"))
    #: Shown to the applicant when rejected.
    review_reason: Mapped[str] = mapped_column(Text, nullable=False, default="")
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    applied_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    #: The organization's own Stripe account; donations are direct charges on it.
    stripe_account_id: Mapped[str | None] = mapped_column(String(64))

    memberships: Mapped[list[Membership]] = relationship(
        back_populates="organization", cascade="all, delete-orphan"
    )
    reviewed_by: Mapped[User | None] = relationship(foreign_keys=[reviewed_by_id])
    applied_by: Mapped[User | None] = relationship(foreign_keys=[applied_by_id])

    @property
    def is_verified(self) -> bool:
        return self.status == "verified"

    @property
    def has_qualification(self) -> bool:
        """Holds a public fundraising qualification (公开募捐资格) today (CST): it has a
        certificate and has not lost it."""
        return self.qualified_on(today_cst())

    def qualified_on(self, day: date) -> bool:
        """Holds a certificate and had not lost it by ``day`` (CST; CL art. 22, Order
        74). Gifts and filings are judged by this."""
        if not self.qualification_number:
            return False
        return self.qualification_lost_on is None or day < self.qualification_lost_on

    def qualified_during(self, year: int) -> bool:
        """Held the qualification on any day of ``year``: the ratio rules (CL art. 61,
        民发〔2016〕189号) judge that year as a qualified organization's (issue 16 point 8)."""
        if not self.qualification_number:
            return False
        if self.qualification_date is not None and self.qualification_date.year > year:
            return False
        return self.qualification_lost_on is None or self.qualification_lost_on > date(year, 1, 1)

    @property
    def qualification_lost(self) -> bool:
        """Had a qualification and lost it (on or before today, CST)."""
        return (
            bool(self.qualification_number)
            and not self.has_qualification
            and (self.qualification_lost_on is not None)
        )

    @property
    def active_memberships(self) -> list[Membership]:
        """Current members (removed members keep their row with ``ended_at`` set)."""
        return [m for m in self.memberships if m.is_active]

    @property
    def region(self) -> str:
        return " ".join(part for part in (self.province, self.city, self.district) if part)

    def __repr__(self) -> str:
        return f"<Organization {self.id} {self.uscc} {self.status}>"
