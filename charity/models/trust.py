"""Charitable trusts (慈善信托) filed with civil affairs, and their settlors.

A registry entry per filing (备案): the trustee is a charity on the platform or a named
trust company; settlors (委托人) may be people, companies or charities on the platform.
A charity trustee discloses the trust's affairs and finances at least once a year and a
charity settlor discloses the trust within 30 days of its establishment (MCA Order 81
art. 12; charity.compliance.rules.trusts).
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from charity.extensions import db
from charity.models.base import TimestampMixin
from charity.models.organization import Organization


class CharitableTrust(TimestampMixin, db.Model):
    __tablename__ = "charitable_trusts"
    __table_args__ = (
        UniqueConstraint("filing_number"),
        CheckConstraint("assets_fen >= 0", name="assets_not_negative"),
        CheckConstraint("(trustee_org_id IS NULL) <> (trustee_company = '')", name="one_trustee"),
        CheckConstraint("term_end IS NULL OR term_end >= established_on", name="term_ordered"),
        CheckConstraint("filing_date >= established_on", name="filed_after_established"),
        Index("ix_charitable_trusts_province", "province"),
        Index("ix_charitable_trusts_trustee_org_id", "trustee_org_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: 慈善信托名称.
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    #: 备案编号 issued by the civil affairs department.
    filing_number: Mapped[str] = mapped_column(String(64), nullable=False)
    filing_date: Mapped[date] = mapped_column(Date, nullable=False)
    #: The civil affairs department it was filed with, e.g. 广州市民政局.
    filing_authority: Mapped[str] = mapped_column(String(100), nullable=False)
    #: The province of that department (the regulator's scope).
    province: Mapped[str] = mapped_column(String(32), nullable=False)
    #: The trustee when it is a charity on the platform ...
    trustee_org_id: Mapped[int | None] = mapped_column(ForeignKey("organizations.id"))
    #: ... or the name of a trust company (exactly one of the two).
    trustee_company: Mapped[str] = mapped_column(String(200), nullable=False, default="")
    #: 信托目的.
    purpose: Mapped[str] = mapped_column(Text, nullable=False)
    #: Trust property at establishment (fen; money and valued property).
    assets_fen: Mapped[int] = mapped_column(BigInteger, nullable=False)
    #: What the property is, when not only money.
    assets_note: Mapped[str] = mapped_column(String(500), nullable=False, default="")
    #: The trust took effect (设立) on this day: the 30 days of Order 81 art. 12 run from it.
    established_on: Mapped[date] = mapped_column(Date, nullable=False)
    #: Last day of the term (None: no fixed term).
    term_end: Mapped[date | None] = mapped_column(Date)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    trustee_org: Mapped[Organization | None] = relationship()
    settlors: Mapped[list[TrustSettlor]] = relationship(
        back_populates="trust", order_by="TrustSettlor.id"
    )

    @property
    def trustee_name(self) -> str:
        return self.trustee_org.name if self.trustee_org is not None else self.trustee_company

    @property
    def subject_key(self) -> str:
        return f"trust:{self.id}"


class TrustSettlor(TimestampMixin, db.Model):
    """A settlor (委托人) and the amount it entrusted."""

    __tablename__ = "trust_settlors"
    __table_args__ = (
        CheckConstraint("amount_fen >= 0", name="amount_not_negative"),
        CheckConstraint("length(name) > 0", name="name_present"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    trust_id: Mapped[int] = mapped_column(
        ForeignKey("charitable_trusts.id"), nullable=False, index=True
    )
    #: As filed (a person's, a company's or a charity's name).
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    #: When the settlor is a charity on the platform (it owes the 30-day disclosure).
    organization_id: Mapped[int | None] = mapped_column(ForeignKey("organizations.id"), index=True)
    amount_fen: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)

    trust: Mapped[CharitableTrust] = relationship(back_populates="settlors")
