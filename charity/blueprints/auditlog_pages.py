"""The public log browser: newest first, filters, and an entry page that verifies itself.

Filters come from the query string; a value that cannot be read (a bad date, say) is
shown as a field error with status 400, never a 500.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

import sqlalchemy as sa
from flask import Blueprint, abort, render_template, request
from flask_babel import gettext as _

from charity.auditlog import store
from charity.blueprints.auditlog_api import latest_checkpoint
from charity.core import events
from charity.extensions import db
from charity.models import AuditEntry, Organization
from charity.web.templating import CST

bp = Blueprint("auditlog_pages", __name__)

PAGE_SIZE = 50


@dataclass
class Filters:
    organization: str = ""
    event_type: str = ""
    date_from: date | None = None
    date_to: date | None = None
    before: int | None = None


def _date(name: str, errors: dict[str, str]) -> date | None:
    raw = request.args.get(name, "").strip()
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        errors[name] = _("Use a date like 2026-01-31.")
        return None


def read_filters() -> tuple[Filters, dict[str, str]]:
    errors: dict[str, str] = {}
    before_raw = request.args.get("before", "")
    before = int(before_raw) if before_raw.isascii() and before_raw.isdigit() else None
    if before_raw and before is None:
        errors["before"] = _("Not a valid position.")
    filters = Filters(
        organization=request.args.get("org", "").strip()[:64],
        event_type=request.args.get("type", "").strip()[:64],
        date_from=_date("from", errors),
        date_to=_date("to", errors),
        before=before,
    )
    return filters, errors


def _start_of(day: date) -> datetime:
    """Dates are read in China Standard Time, as the site shows them."""
    return datetime.combine(day, time.min, tzinfo=CST)


def filtered_query(filters: Filters) -> sa.Select:
    query = sa.select(AuditEntry).order_by(AuditEntry.index.desc())
    if filters.organization:
        # A USCC is 18 characters (and may be all digits); shorter numbers are ids.
        if filters.organization.isdigit() and len(filters.organization) < 18:
            query = query.where(AuditEntry.organization_id == int(filters.organization))
        else:
            query = query.where(AuditEntry.organization_uscc == filters.organization.upper())
    if filters.event_type:
        query = query.where(AuditEntry.event_type == filters.event_type)
    if filters.date_from:
        query = query.where(AuditEntry.created_at >= _start_of(filters.date_from))
    if filters.date_to:
        query = query.where(AuditEntry.created_at < _start_of(filters.date_to + timedelta(days=1)))
    if filters.before is not None:
        query = query.where(AuditEntry.index < filters.before)
    return query


def event_types() -> list[str]:
    return sorted({*events.event_types(), "personal_data.erased"})


@bp.get("/")
def index():  # type: ignore[no-untyped-def]
    filters, errors = read_filters()
    entries: list[AuditEntry] = []
    if not errors:
        entries = list(db.session.scalars(filtered_query(filters).limit(PAGE_SIZE + 1)))
    has_more = len(entries) > PAGE_SIZE
    entries = entries[:PAGE_SIZE]
    size, _root = store.current_head(db.session)
    args = {k: v for k, v in request.args.items() if k != "before" and v}
    next_args = {**args, "before": entries[-1].index} if has_more else None
    return (
        render_template(
            "auditlog/index.html",
            entries=entries,
            filters=filters,
            errors=errors,
            event_types=event_types(),
            next_args=next_args,
            first_args=args if filters.before is not None else None,
            tree_size=size,
        ),
        400 if errors else 200,
    )


@bp.get("/<int:index>")
def entry(index: int):  # type: ignore[no-untyped-def]
    found = db.session.get(AuditEntry, index)
    if found is None:
        abort(404)
    size, root, note = latest_checkpoint()
    path = store.inclusion_proof(db.session, index, size)
    pretty = json.dumps(json.loads(found.payload), indent=2, ensure_ascii=False, sort_keys=True)
    return render_template(
        "auditlog/entry.html",
        entry=found,
        organization=(
            db.session.get(Organization, found.organization_id) if found.organization_id else None
        ),
        pretty=pretty,
        tree_size=size,
        root_hex=root.hex(),
        path_hex=[node.hex() for node in path],
        note=note,
    )
