"""The regulator's tables for people: column headings in words, codes as words, money in
yuan (issue 17 point 2). ``charity.compliance.readmodels.dashboard.build_tables`` keeps
machine names, codes and fen; the page and the default CSV/XLSX exports pass through
``readable``; the ``.machine.csv`` export keeps the machine form and says so in its file
name.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from flask_babel import gettext
from flask_babel import lazy_gettext as _l

from charity.compliance.rules import law as r
from charity.core import regions
from charity.core.money import format_fen
from charity.web.labels import ORG_TYPE_LABELS, period_label

HEADERS = {
    "organization_id": _l("No."),
    "disclosure_id": _l("No."),
    "organization": _l("Organization"),
    "uscc": _l("USCC"),
    "province": _l("Province"),
    "disclosure_type": _l("Disclosure"),
    "type": _l("Disclosure"),
    "due_date": _l("Deadline"),
    "days": _l("Days left"),
    "subject": _l("Campaign or fund"),
    "period": _l("Period"),
    "figure": _l("Figure"),
    "reported_fen": _l("Published figure"),
    "platform_fen": _l("Platform records"),
    "difference_fen": _l("Difference"),
    "open_differences": _l("Open differences"),
    "failed_statements": _l("Statements not available"),
    "unresolved_events": _l("Events waiting for a person"),
    "assessed": _l("Obligations assessed"),
    "on_time": _l("On time"),
    "late": _l("Late"),
    "overdue": _l("Overdue"),
    "due_soon": _l("Due soon"),
    "rate": _l("On-time rate"),
    "year": _l("Year"),
    "version": _l("Version"),
    "explanation": _l("Explanation of special circumstances (189号 art. 12)"),
    # complaints, suspensions, 慈善中国 (issue 16 points 15-16)
    "complaints": _l("Complaints"),
    "open": _l("Open"),
    "replied_late": _l("Replied late"),
    "campaign_id": _l("No."),
    "campaign": _l("Campaign"),
    "suspended_on": _l("Suspended on"),
    "reason": _l("Reason"),
    "complaint_id": _l("Complaint"),
    "published": _l("Published"),
    "on_cnchina": _l("Also on 慈善中国"),
    "not_on_cnchina": _l("Not on 慈善中国"),
}
GROUP_HEADERS = {
    "by_region": _l("Region"),
    "by_org_type": _l("Type of organization"),
    "by_disclosure_type": _l("Disclosure"),
    "_overall": _l("All"),
}
FIGURES = {
    "raised_fen": _l("Raised (net of refunds)"),
    "spent_fen": _l("Spent"),
    "income_fen": _l("Income"),
    "opening_fen": _l("Opening balance"),
    "balance_fen": _l("Balance"),
}


def _org_type(code: str) -> str:
    return str(ORG_TYPE_LABELS.get(code, code))


def _yuan_number(fen: Any) -> str:
    value = int(fen)
    sign = "-" if value < 0 else ""
    return f"{sign}{abs(value) // 100}.{abs(value) % 100:02d}"


def readable(
    table: str,
    headers: Sequence[str],
    rows: Sequence[Sequence[Any]],
    *,
    english: bool = False,
    money: Callable[[Any], str] | None = None,
) -> tuple[list[str], list[list[Any]]]:
    """(headings, rows) in words. ``money`` formats fen cells (``format_fen`` on pages);
    without it, amounts are plain yuan numbers and their headings say (yuan)."""

    def heading(name: str) -> str:
        if name == "group":
            return str(GROUP_HEADERS.get(table, _l("Group")))
        label = str(HEADERS.get(name, name))
        return (
            label
            if money or not name.endswith("_fen")
            else gettext("%(label)s (yuan)", label=label)
        )

    def cell(name: str, value: Any) -> Any:
        if value is None:
            return ""
        if name.endswith("_fen"):
            return money(value) if money else _yuan_number(value)
        if name in ("disclosure_type", "type"):
            return str(r.TYPE_LABELS.get(value, value))
        if name == "figure":
            return str(FIGURES.get(value, value))
        if name == "period" or (name == "year" and isinstance(value, str)):
            return period_label(str(value))
        if name == "province":
            return regions.province_label(str(value), english=english)
        if name == "group":
            if table == "by_org_type":
                return _org_type(str(value))
            if table == "by_disclosure_type":
                return str(r.TYPE_LABELS.get(value, value))
            if table == "by_region":
                return regions.province_label(str(value), english=english)
            return gettext("All")
        return value

    return (
        [heading(h) for h in headers],
        [[cell(h, v) for h, v in zip(headers, row, strict=False)] for row in rows],
    )


def page_money(value: Any) -> str:
    return format_fen(int(value))
