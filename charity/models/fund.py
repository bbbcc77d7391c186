"""Community funds (社区慈善基金 / 冠名基金): restricted sub-ledgers of a host organization.

A fund has no legal personality and no bank account of its own: its money sits in the
host's accounts and is tracked by ledger accounts that carry ``fund_id``. Its committee
(≥ 5 members, an odd number, unpaid, at least one supervisor) is checked by
``charity.services.funds`` on creation and on every change.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from charity.extensions import db
from charity.models.base import TimestampMixin, UTCDateTime
from charity.models.organization import Organization
from charity.models.statuses import status_guard
from charity.models.user import User

FUND_STATUSES = ("active", "closed")
COMMITTEE_ROLES = ("chair", "member", "supervisor")
NAME_SUFFIX = "社区慈善基金"


class Fund(TimestampMixin, db.Model):
    __tablename__ = "funds"
    __table_args__ = (
        CheckConstraint(f"status IN {FUND_STATUSES!r}", name="status"),
        UniqueConstraint("name"),
        Index("ix_funds_organization_id", "organization_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The host (a verified organization); the fund's money is a restricted part of its books.
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), nullable=False)
    #: "host's full name + XX社区慈善基金", or a sponsor's name (then ``sponsor_reason`` is set).
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    #: Why the fund carries a sponsor's name instead of the host's (empty otherwise).
    sponsor_reason: Mapped[str] = mapped_column(Text, nullable=False, default="")
    #: 基金用途 (Markdown, sanitized on render).
    purpose_md: Mapped[str] = mapped_column(Text, nullable=False)
    #: The donors' restriction: what the money may and may not be used for.
    restriction: Mapped[str] = mapped_column(Text, nullable=False)
    #: 服务区域, e.g. 广州市越秀区北京街道.
    service_area: Mapped[str] = mapped_column(String(200), nullable=False)
    currency: Mapped[str] = mapped_column(String(3), nullable=False, default="CNY")
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="active")
    _follow_transitions = validates("status")(status_guard("fund"))
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    close_reason: Mapped[str] = mapped_column(Text, nullable=False, default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    organization: Mapped[Organization] = relationship()
    committee: Mapped[list[FundCommitteeMember]] = relationship(
        back_populates="fund", order_by="FundCommitteeMember.id", cascade="all, delete-orphan"
    )

    @property
    def active_committee(self) -> list[FundCommitteeMember]:
        return [m for m in self.committee if m.ended_at is None]

    @property
    def is_active(self) -> bool:
        return self.status == "active"

    def __repr__(self) -> str:
        return f"<Fund {self.id} {self.status}>"


class FundCommitteeMember(TimestampMixin, db.Model):
    """A seat on a fund's management committee (管理委员会). Replaced members keep their row."""

    __tablename__ = "fund_committee_members"
    __table_args__ = (
        CheckConstraint(f"role IN {COMMITTEE_ROLES!r}", name="role"),
        CheckConstraint("unpaid", name="unpaid"),
        Index("ix_fund_committee_members_fund_id", "fund_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    fund_id: Mapped[int] = mapped_column(ForeignKey("funds.id"), nullable=False)
    #: Public: committee members are named on the fund page (they hold a public office).
    name: Mapped[str] = mapped_column(String(100), nullable=False)
    role: Mapped[str] = mapped_column(String(16), nullable=False, default="member")
    #: Declared: members serve without pay (社区慈善基金管理委员会成员不得领取报酬).
    unpaid: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    #: A platform account, when the member approves disbursements here.
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    fund: Mapped[Fund] = relationship(back_populates="committee")
    user: Mapped[User | None] = relationship()


FUND_TRANSFER_STATUSES = ("requested", "posted", "rejected")


class FundTransfer(TimestampMixin, db.Model):
    """Money moved between the host's unrestricted funds and a fund, with a reason.

    Into the fund it is posted at once. Out of the fund (to_host) it is an outflow of
    donors' restricted money: requested by one person and posted when a second person
    approves it (the four-eyes rule, charity/services/four_eyes.py; issue 15 finding 6).
    Only posted transfers are in the ledger and on the public log.
    """

    __tablename__ = "fund_transfers"
    __table_args__ = (
        CheckConstraint("amount_fen > 0", name="amount_positive"),
        CheckConstraint("direction IN ('to_fund', 'to_host')", name="direction"),
        CheckConstraint(f"status IN {FUND_TRANSFER_STATUSES!r}", name="status"),
        #: Four eyes, also in the schema: nobody approves their own request.
        CheckConstraint(
            "decided_by_id IS NULL OR decided_by_id <> created_by_id", name="four_eyes"
        ),
        Index("ix_fund_transfers_fund_id", "fund_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    fund_id: Mapped[int] = mapped_column(ForeignKey("funds.id"), nullable=False)
    #: to_fund: host unrestricted -> fund; to_host: fund -> host unrestricted.
    direction: Mapped[str] = mapped_column(String(10), nullable=False)
    amount_fen: Mapped[int] = mapped_column(BigInteger, nullable=False)
    currency: Mapped[str] = mapped_column(String(3), nullable=False, default="CNY")
    reason: Mapped[str] = mapped_column(Text, nullable=False)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="posted")
    _follow_transitions = validates("status")(status_guard("fund_transfer"))
    #: The second person who approved (posted) or rejected a to_host request.
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    fund: Mapped[Fund] = relationship()
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])
