"""Related parties (关联方) of an organization and its yearly filing of their list
(MCA Order 81 arts. 14–15, issue 16 point 9)."""

from __future__ import annotations

from datetime import date

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from charity.extensions import db
from charity.models.base import TimestampMixin


class RelatedParty(TimestampMixin, db.Model):
    """A person or organization on the organization's related-party list. A gift whose
    donor name or email matches a listed party starts the 30-day related-party
    disclosure (charity.services.related_parties)."""

    __tablename__ = "related_parties"
    __table_args__ = (
        CheckConstraint("length(name) > 0", name="name_present"),
        Index("ix_related_parties_organization_id", "organization_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), nullable=False)
    #: The name as it appears on gifts (a person's or an organization's full name).
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    #: How it is related, e.g. 理事长担任董事的企业.
    relationship: Mapped[str] = mapped_column(String(200), nullable=False)
    #: Optional: gifts made under this email also match (lower case).
    email: Mapped[str] = mapped_column(String(254), nullable=False, default="")
    #: CST date it left the list (None: listed).
    ended_on: Mapped[date | None] = mapped_column(Date)


class RelatedPartyListFiling(TimestampMixin, db.Model):
    """The organization sent its related-party list for ``year`` to the registration
    authority on ``filed_on`` (due by May 31 of the following year)."""

    __tablename__ = "related_party_list_filings"
    __table_args__ = (UniqueConstraint("organization_id", "year"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), nullable=False)
    year: Mapped[int] = mapped_column(Integer, nullable=False)
    filed_on: Mapped[date] = mapped_column(Date, nullable=False)
