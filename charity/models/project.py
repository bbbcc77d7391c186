"""Charitable projects (慈善项目): the work the money pays for, with its own dates.

A project is distinct from the public fundraising campaigns (公开募捐活动) that fund it:
a campaign serves at most one project, a project may be funded by several campaigns or
by none (paid from unrestricted funds). Its implementation is disclosed on its own
information entry (MCA Order 81 art. 16): progress every 3 months when it lasts over 6
months and the result within 3 months of its end (Charity Law art. 79, second sentence).
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from charity.extensions import db
from charity.models.base import TimestampMixin
from charity.models.campaign import Campaign
from charity.models.organization import Organization


class CharitableProject(TimestampMixin, db.Model):
    __tablename__ = "charitable_projects"
    __table_args__ = (
        CheckConstraint("planned_end_date >= start_date", name="planned_end_ordered"),
        CheckConstraint(
            "actual_end_date IS NULL OR actual_end_date >= start_date", name="actual_end_ordered"
        ),
        CheckConstraint("length(title) > 0", name="title_present"),
        Index("ix_charitable_projects_organization_id", "organization_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), nullable=False)
    #: 项目名称.
    title: Mapped[str] = mapped_column(String(120), nullable=False)
    #: What the project does, for whom, where (public, Markdown).
    description_md: Mapped[str] = mapped_column(Text, nullable=False, default="")
    #: First day of implementation (CST).
    start_date: Mapped[date] = mapped_column(Date, nullable=False)
    #: Planned last day of implementation (CST).
    planned_end_date: Mapped[date] = mapped_column(Date, nullable=False)
    #: The day implementation really ended (recorded once; None while it runs).
    actual_end_date: Mapped[date | None] = mapped_column(Date)
    #: Marked by the organization as a major project (重大慈善项目): organizations without
    #: the public fundraising qualification disclose these by May 31 (Order 81).
    is_major: Mapped[bool] = mapped_column(default=False, nullable=False)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    organization: Mapped[Organization] = relationship()
    fundings: Mapped[list[ProjectCampaign]] = relationship(
        back_populates="project", order_by="ProjectCampaign.campaign_id"
    )

    @property
    def end_date(self) -> date:
        """The project's last day: the actual end once recorded, else the planned end."""
        return self.actual_end_date or self.planned_end_date

    @property
    def subject_key(self) -> str:
        """The subject of the project's disclosures and obligations."""
        return f"project:{self.id}"

    def __repr__(self) -> str:
        return f"<CharitableProject {self.id}>"


class ProjectCampaign(TimestampMixin, db.Model):
    """A campaign that raises money for a project (a campaign serves one project)."""

    __tablename__ = "project_campaigns"
    __table_args__ = (UniqueConstraint("campaign_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(
        ForeignKey("charitable_projects.id"), nullable=False, index=True
    )
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"), nullable=False)

    project: Mapped[CharitableProject] = relationship(back_populates="fundings")
    campaign: Mapped[Campaign] = relationship()
