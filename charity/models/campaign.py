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
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from charity.core.clock import cst_date
from charity.extensions import db
from charity.models.base import TimestampMixin, UTCDateTime
from charity.models.image import Image
from charity.models.organization import Organization
from charity.models.statuses import TRANSITIONS, IllegalTransitionError, can_transition
from charity.models.user import User

CAMPAIGN_STATUSES = ("draft", "published", "closed")
#: draft -> published -> closed; nothing goes back.
CAMPAIGN_TRANSITIONS = TRANSITIONS["campaign"]
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
#: The filed plan: editable while a draft, frozen once published (a correction is a
#: disclosure, never an edit in place). The public log's payloads read some of these.
PLAN_FIELDS = (
    "organization_id",
    "partner_id",
    "title",
    "summary",
    "cause",
    "purpose_md",
    "start_date",
    "end_date",
    "region",
    "person_in_charge",
    "acceptance_methods",
    "receiving_account",
    "beneficiaries",
    "use_of_funds",
    "fundraising_cost",
    "leftover_plan",
    "expected_amount_fen",
    "currency",
    "filing_number",
    "filing_date",
    "is_emergency",
    "project_end_date",
)


class CampaignFrozenError(IllegalTransitionError):
    """A programming error: code tried to edit a published plan or a recorded close."""


class Campaign(TimestampMixin, db.Model):
    __tablename__ = "campaigns"
    __table_args__ = (
        CheckConstraint(f"status IN {CAMPAIGN_STATUSES!r}", name="status"),
        CheckConstraint("end_date >= start_date", name="dates_ordered"),
        CheckConstraint(
            "project_end_date IS NULL OR project_end_date >= end_date", name="project_end_ordered"
        ),
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
    #: The planned last day of the charitable project the money serves (None: the project
    #: ends with the fundraising). Leftover property is counted from it (CL art. 58).
    project_end_date: Mapped[date | None] = mapped_column(Date)
    #: Emergency (突发事件应对) campaigns may start before filing + 10 days.
    is_emergency: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="draft")
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    #: earmarked to a community fund of the same host (charity.services.funds).
    fund_id: Mapped[int | None] = mapped_column(ForeignKey("funds.id"))
    #: The cover picture (not part of the filed plan: it may change after publishing).
    cover_image_id: Mapped[int | None] = mapped_column(ForeignKey("images.id"))
    #: What the cover shows, for people who cannot see it (required with a cover).
    cover_alt: Mapped[str] = mapped_column(String(200), nullable=False, default="")

    organization: Mapped[Organization] = relationship(foreign_keys=[organization_id])
    partner: Mapped[Organization | None] = relationship(foreign_keys=[partner_id])
    cover_image: Mapped[Image | None] = relationship(foreign_keys=[cover_image_id])

    updates: Mapped[list[CampaignUpdate]] = relationship(
        back_populates="campaign",
        order_by="CampaignUpdate.posted_at.desc()",
        cascade="all, delete-orphan",
    )

    def is_running_on(self, day: date) -> bool:
        """Published and within its filed period on ``day`` (a China Standard Time date):
        the only time it may receive gifts."""
        return self.status == "published" and self.start_date <= day <= self.end_date

    @property
    def project_end(self) -> date:
        """The last day of the project the money serves: the planned project end, else the
        day fundraising ended (its end date, or an earlier closure, CST)."""
        if self.project_end_date is not None:
            return self.project_end_date
        if self.closed_at is not None:
            return min(self.end_date, cst_date(self.closed_at))
        return self.end_date

    def can_transition_to(self, status: str) -> bool:
        return status != self.status and can_transition("campaign", self.status, status)

    @validates(*PLAN_FIELDS)
    def _freeze_published_plan(self, key: str, value: object) -> object:
        current = getattr(self, key)
        if self.status in ("published", "closed") and current is not None and current != value:
            raise CampaignFrozenError(f"{key} of a published campaign cannot change")
        return value

    @validates("status")
    def _follow_transitions(self, key: str, value: str) -> str:
        if not can_transition("campaign", self.status, value):
            raise CampaignFrozenError(f"campaign cannot go from {self.status} to {value}")
        return value

    @validates("published_at", "closed_at")
    def _record_once(self, key: str, value: datetime | None) -> datetime | None:
        current = getattr(self, key)
        if current is not None and current != value:
            raise CampaignFrozenError(f"{key} is recorded once and never changes")
        return value

    def __repr__(self) -> str:
        return f"<Campaign {self.id} {self.status}>"


class CampaignUpdate(TimestampMixin, db.Model):
    """News the organization posts on its campaign page (progress, thanks, photos of work)."""

    __tablename__ = "campaign_updates"
    __table_args__ = (
        Index("ix_campaign_updates_campaign_id_posted_at", "campaign_id", "posted_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(
        ForeignKey("campaigns.id", ondelete="CASCADE"), nullable=False
    )
    title: Mapped[str] = mapped_column(String(120), nullable=False)
    #: Markdown as typed; rendered through charity.core.text.render_markdown (sanitized).
    body_md: Mapped[str] = mapped_column(Text, nullable=False)
    posted_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    #: An optional photo of the work, with its description (required with a photo).
    photo_image_id: Mapped[int | None] = mapped_column(ForeignKey("images.id"))
    photo_alt: Mapped[str] = mapped_column(String(200), nullable=False, default="")

    campaign: Mapped[Campaign] = relationship(back_populates="updates")
    author: Mapped[User | None] = relationship()
    photo_image: Mapped[Image | None] = relationship(foreign_keys=[photo_image_id])

    def __repr__(self) -> str:
        return f"<CampaignUpdate {self.id} campaign={self.campaign_id}>"
