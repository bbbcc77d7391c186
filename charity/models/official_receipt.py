"""The finance bureau's receipt (公益事业捐赠统一票据, issued as a 财政电子票据) an organization
issued for a gift, outside the platform, and recorded here so the donor can see and download
it (issue 17 point 5). The platform's own 捐赠电子凭证 (charity.services.receipts) is not it."""

from __future__ import annotations

from datetime import date

from sqlalchemy import BigInteger, Date, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from charity.extensions import db
from charity.models.base import TimestampMixin
from charity.models.donation import Donation
from charity.models.user import User


class OfficialReceipt(TimestampMixin, db.Model):
    __tablename__ = "official_receipts"
    __table_args__ = (
        UniqueConstraint("donation_id"),
        # One bill (票据代码 + 票据号码) is one gift's.
        UniqueConstraint("bill_code", "bill_number"),
        Index("ix_official_receipts_organization_id", "organization_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    donation_id: Mapped[int] = mapped_column(ForeignKey("donations.id"), nullable=False)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), nullable=False)
    #: 票据代码: 8 digits (the issuing finance bureau, the kind of bill and the year).
    bill_code: Mapped[str] = mapped_column(String(8), nullable=False)
    #: 票据号码: 10 digits.
    bill_number: Mapped[str] = mapped_column(String(10), nullable=False)
    #: 校验码: 6 characters, what the finance bureau's check service asks for.
    check_code: Mapped[str] = mapped_column(String(6), nullable=False)
    #: 开票日期, as printed on the bill.
    issued_on: Mapped[date] = mapped_column(Date, nullable=False)
    #: The bill's file (PDF or OFD) in the upload store (charity.services.uploads), if given.
    file_sha256: Mapped[str | None] = mapped_column(String(64))
    file_type: Mapped[str | None] = mapped_column(String(40))
    file_size: Mapped[int | None] = mapped_column(BigInteger)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    donation: Mapped[Donation] = relationship()
    recorded_by: Mapped[User | None] = relationship()

    @property
    def file_extension(self) -> str:
        return "ofd" if self.file_type == "application/ofd" else "pdf"
