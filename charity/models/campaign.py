"""Public fundraising campaigns (公开募捐活动) with the plan fields the law requires."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
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
from charity.models.base import TimestampMixin, UTCDateTime
from charity.models.organization import Organization

CAMPAIGN_STATUSES = ("draft", "published", "closed")
#: draft -> published -> closed; nothing goes back.
CAMPAIGN_TRANSITIONS = {"draft": {"published"}, "published": {"closed"}, "closed": set()}
CAUSES = (
    "poverty",
    "education",
    "health",
    "elderly",
    "children",
    "disability",
    "disaster",
    "environment",
    "community",
    "other",
)


class Campaign(TimestampMixin, db.Model):
    __tablename__ = "campaigns"
    __table_args__ = (
        CheckConstraint(f"status IN {CAMPAIGN_STATUSES!r}", name="status"),
        CheckConstraint("end_date >= start_date", name="dates_ordered"),
        CheckConstraint("expected_amount_fen > 0", name="expected_amount_positive"),
        CheckConstraint(
            "partner_id IS NULL OR partner_id <> organization_id", name="partner_other"
        ),
        UniqueConstraint("filing_number"),
        Index("ix_campaigns_status_end_date", "status", "end_date"),
        Index("ix_campaigns_organization_id", "organization_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The qualified owner; receives all money.
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), nullable=False)
    #: 合作募捐: a partner without the qualification (optional).
    partner_id: Mapped[int | None] = mapped_column(ForeignKey("organizations.id"))
    title: Mapped[str] = mapped_column(String(120), nullable=False)
    #: Short text for cards and sharing.
    summary: Mapped[str] = mapped_column(String(300), nullable=False, default="")
    cause: Mapped[str] = mapped_column(String(20), nullable=False, default="other")
    #: 募捐目的 (Markdown, sanitized on render).
    purpose_md: Mapped[str] = mapped_column(Text, nullable=False)
    start_date: Mapped[date] = mapped_column(Date, nullable=False)
    end_date: Mapped[date] = mapped_column(Date, nullable=False)
    #: 募捐区域.
    region: Mapped[str] = mapped_column(String(200), nullable=False)
    #: 募捐活动负责人.
    person_in_charge: Mapped[str] = mapped_column(String(100), nullable=False)
    #: 募捐方式 — how gifts are accepted.
    acceptance_methods: Mapped[str] = mapped_column(Text, nullable=False)
    #: 银行账户 — the receiving account as filed.
    receiving_account: Mapped[str] = mapped_column(String(300), nullable=False)
    #: 受益人 / 受益对象.
    beneficiaries: Mapped[str] = mapped_column(Text, nullable=False)
    #: 募得款物用途.
    use_of_funds: Mapped[str] = mapped_column(Text, nullable=False)
    #: 募捐成本 — planned fundraising cost (text: basis and amount).
    fundraising_cost: Mapped[str] = mapped_column(Text, nullable=False)
    #: 剩余财产的处理 — plan for leftover property.
    leftover_plan: Mapped[str] = mapped_column(Text, nullable=False)
    #: 预期募捐金额, in fen.
    expected_amount_fen: Mapped[int] = mapped_column(BigInteger, nullable=False)
    currency: Mapped[str] = mapped_column(String(3), nullable=False, default="CNY")
    #: 备案编号 from the national platform (慈善中国).
    filing_number: Mapped[str] = mapped_column(String(64), nullable=False)
    filing_date: Mapped[date] = mapped_column(Date, nullable=False)
    #: Emergency (突发事件应对) campaigns may start before filing + 10 days.
    is_emergency: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="draft")
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    #: funds: earmarked to a community fund of the same host (charity.services.funds).
    fund_id: Mapped[int | None] = mapped_column(ForeignKey("funds.id"))

    organization: Mapped[Organization] = relationship(foreign_keys=[organization_id])
    partner: Mapped[Organization | None] = relationship(foreign_keys=[partner_id])

    def can_transition_to(self, status: str) -> bool:
        return status in CAMPAIGN_TRANSITIONS[self.status]

    def __repr__(self) -> str:
        return f"<Campaign {self.id} {self.status}>"
