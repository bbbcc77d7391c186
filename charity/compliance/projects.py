"""Obligations of charitable projects (慈善项目; issue 16 point 12), for
:mod:`charity.compliance.obligations`.

Charity Law (2023) art. 79, second sentence: a charitable project whose implementation
lasts over 6 months publishes its implementation at least every 3 months, and its
implementation and the use of the money within 3 months after it ends. MCA Order 81
art. 16: each project has its own, relatively independent information entry (subject
``project:<id>``: its page, its obligations, its disclosures and their corrections).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from charity.compliance.dates import add_months
from charity.models.project import CharitableProject, ProjectCampaign


@dataclass(frozen=True)
class ProjectFacts:
    id: int
    organization_id: int
    start: date
    planned_end: date
    #: Recorded when implementation really ended (None while it runs).
    actual_end: date | None = None

    @property
    def end(self) -> date:
        """The project's last day: the actual end once recorded, else the planned one."""
        return self.actual_end or self.planned_end

    @property
    def subject(self) -> str:
        return f"project:{self.id}"

    def lasts_over_six_months(self) -> bool:
        """Judged on the longer of the planned and the actual period: a project planned
        for a year owes the reports that fell due before it ended early."""
        longest = max(self.planned_end, self.actual_end or self.planned_end)
        return longest > add_months(self.start, 6)


#: make(rule code, subject, period, triggered on, due) -> an obligation
Maker = Callable[[str, str, str, date, date], object]


def project_obligations(p: ProjectFacts, make: Maker) -> Iterator[object]:
    """Progress every 3 months from the start for each deadline before the project's
    last day (a deadline after an early end never arises; the one on the last day is
    covered by the result), and the result 3 months after the last day."""
    if p.lasts_over_six_months():
        k = 1
        while (due := add_months(p.start, 3 * k)) < p.end:
            yield make("project_progress", p.subject, due.isoformat(), add_months(due, -3), due)
            k += 1
    yield make("project_result", p.subject, "completion", p.end, add_months(p.end, 3))


def load_projects(session: Session, where, verified: set[int]) -> list[ProjectFacts]:  # type: ignore[no-untyped-def]
    """The projects of verified organizations; ``where`` limits the organizations."""
    rows = session.execute(
        select(
            CharitableProject.id,
            CharitableProject.organization_id,
            CharitableProject.start_date,
            CharitableProject.planned_end_date,
            CharitableProject.actual_end_date,
        ).where(where(CharitableProject.organization_id))
    ).all()
    return [ProjectFacts(*row) for row in rows if row[1] in verified]


def project_end_by_campaign(
    session: Session, projects: list[ProjectFacts], where
) -> dict[int, date]:  # type: ignore[no-untyped-def]
    """campaign id -> the last day of the project it serves (for leftover property,
    CL art. 58: counted from the end of the project the money serves)."""
    if not projects:
        return {}
    ends = {p.id: p.end for p in projects}
    rows = session.execute(
        select(ProjectCampaign.campaign_id, ProjectCampaign.project_id)
        .join(CharitableProject, CharitableProject.id == ProjectCampaign.project_id)
        .where(where(CharitableProject.organization_id))
    ).all()
    return {cid: ends[pid] for cid, pid in rows if pid in ends}
