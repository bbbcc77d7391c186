"""Obligations derived from the rules and the platform's data.

:func:`derive` is pure and deterministic: facts about organizations, campaigns, community
funds, triggers and published disclosures in, dated obligations out, for a given ``today`` (CST).
:func:`refresh_obligations` materialises them in the ``obligations`` table for one, many
or all organizations in a fixed number of queries; services call it after changes and
``flask compliance refresh`` runs it daily (new annual reports appear on January 1st).
The status depends on today and is computed on read (:func:`status_of` in Python,
:func:`status_expression` in SQL), so a stored row never goes stale by itself.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, replace
from datetime import date, datetime, timedelta

from sqlalchemy import case, delete, insert, select, update
from sqlalchemy.orm import Session

from charity.compliance import rules as r
from charity.compliance.annual_reports import complete_work_reports
from charity.compliance.dates import add_months, end_of_day_utc, may_31_following, period_end
from charity.compliance.projects import (
    ProjectFacts,
    load_projects,
    project_end_by_campaign,
    project_obligations,
)
from charity.compliance.trusts import (
    TrustFacts,
    load_trusts,
    trust_obligations,
    trust_org_ids,
)
from charity.core.clock import cst_date, today_cst
from charity.core.events import Event
from charity.models import (
    Campaign,
    CharitableProject,
    Fund,
    Organization,
    RelatedPartyListFiling,
)
from charity.models.disclosure import ComplianceTrigger, Disclosure, Obligation
from charity.services.figures import leftover_by_campaign

DUE_SOON_DAYS = 14
STATUSES = ("upcoming", "due_soon", "overdue", "on_time", "late")
#: Statuses that count in a compliance rate (the deadline passed or it was fulfilled).
ASSESSED = ("overdue", "on_time", "late")


@dataclass(frozen=True)
class OrgFacts:
    id: int
    #: The legal registration/recognition date (CL art. 78, Order 81: the basic
    #: information is due 30 days after it); the platform verification when not recorded.
    registered_on: date
    #: The CST date the organization was verified on the platform: annual reports are
    #: owed here from that year on (earlier years were reported elsewhere). None: as above.
    on_platform_since: date | None = None
    #: The public fundraising qualification: certificate held, its date, the day it was
    #: lost (CL art. 22); decides who owes the major-projects report (Order 81).
    has_certificate: bool = False
    qualified_since: date | None = None
    qualification_lost_on: date | None = None

    def qualified_during(self, year: int) -> bool:
        """The same test as Organization.qualified_during."""
        if not self.has_certificate:
            return False
        if self.qualified_since is not None and self.qualified_since.year > year:
            return False
        lost = self.qualification_lost_on
        return lost is None or lost > date(year, 1, 1)


@dataclass(frozen=True)
class CampaignFacts:
    id: int
    organization_id: int
    partner_id: int | None
    start: date
    #: The planned (filed) end date of the fundraising.
    end: date
    is_emergency: bool
    filing_date: date
    #: CST date the campaign was closed, when it was (early or at the end).
    closed_on: date | None = None
    #: The planned last day of the project the money serves (None: fundraising's end).
    project_end_date: date | None = None
    #: Money left over (raised − spent, fen) at the end of the project's last day; None
    #: while the project has not ended (the leftover is not known yet).
    leftover_fen: int | None = None

    @property
    def project_end(self) -> date:
        """CL art. 58: leftover property is counted from the end of the project."""
        return self.project_end_date if self.project_end_date is not None else self.effective_end

    @property
    def effective_end(self) -> date:
        """The day fundraising really ended: the planned end, or an earlier closure."""
        return min(self.end, self.closed_on) if self.closed_on is not None else self.end


@dataclass(frozen=True)
class FundFacts:
    id: int
    organization_id: int
    created_on: date
    #: CST date the fund closed (None while active).
    closed_on: date | None = None


@dataclass(frozen=True)
class TriggerFacts:
    id: int
    organization_id: int
    kind: str
    occurred_on: date


@dataclass(frozen=True)
class Derived:
    key: str
    organization_id: int
    rule_code: str
    disclosure_type: str
    subject_key: str
    period_key: str
    campaign_id: int | None
    triggered_on: date
    due_date: date
    fulfilled_on: date | None = None
    disclosure_id: int | None = None


#: (org id, type, subject key, period key) -> (disclosure id, CST date first published)
Published = dict[tuple[int, str, str, str], tuple[int, date]]


def status_of(due_date: date, fulfilled_on: date | None, today: date) -> str:
    if fulfilled_on is not None:
        return "on_time" if fulfilled_on <= due_date else "late"
    if today > due_date:
        return "overdue"
    if (due_date - today).days <= DUE_SOON_DAYS:
        return "due_soon"
    return "upcoming"


def status_expression(today: date):  # type: ignore[no-untyped-def]
    """The same as status_of, as a SQL CASE over the obligations table."""
    fulfilled = Obligation.fulfilled_on.is_not(None)
    return case(
        (fulfilled & (Obligation.fulfilled_on <= Obligation.due_date), "on_time"),
        (fulfilled, "late"),
        (Obligation.due_date < today, "overdue"),
        (Obligation.due_date <= today + timedelta(days=DUE_SOON_DAYS), "due_soon"),
        else_="upcoming",
    )


def _make(
    rule: r.Rule,
    org_id: int,
    subject: str,
    period: str,
    trig: date,
    due: date,
    campaign_id: int | None = None,
) -> Derived:
    if rule.code in r.PERIOD_RULES:
        # Civil Code art. 203: a period whose last day is a statutory rest day ends on
        # the next working day. The period key keeps the nominal date.
        due = period_end(due)
    return Derived(
        key=f"{rule.code}:{org_id}:{subject}:{period}",
        organization_id=org_id,
        rule_code=rule.code,
        disclosure_type=rule.disclosure_type,
        subject_key=subject,
        period_key=period,
        campaign_id=campaign_id,
        triggered_on=trig,
        due_date=due,
    )


def _org_obligations(org: OrgFacts, today: date) -> Iterator[Derived]:
    basic = r.rule("basic_info_registration")
    yield _make(
        basic,
        org.id,
        "org",
        "registration",
        org.registered_on,
        org.registered_on + timedelta(days=basic.offset_days),
    )
    since = org.on_platform_since or org.registered_on
    for year in range(max(since.year, org.registered_on.year), today.year):
        year_end = date(year, 12, 31)
        for code in ("annual_work_report", "annual_financial_report", "related_party_list"):
            yield _make(r.rule(code), org.id, "org", str(year), year_end, may_31_following(year))
        if not org.qualified_during(year):
            rule = r.rule("major_projects")
            yield _make(rule, org.id, "org", str(year), year_end, may_31_following(year))


def _fund_obligations(fund: FundFacts, today: date) -> Iterator[Derived]:
    """A statement for every calendar year the fund existed, once the year is over: from
    the year it was created to the year it closed (inclusive) or last year."""
    rule = r.rule("fund_annual_statement")
    last = fund.closed_on.year if fund.closed_on is not None else today.year - 1
    for year in range(fund.created_on.year, min(last, today.year - 1) + 1):
        yield _make(
            rule,
            fund.organization_id,
            f"fund:{fund.id}",
            str(year),
            date(year, 12, 31),
            may_31_following(year),
        )


def trigger_period_key(kind: str, trigger_id: int) -> str:
    """The period of the obligation a compliance trigger starts (its disclosure's period)."""
    return f"{kind}-{trigger_id}"


def _trigger_obligations(trigger: TriggerFacts) -> Iterator[Derived]:
    rule = r.rule(r.TRIGGER_RULES[trigger.kind])
    yield _make(
        rule,
        trigger.organization_id,
        "org",
        trigger_period_key(trigger.kind, trigger.id),
        trigger.occurred_on,
        trigger.occurred_on + timedelta(days=rule.offset_days),
    )


def _campaign_obligations(c: CampaignFacts, published: Published) -> Iterator[Derived]:
    subject, org = f"campaign:{c.id}", c.organization_id

    def make(code: str, period: str, trig: date, due: date) -> Derived:
        return _make(r.rule(code), org, subject, period, trig, due, c.id)

    filing = r.rule("emergency_filing" if c.is_emergency else "campaign_filing")
    yield make(filing.code, "filing", c.start, c.start + timedelta(days=filing.offset_days))
    end = c.effective_end
    if c.is_emergency:
        every = r.rule("emergency_update").every_days
        due = c.start + timedelta(days=every)
        while due <= end:
            yield make("emergency_update", due.isoformat(), due - timedelta(days=every), due)
            due += timedelta(days=every)
    yield from _progress_obligations(c, make)
    after_end = add_months(end, 3)
    yield make("campaign_result", "result", end, after_end)
    if c.partner_id is not None:
        yield make("partner_evaluation", "end", end, after_end)
    yield from _leftover_obligation(c, make, published)


def _leftover_obligation(c: CampaignFacts, make, published: Published) -> Iterator[Derived]:  # type: ignore[no-untyped-def]
    """CL art. 58 (issue 16 point 2): leftover property is reported within 3 months of
    the end of the project the money serves, and only when something is left over
    (raised − spent at the end of the project's last day > 0). A campaign that raised
    nothing, or spent it all, owes nothing. A report already published keeps its
    obligation (it was filed against one)."""
    end = c.project_end
    slot = (c.organization_id, r.LEFTOVER_PROPERTY, f"campaign:{c.id}", "end")
    if (c.leftover_fen is not None and c.leftover_fen > 0) or slot in published:
        yield make("leftover_property", "end", end, add_months(end, 3))


def _progress_obligations(c: CampaignFacts, make) -> Iterator[Derived]:  # type: ignore[no-untyped-def]
    """CL 79: fundraising that lasts over 6 months (its filed period) publishes progress
    every 3 months from the start, while it runs (a deadline on the planned end is covered
    by the result report). Closing early never erases a report that had already fallen
    due: a deadline on or before the closing day stays owed; later ones never arise."""
    if c.end <= add_months(c.start, 6):
        return
    every = r.rule("campaign_progress").every_months
    k = 1
    while (due := add_months(c.start, every * k)) < c.end:
        if c.closed_on is not None and due > c.closed_on:
            return
        yield make("campaign_progress", due.isoformat(), add_months(due, -every), due)
        k += 1


def _project_obligations(p: ProjectFacts) -> Iterator[Derived]:
    def make(code: str, subject: str, period: str, trig: date, due: date) -> Derived:
        return _make(r.rule(code), p.organization_id, subject, period, trig, due)

    yield from project_obligations(p, make)  # type: ignore[misc]


def _trust_obligations(t: TrustFacts, today: date) -> Iterator[Derived]:
    def make(code: str, org_id: int, subject: str, period: str, trig: date, due: date) -> Derived:
        return _make(r.rule(code), org_id, subject, period, trig, due)

    yield from trust_obligations(t, today, make)  # type: ignore[misc]


def derive(
    orgs: Iterable[OrgFacts],
    campaigns: Iterable[CampaignFacts],
    triggers: Iterable[TriggerFacts],
    published: Published,
    filings: dict[int, date],
    today: date,
    funds: Iterable[FundFacts] = (),
    list_filings: dict[tuple[int, str], date] | None = None,
    projects: Iterable[ProjectFacts] = (),
    trusts: Iterable[TrustFacts] = (),
) -> list[Derived]:
    """Every obligation of these organizations, with fulfilment, as of ``today`` (CST)."""
    found: list[Derived] = []
    for org in orgs:
        found.extend(_org_obligations(org, today))
    for fund in funds:
        found.extend(_fund_obligations(fund, today))
    for trigger in triggers:
        found.extend(_trigger_obligations(trigger))
    for campaign in campaigns:
        found.extend(_campaign_obligations(campaign, published))
    for project in projects:
        found.extend(_project_obligations(project))
    for trust in trusts:
        found.extend(_trust_obligations(trust, today))
    return [_fulfil(item, published, filings, list_filings or {}) for item in found]


def _fulfil(
    item: Derived,
    published: Published,
    filings: dict[int, date],
    list_filings: dict[tuple[int, str], date],
) -> Derived:
    if item.disclosure_type == r.RELATED_PARTY_LIST:
        filed_on = list_filings.get((item.organization_id, item.period_key))
        return Derived(**{**asdict(item), "fulfilled_on": filed_on})
    if item.disclosure_type == r.CAMPAIGN_FILING:
        filed = filings.get(item.campaign_id or 0)
        return Derived(**{**asdict(item), "fulfilled_on": filed})
    hit = published.get(
        (item.organization_id, item.disclosure_type, item.subject_key, item.period_key)
    )
    if hit is None:
        return item
    return Derived(**{**asdict(item), "disclosure_id": hit[0], "fulfilled_on": hit[1]})


# --- loading facts and materialising -------------------------------------------------


def _verified_on(reviewed_at: datetime | None, created_at: datetime) -> date:
    return cst_date(reviewed_at or created_at)


def load_facts(session: Session, org_ids: list[int] | None, today: date):  # type: ignore[no-untyped-def]
    """Eleven queries, whatever the number of organizations, plus three per 500 campaigns
    whose project has ended (their leftover, CL art. 58)."""

    def only(column):  # type: ignore[no-untyped-def]
        return column.in_(org_ids) if org_ids is not None else True

    org_rows = session.execute(
        select(
            Organization.id,
            Organization.reviewed_at,
            Organization.created_at,
            Organization.registered_on,
            Organization.qualification_number,
            Organization.qualification_date,
            Organization.qualification_lost_on,
        ).where(Organization.status == "verified", only(Organization.id))
    ).all()
    orgs = [
        OrgFacts(i, legal or _verified_on(rev, cre), _verified_on(rev, cre), bool(num), since, lost)
        for i, rev, cre, legal, num, since, lost in org_rows
    ]
    verified = {org.id for org in orgs}
    campaign_rows = session.execute(
        select(
            Campaign.id,
            Campaign.organization_id,
            Campaign.partner_id,
            Campaign.start_date,
            Campaign.end_date,
            Campaign.closed_at,
            Campaign.is_emergency,
            Campaign.filing_date,
            Campaign.project_end_date,
        ).where(Campaign.status.in_(("published", "closed")), only(Campaign.organization_id))
    ).all()
    campaigns = [
        CampaignFacts(i, o, p, s, e, bool(em), f, cst_date(closed) if closed else None, pe)
        for i, o, p, s, e, closed, em, f, pe in campaign_rows
        if o in verified
    ]
    projects = load_projects(session, only, verified)
    campaigns = _serving_projects(campaigns, project_end_by_campaign(session, projects, only))
    campaigns = _with_leftovers(session, campaigns, today)
    triggers = [
        TriggerFacts(*row)
        for row in session.execute(
            select(
                ComplianceTrigger.id,
                ComplianceTrigger.organization_id,
                ComplianceTrigger.kind,
                ComplianceTrigger.occurred_on,
            ).where(only(ComplianceTrigger.organization_id))
        ).all()
        if row[1] in verified
    ]
    complete = complete_work_reports(session, only)
    published: Published = {
        (o, t, s, p): (i, complete[i] if t == r.ANNUAL_WORK_REPORT else cst_date(at))
        for i, o, t, s, p, at in session.execute(
            select(
                Disclosure.id,
                Disclosure.organization_id,
                Disclosure.disclosure_type,
                Disclosure.subject_key,
                Disclosure.period_key,
                Disclosure.first_published_at,
            ).where(only(Disclosure.organization_id))
        ).all()
        if t != r.ANNUAL_WORK_REPORT or complete.get(i) is not None
    }
    funds = [
        FundFacts(i, o, cst_date(created), cst_date(closed) if closed is not None else None)
        for i, o, created, closed in session.execute(
            select(Fund.id, Fund.organization_id, Fund.created_at, Fund.closed_at).where(
                only(Fund.organization_id)
            )
        ).all()
        if o in verified
    ]
    filings = {c.id: c.filing_date for c in campaigns}
    list_filings = {
        (o, str(y)): d
        for o, y, d in session.execute(
            select(
                RelatedPartyListFiling.organization_id,
                RelatedPartyListFiling.year,
                RelatedPartyListFiling.filed_on,
            ).where(only(RelatedPartyListFiling.organization_id))
        ).all()
    }
    trusts = load_trusts(session, verified, org_ids)
    return orgs, campaigns, triggers, published, filings, funds, list_filings, projects, trusts


def _serving_projects(
    campaigns: list[CampaignFacts], project_ends: dict[int, date]
) -> list[CampaignFacts]:
    """A campaign that serves a charitable project counts its leftover property from
    that project's last day (CL art. 58, issue 16 points 2 and 12), never before its own
    fundraising ended."""
    return [
        replace(c, project_end_date=max(project_ends[c.id], c.effective_end))
        if c.id in project_ends
        else c
        for c in campaigns
    ]


def _with_leftovers(
    session: Session, campaigns: list[CampaignFacts], today: date
) -> list[CampaignFacts]:
    """Attach the leftover (raised − spent at the project's end) to each campaign whose
    project has ended (its last day is over, CST)."""
    ended = {c.id: end_of_day_utc(c.project_end) for c in campaigns if c.project_end < today}
    if not ended:
        return campaigns
    leftovers = leftover_by_campaign(session, ended)
    return [replace(c, leftover_fen=leftovers[c.id]) if c.id in leftovers else c for c in campaigns]


_COMPARED = (
    "organization_id",
    "rule_code",
    "disclosure_type",
    "subject_key",
    "period_key",
    "campaign_id",
    "triggered_on",
    "due_date",
    "fulfilled_on",
    "disclosure_id",
)


def refresh_obligations(
    session: Session, org_ids: Iterable[int] | None = None, today: date | None = None
) -> dict[str, int]:
    """Bring the obligations table in line with the rules for these organizations
    (all when None). Returns counts of inserted, updated and deleted rows."""
    today = today or today_cst()
    ids = None if org_ids is None else sorted(set(org_ids))
    facts = load_facts(session, ids, today)
    orgs, campaigns, triggers, published, filings, funds, list_filings, projects, trusts = facts
    derived = derive(
        orgs, campaigns, triggers, published, filings, today, funds, list_filings, projects, trusts
    )
    wanted = {d.key: d for d in derived}
    query = select(Obligation.id, Obligation.key, *(getattr(Obligation, c) for c in _COMPARED))
    if ids is not None:
        query = query.where(Obligation.organization_id.in_(ids))
    existing = {row.key: row for row in session.execute(query).all()}
    inserts = [asdict(d) for key, d in wanted.items() if key not in existing]
    updates = [
        {"id": existing[key].id, **{c: getattr(d, c) for c in _COMPARED}}
        for key, d in wanted.items()
        if key in existing and any(getattr(d, c) != getattr(existing[key], c) for c in _COMPARED)
    ]
    stale = [row.id for key, row in existing.items() if key not in wanted]
    for chunk in _chunks(inserts, 5000):
        session.execute(insert(Obligation), chunk)
    if updates:
        session.execute(update(Obligation), updates)
    for chunk in _chunks(stale, 5000):
        session.execute(delete(Obligation).where(Obligation.id.in_(chunk)))
    return {"inserted": len(inserts), "updated": len(updates), "deleted": len(stale)}


def _chunks(items: list, size: int) -> Iterator[list]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def obligations_for_org(session: Session, org_id: int, today: date) -> list[tuple[Obligation, str]]:
    """An organization's obligations, newest deadline first, with today's status."""
    rows = session.execute(
        select(Obligation, status_expression(today))
        .where(Obligation.organization_id == org_id)
        .order_by(Obligation.due_date.desc(), Obligation.key)
    ).all()
    return [(row[0], row[1]) for row in rows]


def by_status(items: Iterable[tuple[Obligation, str]]) -> dict[str, int]:
    counts: dict[str, int] = defaultdict(int)
    for _obligation, status in items:
        counts[status] += 1
    return dict(counts)


def refresh_on_event(session: Session, event: Event) -> None:
    """Keep obligations current when organizations, campaigns or community funds change
    (verified, published, created, closed ...), whoever records the event."""
    if event.subject_id is None:
        return
    if event.subject_table == "organizations":
        org_id: int | None = event.subject_id
    elif event.subject_table == "campaigns":
        org_id = session.scalar(
            select(Campaign.organization_id).where(Campaign.id == event.subject_id)
        )
    elif event.subject_table == "charitable_projects":
        org_id = session.scalar(
            select(CharitableProject.organization_id).where(
                CharitableProject.id == event.subject_id
            )
        )
    elif event.subject_table == "charitable_trusts":
        concerned = trust_org_ids(session, event.subject_id)
        if concerned:
            refresh_obligations(session, concerned)
        return
    elif event.subject_table == "funds":
        org_id = session.scalar(select(Fund.organization_id).where(Fund.id == event.subject_id))
    else:
        return
    if org_id is not None:
        refresh_obligations(session, [org_id])
