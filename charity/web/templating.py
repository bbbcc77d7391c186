"""Template filters and globals: money, dates in China Standard Time, Markdown, navigation."""

from __future__ import annotations

from datetime import date, datetime

from flask import Flask
from flask_babel import lazy_gettext as _l

from charity.core.clock import CST
from charity.core.money import format_fen
from charity.core.text import render_markdown

#: (endpoint, label) in the header; entries whose endpoint does not exist yet are hidden.
NAV_LINKS = [
    ("campaigns.index", _l("Campaigns")),
    ("funds.index", _l("Funds")),
    ("orgs.directory", _l("Organizations")),
    ("auditlog_pages.index", _l("Audit log")),
]


def to_cst(value: datetime | None) -> datetime | None:
    return value.astimezone(CST) if value is not None else None


def format_datetime_cst(value: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    return to_cst(value).strftime(fmt) if value is not None else ""


def format_date(value: date | datetime | None) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = to_cst(value)
    return value.strftime("%Y-%m-%d")


def nav_links() -> list[tuple[str, str]]:
    return list(NAV_LINKS)


def init_app(app: Flask) -> None:
    app.jinja_env.filters["fen"] = format_fen
    app.jinja_env.filters["markdown"] = render_markdown
    app.jinja_env.filters["cst"] = format_datetime_cst
    app.jinja_env.filters["date"] = format_date
    app.jinja_env.globals["nav_links"] = nav_links
