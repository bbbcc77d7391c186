"""Obligations of charitable trusts (慈善信托; issue 16 point 14), for
:mod:`charity.compliance.rules.deadlines` (loaded by charity.compliance.obligations.facts).

MCA Order 81 art. 12: a charity acting as trustee publishes the trust's affairs and
financial status at least once a year; a charity that sets up a trust as settlor
publishes its name, trustee and the amount entrusted within 30 days of its
establishment. Trusts whose trustee is a trust company owe nothing here (the trust
company discloses under the banking regulator's rules; the registry still lists them).
Interpretation of "at least once a year": one report per calendar year of the trust's
life (the year it was set up to the year its term ends), due March 31 of the following
year, the date 慈善信托管理办法 (银监发〔2017〕37号) gives the trustee's yearly report.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta


@dataclass(frozen=True)
class TrustFacts:
    id: int
    established_on: date
    term_end: date | None
    #: The trustee when it is a charity on the platform.
    trustee_org_id: int | None
    #: Charities on the platform among the settlors.
    settlor_org_ids: tuple[int, ...] = ()

    @property
    def subject(self) -> str:
        return f"trust:{self.id}"


#: make(rule code, organization id, subject, period, triggered on, due) -> an obligation
Maker = Callable[[str, int, str, str, date, date], object]


def trust_obligations(t: TrustFacts, today: date, make: Maker) -> Iterator[object]:
    if t.trustee_org_id is not None:
        last = t.term_end.year if t.term_end is not None else today.year - 1
        for year in range(t.established_on.year, min(last, today.year - 1) + 1):
            yield make(
                "trust_annual_report",
                t.trustee_org_id,
                t.subject,
                str(year),
                date(year, 12, 31),
                date(year + 1, 3, 31),
            )
    for org_id in t.settlor_org_ids:
        yield make(
            "trust_settlement",
            org_id,
            t.subject,
            "established",
            t.established_on,
            t.established_on + timedelta(days=30),
        )
