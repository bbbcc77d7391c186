"""Structured fields of each disclosure type (the forms built from them:
charity.compliance.presentation.forms).

Each field is (name, kind, label, required). Kinds: ``fen`` (typed in yuan, stored as
integer fen), ``int``, ``text``, ``date`` (ISO), ``bool``. The stored JSON holds exactly
these names, so pages, diffs, ratio checks and figure comparisons read them by name.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask_babel import lazy_gettext as _l

from charity.compliance.rules import law as r
from charity.core.money import format_fen


@dataclass(frozen=True)
class FieldSpec:
    name: str
    kind: str
    label: Any
    required: bool = True


_FIGURES = (
    FieldSpec("raised_fen", "fen0", _l("Raised (net of refunds)")),
    FieldSpec("refunded_fen", "fen0", _l("Refunded")),
    FieldSpec("gift_count", "int", _l("Number of gifts")),
    FieldSpec("in_kind_fen", "fen0", _l("In-kind gifts (valuation)")),
    FieldSpec("spent_fen", "fen0", _l("Spent")),
    FieldSpec("balance_fen", "fen0", _l("Balance")),
    FieldSpec("use_summary", "text", _l("Use of the money so far"), required=False),
)

#: A project's money: what its campaigns raised and spent, pre-filled from the books
#: (charity.services.projects.project_figures).
_PROJECT_FIGURES = (
    FieldSpec("raised_fen", "fen0", _l("Raised for the project (net of refunds)")),
    FieldSpec("spent_fen", "fen0", _l("Spent on the project")),
    FieldSpec("balance_fen", "fen0", _l("Balance")),
    FieldSpec("beneficiaries_count", "int", _l("Number of beneficiaries"), required=False),
)

FIELDS: dict[str, tuple[FieldSpec, ...]] = {
    r.BASIC_INFO: (
        FieldSpec("charter_summary", "text", _l("Charter (summary)")),
        FieldSpec("board", "text", _l("Board members")),
        FieldSpec("supervisors", "text", _l("Supervisors")),
        FieldSpec("sub_units", "text", _l("Sub-units and special funds"), required=False),
        FieldSpec("contacts", "text", _l("Contacts")),
    ),
    # CL art. 13 and MCA Order 81 (issue 16 point 13): the contents of the annual work
    # report, figures pre-filled from the books (charity.services.annual_reports).
    r.ANNUAL_WORK_REPORT: (
        FieldSpec("activities", "text", _l("Activities of the year")),
        FieldSpec("beneficiaries_count", "int", _l("Number of beneficiaries"), required=False),
        FieldSpec("fundraising", "text", _l("Fundraising: when, where and how (募捐情况)")),
        FieldSpec("gifts_received_fen", "fen0", _l("Gifts received in money (net of refunds)")),
        FieldSpec("gift_count", "int", _l("Number of gifts")),
        FieldSpec("in_kind_fen", "fen0", _l("In-kind gifts received (valuation)")),
        FieldSpec("property_use", "text", _l("Management and use of charitable property")),
        FieldSpec("spent_fen", "fen0", _l("Money spent on charitable activities")),
        FieldSpec("projects", "text", _l("Charitable projects carried out")),
        FieldSpec("project_count", "int", _l("Number of charitable projects")),
        FieldSpec("fundraising_costs_fen", "fen0", _l("Fundraising costs (募捐成本)")),
        FieldSpec("staff_pay_fen", "fen0", _l("Staff pay and benefits (工资福利)")),
        FieldSpec("staff_count", "int", _l("Number of paid staff"), required=False),
        FieldSpec(
            "cooperation",
            "text",
            _l("Cooperation with organizations or individuals outside the mainland (or none)"),
        ),
        # Organizations qualified for public fundraising during the year (Order 81):
        # required then, checked in charity.services.disclosures._check_work_report.
        FieldSpec(
            "top_pay",
            "text",
            _l("The five best-paid people: position and pay (required if qualified)"),
            required=False,
        ),
        FieldSpec(
            "expense_standards",
            "text",
            _l(
                "Standards for official travel abroad, vehicles, hospitality and travel "
                "(required if qualified)"
            ),
            required=False,
        ),
    ),
    # Order 81: organizations without the public fundraising qualification publish last
    # year's major projects by May 31.
    r.MAJOR_PROJECTS: (
        FieldSpec("projects", "text", _l("Major charitable projects and their implementation")),
        FieldSpec("project_count", "int", _l("Number of major projects")),
        FieldSpec("spent_fen", "fen0", _l("Spent on them"), required=False),
    ),
    r.ANNUAL_FINANCIAL_REPORT: (
        FieldSpec("total_income_fen", "fen0", _l("Total income this year")),
        FieldSpec("last_year_income_fen", "fen0", _l("Total income last year")),
        FieldSpec("charitable_spending_fen", "fen0", _l("Charitable-activity spending")),
        FieldSpec("management_costs_fen", "fen0", _l("Management costs")),
        FieldSpec("fundraising_costs_fen", "fen0", _l("Fundraising costs")),
        FieldSpec("total_spending_fen", "fen0", _l("Total spending this year")),
        FieldSpec("net_assets_fen", "fen0", _l("Net assets at the end of this year")),
        FieldSpec("prior_net_assets_fen", "fen0", _l("Net assets at the end of last year")),
        FieldSpec("avg_income_3y_fen", "fen0", _l("Average income of the last three years"), False),
        FieldSpec(
            "avg_net_assets_3y_fen", "fen0", _l("Average year-end net assets, three years"), False
        ),
        # CL art. 78 para. 2 (issue 16 point 6): required, with the audit report attached,
        # when the organization held the public fundraising qualification that year
        # (checked in charity.services.disclosures._check_audit).
        FieldSpec(
            "auditor",
            "text",
            _l("Auditor (accounting firm; required if qualified for public fundraising)"),
            required=False,
        ),
        # 民发〔2016〕189号 art. 12 (issue 16 point 10): shown to the regulator beside a
        # ratio shortfall.
        FieldSpec(
            "ratio_explanation",
            "text",
            _l("Special circumstances behind a ratio shortfall (民发〔2016〕189号 art. 12)"),
            required=False,
        ),
    ),
    r.CAMPAIGN_PROGRESS: _FIGURES,
    r.CAMPAIGN_RESULT: (*_FIGURES, FieldSpec("implementation", "text", _l("Implementation"))),
    r.EMERGENCY_UPDATE: _FIGURES,
    r.PROJECT_PROGRESS: (
        *_PROJECT_FIGURES,
        FieldSpec("progress", "text", _l("Implementation so far")),
    ),
    r.PROJECT_RESULT: (
        *_PROJECT_FIGURES,
        FieldSpec("implementation", "text", _l("Implementation and results")),
        FieldSpec("use_summary", "text", _l("Use of the money")),
    ),
    # MCA Order 81 art. 12 (issue 16 point 14), pre-filled from the trust registry.
    r.TRUST_ANNUAL: (
        FieldSpec("trust_name", "text", _l("Charitable trust")),
        FieldSpec("filing_number", "text", _l("Filing number (备案编号)")),
        FieldSpec("affairs", "text", _l("Trust affairs handled this year")),
        FieldSpec("assets_fen", "fen0", _l("Trust property at the end of the year")),
        FieldSpec("income_fen", "fen0", _l("Income this year")),
        FieldSpec("spent_fen", "fen0", _l("Spent on the charitable purpose this year")),
        FieldSpec("fees_fen", "fen0", _l("Trustee and custody fees"), required=False),
    ),
    r.TRUST_SETTLEMENT: (
        FieldSpec("trust_name", "text", _l("Charitable trust")),
        FieldSpec("trustee_name", "text", _l("Trustee")),
        FieldSpec("amount_fen", "fen0", _l("Amount entrusted")),
        FieldSpec("filing_number", "text", _l("Filing number (备案编号)"), required=False),
    ),
    r.PARTNER_EVALUATION: (
        FieldSpec("partner_name", "text", _l("Partner")),
        FieldSpec("evaluation", "text", _l("Evaluation")),
    ),
    r.LEFTOVER_PROPERTY: (
        FieldSpec("leftover_fen", "fen0", _l("Leftover amount")),
        FieldSpec("handling", "text", _l("How it was handled")),
    ),
    r.MAJOR_TRANSACTIONS: (
        FieldSpec("transaction_date", "date", _l("Date of the transaction")),
        FieldSpec("counterparty", "text", _l("Counterparty")),
        FieldSpec("amount_fen", "fen0", _l("Amount")),
        FieldSpec("related_party", "bool", _l("Related party"), required=False),
        FieldSpec("description", "text", _l("Description")),
    ),
    r.FUND_ANNUAL_STATEMENT: (
        FieldSpec("fund_name", "text", _l("Fund")),
        FieldSpec("opening_fen", "fen0", _l("Opening balance"), required=False),
        FieldSpec("income_fen", "fen0", _l("Income")),
        FieldSpec("spent_fen", "fen0", _l("Spent")),
        FieldSpec("balance_fen", "fen0", _l("Balance")),
    ),
}


#: Annual work report items owed by organizations qualified for public fundraising during
#: the year (Order 81): the five best-paid people and the expense standards.
QUALIFIED_WORK_REPORT_FIELDS = ("top_pay", "expense_standards")


def missing_fields(disclosure_type: str, fields: dict[str, Any]) -> list[str]:
    """Required fields without a value; for an annual work report also the items a
    qualified organization owes when the stored basis (``_qualified``) says it was.
    A report missing any of them does not fulfil its obligation (issue 16 point 13)."""
    missing = [
        spec.name
        for spec in FIELDS[disclosure_type]
        if spec.required and spec.kind != "bool" and fields.get(spec.name) in (None, "")
    ]
    if disclosure_type == r.ANNUAL_WORK_REPORT and fields.get("_qualified"):
        missing += [
            name for name in QUALIFIED_WORK_REPORT_FIELDS if not str(fields.get(name) or "").strip()
        ]
    return missing


def validate_fields(disclosure_type: str, fields: dict[str, Any]) -> dict[str, str]:
    """Service-side schema check of stored fields: {field: error} (empty when valid)."""
    errors: dict[str, str] = {}
    specs = {spec.name: spec for spec in FIELDS[disclosure_type]}
    for name in fields:
        if name not in specs:
            errors[name] = "unknown field"
    for spec in specs.values():
        value = fields.get(spec.name)
        if value is None:
            if spec.required and spec.kind != "bool":
                errors[spec.name] = "required"
            continue
        if spec.kind in ("fen0", "int") and (
            not isinstance(value, int) or isinstance(value, bool) or value < 0
        ):
            errors[spec.name] = "must be a whole number, zero or more"
        elif spec.kind in ("text", "date") and not isinstance(value, str):
            errors[spec.name] = "must be text"
        elif spec.kind == "bool" and not isinstance(value, bool):
            errors[spec.name] = "must be true or false"
    return errors


def display_value(spec: FieldSpec, value: Any) -> str:
    if value is None:
        return "—"
    if spec.kind == "fen0":
        return format_fen(int(value))
    if spec.kind == "bool":
        return str(_l("Yes") if value else _l("No"))
    return str(value)
