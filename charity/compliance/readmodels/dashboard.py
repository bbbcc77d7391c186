"""The regulator's dashboard: every figure in a fixed number of queries.

The query count does not depend on the number of organizations (tests/compliance count
them at 5 and 50 organizations): rates come from one grouped query, lists are LIMITed
queries, mismatches use one correlated subquery.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlalchemy import String, and_, case, cast, func, literal, select
from sqlalchemy.orm import Session

from charity.compliance.readmodels.enforcement import TABLES as ENFORCEMENT_TABLES
from charity.compliance.readmodels.enforcement import enforcement_tables
from charity.compliance.readmodels.obligations import status_expression
from charity.compliance.rules import law as r
from charity.compliance.rules.deadlines import ASSESSED, DUE_SOON_DAYS, STATUSES
from charity.core.clock import cst_date
from charity.models import Campaign, CharitableProject, Fund, Organization
from charity.models.disclosure import Disclosure, DisclosureVersion, Obligation
from charity.services.disclosures import compare_figures
from charity.services.figures import raised_by_campaign_query, spent_by_campaign_query
from charity.services.reconciliation import regulator_rows


@dataclass
class Rate:
    label: str
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(STATUSES, 0))

    @property
    def assessed(self) -> int:
        return sum(self.counts[s] for s in ASSESSED)

    @property
    def on_time(self) -> int:
        return self.counts["on_time"]

    @property
    def rate(self) -> float | None:
        """Share of assessed obligations fulfilled on time (None: nothing assessed yet)."""
        return self.on_time / self.assessed if self.assessed else None

    @property
    def percent(self) -> str:
        return "—" if self.rate is None else f"{self.rate * 100:.1f}%"


@dataclass(frozen=True)
class Scope:
    """What the dashboard shows: a region (province), an organization type and an
    obligation/disclosure type; None means all."""

    province: str | None = None
    org_type: str | None = None
    disclosure_type: str | None = None


def as_scope(value: Scope | str | None) -> Scope:
    """A Scope, or a province name (None: everything), as a Scope."""
    return value if isinstance(value, Scope) else Scope(province=value or None)


def _scope(query, scope: Scope | str | None, type_column=Obligation.disclosure_type):  # type: ignore[no-untyped-def]
    scope = as_scope(scope)
    if scope.province:
        query = query.where(Organization.province == scope.province)
    if scope.org_type:
        query = query.where(Organization.org_type == scope.org_type)
    if scope.disclosure_type:
        query = query.where(type_column == scope.disclosure_type)
    return query


def _status_sums(today: date) -> list[Any]:
    """Per-status counts as conditional sums (the same rules as status_of); grouping by
    three keys instead of four is what keeps the rate query fast at 200,000 rows."""
    due, done = Obligation.due_date, Obligation.fulfilled_on
    open_ = done.is_(None)
    soon = today + timedelta(days=DUE_SOON_DAYS)

    def count_if(condition):  # type: ignore[no-untyped-def]
        return func.sum(case((condition, 1), else_=0))

    return [
        count_if(done.is_not(None) & (done <= due)),
        count_if(done > due),
        count_if(open_ & (due < today)),
        count_if(open_ & (due >= today) & (due <= soon)),
        func.count(),
    ]


def compliance_rates(session: Session, today: date, scope: Scope | str | None) -> dict[str, Any]:
    query = (
        select(
            Organization.province,
            Organization.org_type,
            Obligation.disclosure_type,
            *_status_sums(today),
        )
        .join(Organization, Organization.id == Obligation.organization_id)
        .group_by(Organization.province, Organization.org_type, Obligation.disclosure_type)
    )
    overall = Rate("all")
    groups: dict[str, dict[str, Rate]] = {"region": {}, "org_type": {}, "disclosure_type": {}}
    for province_, org_type, kind, *sums in session.execute(_scope(query, scope)):
        on_time, late, overdue, due_soon, total = (int(x or 0) for x in sums)
        counts = {
            "on_time": on_time,
            "late": late,
            "overdue": overdue,
            "due_soon": due_soon,
            "upcoming": total - on_time - late - overdue - due_soon,
        }
        targets = [overall]
        for dimension, value in (
            ("region", province_),
            ("org_type", org_type),
            ("disclosure_type", kind),
        ):
            targets.append(groups[dimension].setdefault(value, Rate(value)))
        for rate in targets:
            for state, count in counts.items():
                rate.counts[state] += count
    return {
        "overall": overall,
        **{k: sorted(v.values(), key=lambda x: x.label) for k, v in groups.items()},
    }


def obligation_list(
    session: Session, today: date, scope: Scope | str | None, wanted: str, limit: int | None
) -> list[tuple[Obligation, str, str, str]]:
    """Overdue or due-soon obligations, oldest deadline first: (obligation, org name,
    USCC, province)."""
    query = (
        select(Obligation, Organization.name, Organization.uscc, Organization.province)
        .join(Organization, Organization.id == Obligation.organization_id)
        .where(Obligation.fulfilled_on.is_(None))
        .order_by(Obligation.due_date, Obligation.id)
    )
    if wanted == "overdue":
        query = query.where(Obligation.due_date < today)
    else:  # due soon: the same window as status_of, as an indexable range
        soon = today + timedelta(days=DUE_SOON_DAYS)
        query = query.where(Obligation.due_date >= today, Obligation.due_date <= soon)
    if limit:
        query = query.limit(limit)
    return [tuple(row) for row in session.execute(_scope(query, scope))]  # type: ignore[misc]


def _latest(query):  # type: ignore[no-untyped-def]
    return query.join(
        DisclosureVersion,
        and_(
            DisclosureVersion.disclosure_id == Disclosure.id,
            DisclosureVersion.version == Disclosure.latest_version,
        ),
    ).join(Organization, Organization.id == Disclosure.organization_id)


def ratio_failures(session: Session, scope: Scope | str | None, limit: int | None) -> list[Any]:
    query = _latest(
        select(Disclosure, DisclosureVersion, Organization.name, Organization.uscc)
    ).where(
        Disclosure.disclosure_type == r.ANNUAL_FINANCIAL_REPORT,
        DisclosureVersion.ratio_ok.is_(False),
    )
    query = query.order_by(Disclosure.period_key.desc(), Disclosure.id)
    if limit:
        query = query.limit(limit)
    return list(session.execute(_scope(query, scope, Disclosure.disclosure_type)))


def ratio_explanation(version: DisclosureVersion) -> str:
    """The organization's explanation of special circumstances (民发〔2016〕189号 art. 12,
    issue 16 point 10), shown beside its ratio shortfall ("" when none was given)."""
    return str(json.loads(version.fields_json).get("ratio_explanation") or "")


def figure_mismatches(session: Session, scope: Scope | str | None, limit: int | None) -> list[Any]:
    """Published campaign figures whose money raised or money spent differs from the
    books as of the moment the figures are true of (the version's ``figures_as_of``):
    rows (disclosure, reported raised, computed raised, reported spent, computed spent,
    organization name, USCC, campaign title)."""
    as_of = DisclosureVersion.figures_as_of
    raised = raised_by_campaign_query(Disclosure.campaign_id, as_of)
    spent = spent_by_campaign_query(Disclosure.campaign_id, as_of)
    query = (
        _latest(
            select(
                Disclosure,
                DisclosureVersion.reported_raised_fen,
                raised.label("computed"),
                DisclosureVersion.reported_spent_fen,
                spent.label("computed_spent"),
                Organization.name,
                Organization.uscc,
                Campaign.title,
            )
        )
        .join(Campaign, Campaign.id == Disclosure.campaign_id)
        .where(
            Disclosure.disclosure_type.in_(sorted(r.CAMPAIGN_FIGURE_TYPES)),
            (DisclosureVersion.reported_raised_fen != raised)
            | (
                DisclosureVersion.reported_spent_fen.is_not(None)
                & (DisclosureVersion.reported_spent_fen != spent)
            ),
        )
        .order_by(Disclosure.first_published_at.desc(), Disclosure.id)
    )
    if limit:
        query = query.limit(limit)
    return list(session.execute(_scope(query, scope, Disclosure.disclosure_type)))


def mismatch_rows(session: Session, scope: Scope | str | None, limit: int | None) -> list[list]:
    """One row per differing figure: disclosure, organization, USCC, subject, type,
    period, figure, reported, platform, difference."""
    rows: list[list] = []
    for d, rep, comp, rep_spent, comp_spent, name, uscc, title in figure_mismatches(
        session, scope, limit
    ):
        pairs = [("raised_fen", rep, comp), ("spent_fen", rep_spent, comp_spent)]
        for figure, reported, computed in pairs:
            if reported is not None and int(reported) != int(computed):
                rows.append(
                    [
                        d.id,
                        name,
                        uscc,
                        title,
                        d.disclosure_type,
                        d.period_key,
                        figure,
                        int(reported),
                        int(computed),
                        int(reported) - int(computed),
                    ]
                )
    rows.extend(fund_statement_mismatch_rows(session, scope, limit))
    rows.extend(project_mismatch_rows(session, scope, limit))
    return rows


def project_mismatch_rows(
    session: Session, scope: Scope | str | None, limit: int | None
) -> list[list]:
    """Published project progress and result reports (latest versions) whose money
    differs from the books of the campaigns that fund the project, as of the moment the
    figures are true of (CL art. 79; issue 16 points 4 and 12), in the same row shape as
    the campaign mismatches (subject: the project's title). One comparison per published
    project report."""
    query = _latest(
        select(Disclosure, DisclosureVersion, Organization.name, Organization.uscc).add_columns(
            CharitableProject.title
        )
    ).join(
        CharitableProject,
        Disclosure.subject_key == literal("project:") + cast(CharitableProject.id, String),
    )
    query = query.where(
        Disclosure.disclosure_type.in_(sorted(r.PROJECT_TYPES)),
        CharitableProject.organization_id == Disclosure.organization_id,
    ).order_by(Disclosure.first_published_at.desc(), Disclosure.id)
    rows: list[list] = []
    for d, version, name, uscc, title in session.execute(
        _scope(query, scope, Disclosure.disclosure_type)
    ):
        for diff in compare_figures(session, version):
            rows.append(
                [
                    d.id, name, uscc, title, d.disclosure_type, d.period_key,
                    diff.name, diff.reported_fen, diff.computed_fen, diff.difference_fen,
                ]
            )  # fmt: skip
            if limit and len(rows) >= limit:
                return rows
    return rows


def fund_statement_mismatch_rows(
    session: Session, scope: Scope | str | None, limit: int | None
) -> list[list]:
    """Published fund statements (latest versions) whose figures differ from the fund's
    ledger statement for that year (issue 16 point 5), in the same row shape as the
    campaign mismatches (subject: the fund's name). One statement computation per
    published fund statement (a few per fund and year)."""
    query = _latest(
        select(Disclosure, DisclosureVersion, Organization.name, Organization.uscc, Fund.name)
    ).join(Fund, Disclosure.subject_key == literal("fund:") + cast(Fund.id, String))
    query = query.where(Disclosure.disclosure_type == r.FUND_ANNUAL_STATEMENT).order_by(
        Disclosure.id
    )
    rows: list[list] = []
    for d, version, name, uscc, fund_name in session.execute(
        _scope(query, scope, Disclosure.disclosure_type)
    ):
        for diff in compare_figures(session, version):
            rows.append(
                [
                    d.id,
                    name,
                    uscc,
                    fund_name,
                    d.disclosure_type,
                    d.period_key,
                    diff.name,
                    diff.reported_fen,
                    diff.computed_fen,
                    diff.difference_fen,
                ]
            )
            if limit and len(rows) >= limit:
                return rows
    return rows


def org_timeline(session: Session, org_id: int, today: date) -> list[dict[str, Any]]:
    """Deadlines and publications of one organization, in date order."""
    items: list[dict[str, Any]] = []
    for obligation, status in session.execute(
        select(Obligation, status_expression(today)).where(Obligation.organization_id == org_id)
    ):
        items.append(
            {
                "date": obligation.due_date,
                "kind": "deadline",
                "obligation": obligation,
                "status": status,
            }
        )
    for version, disclosure in session.execute(
        select(DisclosureVersion, Disclosure)
        .join(Disclosure, Disclosure.id == DisclosureVersion.disclosure_id)
        .where(Disclosure.organization_id == org_id)
    ):
        items.append(
            {
                "date": cst_date(version.published_at),
                "kind": "version",
                "version": version,
                "disclosure": disclosure,
            }
        )
    return sorted(items, key=lambda item: (item["date"], item["kind"]))


def counts_by(items: list[Rate]) -> dict[str, int]:
    totals: dict[str, int] = defaultdict(int)
    for rate in items:
        for key, value in rate.counts.items():
            totals[key] += value
    return dict(totals)


TABLES = (
    "by_region",
    "by_org_type",
    "by_disclosure_type",
    "overdue",
    "due_soon",
    "ratio_failures",
    "mismatches",
    "reconciliation",
    *ENFORCEMENT_TABLES,
)


def _reconciliation_table(
    session: Session, scope: Scope | str | None
) -> tuple[list[str], list[list[Any]]]:
    """payments: organizations whose books and the payment providers' statements disagree
    (charity.services.reconciliation), or with provider events waiting for a person."""
    scope = as_scope(scope)
    ids = None
    if scope.province or scope.org_type:
        query = _scope(select(Organization.id), Scope(scope.province, scope.org_type, None))
        ids = set(session.scalars(query))
    headers = [
        "organization_id",
        "organization",
        "uscc",
        "open_differences",
        "failed_statements",
        "unresolved_events",
        "difference_fen",
    ]
    return headers, regulator_rows(session, ids)


def _rate_rows(rates: list[Rate]) -> list[list[Any]]:
    return [
        [
            rate.label,
            rate.assessed,
            rate.on_time,
            rate.counts["late"],
            rate.counts["overdue"],
            rate.counts["due_soon"],
            rate.percent,
        ]
        for rate in rates
    ]


RATE_HEADERS = ["group", "assessed", "on_time", "late", "overdue", "due_soon", "rate"]


def build_tables(
    session: Session,
    today: date,
    scope: Scope | str | None,
    limit: int | None,
    rates: dict[str, Any] | None = None,
) -> dict[str, tuple[list[str], list[list[Any]]]]:
    """Every dashboard table as (headers, rows) of plain values, for pages and exports."""
    rates = rates or compliance_rates(session, today, scope)
    tables: dict[str, tuple[list[str], list[list[Any]]]] = {
        "by_region": (RATE_HEADERS, _rate_rows(rates["region"])),
        "by_org_type": (RATE_HEADERS, _rate_rows(rates["org_type"])),
        "by_disclosure_type": (RATE_HEADERS, _rate_rows(rates["disclosure_type"])),
    }
    for name in ("overdue", "due_soon"):
        rows = obligation_list(session, today, scope, name, limit)
        tables[name] = (
            [
                "organization_id",
                "organization",
                "uscc",
                "province",
                "disclosure_type",
                "period",
                "due_date",
                "days",
            ],
            [
                [
                    ob.organization_id,
                    org,
                    uscc,
                    prov,
                    ob.disclosure_type,
                    ob.period_key,
                    ob.due_date.isoformat(),
                    (ob.due_date - today).days,
                ]
                for ob, org, uscc, prov in rows
            ],
        )
    tables["ratio_failures"] = (
        ["disclosure_id", "organization", "uscc", "year", "version", "explanation"],
        [
            [d.id, name, uscc, d.period_key, v.version, ratio_explanation(v)]
            for d, v, name, uscc in ratio_failures(session, scope, limit)
        ],
    )
    tables["mismatches"] = (
        [
            "disclosure_id",
            "organization",
            "uscc",
            "subject",
            "type",
            "period",
            "figure",
            "reported_fen",
            "platform_fen",
            "difference_fen",
        ],
        mismatch_rows(session, scope, limit),
    )
    tables["reconciliation"] = _reconciliation_table(session, scope)
    tables.update(enforcement_tables(session, today, as_scope(scope).province, limit))
    tables["_overall"] = (RATE_HEADERS, _rate_rows([rates["overall"]]))
    return tables
