"""Obligations derived from the rules: pure and deterministic, no database.

:func:`derive` takes facts about organizations, campaigns, community funds, charitable
projects and trusts, compliance triggers and published disclosures, and gives the dated
obligations (charity.compliance.rules.law) with their fulfilment, for a given ``today``
(CST). charity.compliance.obligations loads the facts and materialises the result in the
``obligations`` table. The status depends on today and is computed on read
(:func:`status_of` here, ``status_expression`` in SQL in
charity.compliance.readmodels.obligations), so a stored row never goes stale by itself.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass
from datetime import date, timedelta

from charity.compliance.rules import law as r
from charity.compliance.rules.dates import add_months, may_31_following, period_end
from charity.compliance.rules.projects import ProjectFacts, project_obligations
from charity.compliance.rules.trusts import TrustFacts, trust_obligations

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
