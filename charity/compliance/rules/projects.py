"""Obligations of charitable projects (慈善项目; issue 16 point 12), for
:mod:`charity.compliance.rules.deadlines` (loaded by charity.compliance.obligations.facts).

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

from charity.compliance.rules.dates import add_months


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
