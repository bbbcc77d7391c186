"""The statutory disclosure rules, as data, in this one place.

Each rule names its legal source, the disclosure type that fulfils it, what triggers it
and when it falls due. :mod:`charity.compliance.rules.deadlines` turns these rules plus the
platform's data (organizations, campaigns, compliance triggers) into dated obligations;
nothing else in the code base encodes a deadline.

Sources: Charity Law of the PRC (慈善法, as amended 2023), MCA Order 74 (慈善组织公开募捐
管理办法), MCA Order 81 (慈善组织信息公开办法), 民发〔2016〕189号 (annual spending and
management costs; encoded in :mod:`charity.compliance.rules.ratios`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask_babel import lazy_gettext as _l

#: Disclosure types (信息公开类型). Forms and field specs: charity.compliance.rules.fields.
BASIC_INFO = "basic_info"
ANNUAL_WORK_REPORT = "annual_work_report"
ANNUAL_FINANCIAL_REPORT = "annual_financial_report"
CAMPAIGN_PROGRESS = "campaign_progress"
CAMPAIGN_RESULT = "campaign_result"
PARTNER_EVALUATION = "partner_evaluation"
LEFTOVER_PROPERTY = "leftover_property"
MAJOR_TRANSACTIONS = "major_transactions"
FUND_ANNUAL_STATEMENT = "fund_annual_statement"
EMERGENCY_UPDATE = "emergency_update"
#: Charitable projects (慈善项目, charity.models.project; issue 16 point 12).
PROJECT_PROGRESS = "project_progress"
PROJECT_RESULT = "project_result"
#: Last year's major projects, owed by organizations without the public fundraising
#: qualification (MCA Order 81; issue 16 point 13).
MAJOR_PROJECTS = "major_projects"
#: Charitable trusts (慈善信托, charity.models.trust; issue 16 point 14), MCA Order 81
#: art. 12: a charity trustee's yearly report, a charity settlor's 30-day disclosure.
TRUST_ANNUAL = "trust_annual_report"
TRUST_SETTLEMENT = "trust_settlement"
#: Not a disclosure on this platform but a filing on the national platform (慈善中国),
#: checked against Campaign.filing_date.
CAMPAIGN_FILING = "campaign_filing"
#: Not a public disclosure but the related-party list sent to the registration authority
#: (MCA Order 81 arts. 14–15), checked against RelatedPartyListFiling.
RELATED_PARTY_LIST = "related_party_list"

DISCLOSURE_TYPES = (
    BASIC_INFO,
    ANNUAL_WORK_REPORT,
    ANNUAL_FINANCIAL_REPORT,
    CAMPAIGN_PROGRESS,
    CAMPAIGN_RESULT,
    PARTNER_EVALUATION,
    LEFTOVER_PROPERTY,
    MAJOR_TRANSACTIONS,
    FUND_ANNUAL_STATEMENT,
    EMERGENCY_UPDATE,
    PROJECT_PROGRESS,
    PROJECT_RESULT,
    MAJOR_PROJECTS,
    TRUST_ANNUAL,
    TRUST_SETTLEMENT,
)
OBLIGATION_TYPES = (*DISCLOSURE_TYPES, CAMPAIGN_FILING, RELATED_PARTY_LIST)

#: Types whose figures finance staff prepare; finance members may publish these (and only
#: these), owners and editors may publish every type.
FINANCIAL_TYPES = frozenset(
    {ANNUAL_FINANCIAL_REPORT, MAJOR_TRANSACTIONS, FUND_ANNUAL_STATEMENT, TRUST_ANNUAL}
)
#: Types about one campaign, carrying money figures compared with the platform's own.
CAMPAIGN_FIGURE_TYPES = frozenset({CAMPAIGN_PROGRESS, CAMPAIGN_RESULT, EMERGENCY_UPDATE})
CAMPAIGN_TYPES = frozenset({*CAMPAIGN_FIGURE_TYPES, PARTNER_EVALUATION, LEFTOVER_PROPERTY})
#: Types about one charitable project (subject ``project:<id>``).
PROJECT_TYPES = frozenset({PROJECT_PROGRESS, PROJECT_RESULT})
#: Types about one charitable trust (subject ``trust:<id>``).
TRUST_TYPES = frozenset({TRUST_ANNUAL, TRUST_SETTLEMENT})

TYPE_LABELS = {
    BASIC_INFO: _l("Basic information"),
    ANNUAL_WORK_REPORT: _l("Annual work report"),
    ANNUAL_FINANCIAL_REPORT: _l("Annual financial report"),
    CAMPAIGN_PROGRESS: _l("Campaign progress"),
    CAMPAIGN_RESULT: _l("Campaign result"),
    PARTNER_EVALUATION: _l("Partner evaluation"),
    LEFTOVER_PROPERTY: _l("Leftover property"),
    MAJOR_TRANSACTIONS: _l("Major and related-party transactions"),
    FUND_ANNUAL_STATEMENT: _l("Fund annual statement"),
    EMERGENCY_UPDATE: _l("Emergency receipts and use"),
    PROJECT_PROGRESS: _l("Project implementation progress"),
    PROJECT_RESULT: _l("Project implementation result"),
    MAJOR_PROJECTS: _l("Major projects of the year"),
    TRUST_ANNUAL: _l("Charitable trust: yearly affairs and finances"),
    TRUST_SETTLEMENT: _l("Charitable trust set up as settlor"),
    CAMPAIGN_FILING: _l("Campaign filing"),
    RELATED_PARTY_LIST: _l("Related-party list (to the registration authority)"),
}


@dataclass(frozen=True)
class Rule:
    #: Stable identifier, part of every obligation key derived from the rule.
    code: str
    #: The disclosure type that fulfils it (or CAMPAIGN_FILING, checked on the campaign).
    disclosure_type: str
    #: Legal source, as cited to users and regulators.
    source: str
    #: What creates the obligation (translatable text).
    trigger: Any
    #: The due-date rule in words (the numbers below are what the code uses).
    due: Any
    #: Deadline offsets from the trigger date (days and/or months; negative = before).
    offset_days: int = 0
    offset_months: int = 0
    #: For recurring obligations: the interval between consecutive deadlines.
    every_days: int = 0
    every_months: int = 0


RULES: tuple[Rule, ...] = (
    Rule(
        "basic_info_registration",
        BASIC_INFO,
        "Charity Law (2023) art. 78; MCA Order 81",
        _l("legal registration or recognition as a charitable organization"),
        _l("within 30 days of registration"),
        offset_days=30,
    ),
    Rule(
        "basic_info_change",
        BASIC_INFO,
        "Charity Law (2023) art. 78; MCA Order 81",
        _l(
            "a change of charter, board, supervisors, legal representative, qualification, "
            "address or contacts, or a community or other special fund set up"
        ),
        _l("within 30 days of the change"),
        offset_days=30,
    ),
    Rule(
        "annual_work_report",
        ANNUAL_WORK_REPORT,
        "Charity Law (2023) art. 78; MCA Order 81",
        _l("the end of each calendar year"),
        _l("by May 31 of the following year"),
    ),
    Rule(
        "annual_financial_report",
        ANNUAL_FINANCIAL_REPORT,
        "Charity Law (2023) arts. 61, 78; MCA Order 81",
        _l("the end of each calendar year"),
        _l("by May 31 of the following year (audited if qualified for public fundraising)"),
    ),
    Rule(
        "major_projects",
        MAJOR_PROJECTS,
        "MCA Order 81",
        _l("the end of each calendar year, for organizations without the qualification"),
        _l("last year's major projects published by May 31"),
    ),
    Rule(
        "trust_annual_report",
        TRUST_ANNUAL,
        "MCA Order 81 art. 12 para. 1; 慈善信托管理办法 (银监发〔2017〕37号)",
        _l("each calendar year of a charitable trust whose trustee is the organization"),
        _l("the trust's affairs and finances of the year published by March 31"),
    ),
    Rule(
        "trust_settlement",
        TRUST_SETTLEMENT,
        "MCA Order 81 art. 12 para. 2",
        _l("the organization, as settlor, sets up a charitable trust"),
        _l("trust name, trustee and amount entrusted published within 30 days"),
        offset_days=30,
    ),
    Rule(
        "campaign_filing",
        CAMPAIGN_FILING,
        "Charity Law (2023) art. 24; MCA Order 74 art. 11",
        _l("a public fundraising campaign (not an emergency)"),
        _l("plan filed at least 10 days before the campaign starts"),
        offset_days=-10,
    ),
    Rule(
        "emergency_filing",
        CAMPAIGN_FILING,
        "Charity Law (2023) art. 73",
        _l("an emergency campaign starts"),
        _l("filed within 10 days after the start"),
        offset_days=10,
    ),
    Rule(
        "emergency_update",
        EMERGENCY_UPDATE,
        "Charity Law (2023) arts. 72, 73",
        _l("an emergency campaign is running"),
        _l("receipts and use published at least every 5 days during the response"),
        every_days=5,
    ),
    Rule(
        "campaign_progress",
        CAMPAIGN_PROGRESS,
        "Charity Law (2023) art. 79",
        _l("a campaign running for more than 6 months"),
        _l("progress published at least every 3 months"),
        every_months=3,
    ),
    Rule(
        "campaign_result",
        CAMPAIGN_RESULT,
        "Charity Law (2023) art. 79",
        _l("a campaign ends"),
        _l("result and project implementation within 3 months after the end"),
        offset_months=3,
    ),
    Rule(
        "project_progress",
        PROJECT_PROGRESS,
        "Charity Law (2023) art. 79; MCA Order 81 art. 16",
        _l("a charitable project lasting more than 6 months"),
        _l("implementation progress published at least every 3 months"),
        every_months=3,
    ),
    Rule(
        "project_result",
        PROJECT_RESULT,
        "Charity Law (2023) art. 79; MCA Order 81 art. 16",
        _l("a charitable project ends"),
        _l("implementation and use of the money within 3 months after the project ends"),
        offset_months=3,
    ),
    Rule(
        "partner_evaluation",
        PARTNER_EVALUATION,
        "MCA Order 81",
        _l("a cooperation campaign (合作募捐) ends"),
        _l("evaluation of the partner within 3 months after the end"),
        offset_months=3,
    ),
    Rule(
        "leftover_property",
        LEFTOVER_PROPERTY,
        "Charity Law (2023) art. 58; MCA Order 81",
        _l("the project a campaign paid for ends with money left over"),
        _l("handling of leftover property within 3 months of the project's end"),
        offset_months=3,
    ),
    Rule(
        "major_transactions",
        MAJOR_TRANSACTIONS,
        "MCA Order 81 arts. 13–15",
        _l("a major asset change, investment or related-party transaction"),
        _l("within 30 days"),
        offset_days=30,
    ),
    Rule(
        "related_party_list",
        RELATED_PARTY_LIST,
        "MCA Order 81 arts. 14–15",
        _l("the end of each calendar year"),
        _l("related-party list sent to the registration authority by May 31"),
    ),
    Rule(
        "fund_annual_statement",
        FUND_ANNUAL_STATEMENT,
        "MCA Order 81; Charity Law (2023) art. 78",
        _l("the end of each calendar year, for every hosted community fund"),
        _l("by May 31 of the following year"),
    ),
)

RULES_BY_CODE = {rule.code: rule for rule in RULES}

#: Rules whose deadline is the last day of a period counted forward from an event (so
#: many days or months after it): Civil Code art. 203 moves such a last day off a
#: statutory rest day to the next working day (charity.compliance.rules.dates.period_end).
#: Not moved: fixed calendar dates (May 31 of the following year) and the filing lead
#: (a period counted *backwards* from the start: moving it would shorten the lead).
PERIOD_RULES = frozenset(
    {
        "basic_info_registration",
        "basic_info_change",
        "emergency_filing",
        "emergency_update",
        "campaign_progress",
        "campaign_result",
        "project_progress",
        "project_result",
        "partner_evaluation",
        "leftover_property",
        "major_transactions",
        "trust_settlement",
    }
)

#: Non-deadline rules of the same table, enforced elsewhere, listed for the rules page.
OTHER_RULES = (
    (
        _l("Correction of anything published"),
        "MCA Order 81 art. 16",
        _l("a new version with a note"),
    ),
    (_l("Spending ratios"), "Charity Law (2023) art. 61; 民发〔2016〕189号", _l("annual")),
)
#: Triggers recorded by services (charity.services.compliance_triggers.record_compliance_trigger)
#: and the rule each starts.
TRIGGER_RULES = {
    "basic_info_change": "basic_info_change",
    "major_transaction": "major_transactions",
    # A gift from a listed related party: the 30-day related-party disclosure (Order 81
    # arts. 14–15), fulfilled by a major/related-party transactions disclosure.
    "related_party_gift": "major_transactions",
}


def rule(code: str) -> Rule:
    return RULES_BY_CODE[code]
