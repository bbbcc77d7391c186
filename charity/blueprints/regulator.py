"""The regulator's dashboard: read-only, for regulators (optionally scoped to their
province) and platform admins. Every table exports as CSV and XLSX; /regulator/api/
gives the same data as JSON."""

from __future__ import annotations

from datetime import date

from flask import Blueprint, Response, abort, jsonify, render_template, request
from flask_login import current_user

from charity.compliance import rules as r
from charity.compliance.charts import bar_chart
from charity.compliance.dashboard import TABLES, build_tables, compliance_rates, org_timeline
from charity.compliance.dates import today_cst
from charity.compliance.export import to_csv, to_xlsx
from charity.extensions import db
from charity.models import Organization
from charity.permissions import regulator_required

bp = Blueprint("regulator", __name__)
LIST_LIMIT = 100


def _province() -> str | None:
    """A scoped regulator sees only their province; others may filter with ?province=."""
    if current_user.is_regulator and current_user.regulator_province:
        return current_user.regulator_province
    return request.args.get("province") or None


def _label(value: str) -> str:
    return str(r.TYPE_LABELS.get(value, value))


@bp.get("/")
@regulator_required
def index():  # type: ignore[no-untyped-def]
    today, province = today_cst(), _province()
    rates = compliance_rates(db.session, today, province)
    tables = build_tables(db.session, today, province, LIST_LIMIT, rates)
    charts = {
        "region": bar_chart(
            "Compliance rate by region", [(x.label, x.rate) for x in rates["region"]]
        ),
        "disclosure_type": bar_chart(
            "Compliance rate by disclosure type",
            [(_label(x.label), x.rate) for x in rates["disclosure_type"]],
        ),
    }
    return render_template(
        "regulator/index.html",
        today=today,
        province=province,
        rates=rates,
        tables=tables,
        charts=charts,
        labels=r.TYPE_LABELS,
        limit=LIST_LIMIT,
    )


@bp.get("/orgs/<int:org_id>")
@regulator_required
def timeline(org_id: int):  # type: ignore[no-untyped-def]
    org = db.session.get(Organization, org_id)
    province = _province()
    if org is None or (province and org.province != province):
        abort(404)
    today = today_cst()
    return render_template(
        "regulator/timeline.html",
        org=org,
        items=org_timeline(db.session, org.id, today),
        labels=r.TYPE_LABELS,
        today=today,
    )


@bp.get("/export/<name>.<fmt>")
@regulator_required
def export(name: str, fmt: str):  # type: ignore[no-untyped-def]
    if name not in TABLES or fmt not in ("csv", "xlsx"):
        abort(404)
    today = today_cst()
    headers, rows = build_tables(db.session, today, _province(), None)[name]
    filename = f"{name}-{today.isoformat()}.{fmt}"
    if fmt == "csv":
        body, mime = to_csv(headers, rows), "text/csv; charset=utf-8"
    else:
        body = to_xlsx(name, headers, rows)
        mime = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return Response(
        body,
        mimetype=mime,
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "X-Content-Type-Options": "nosniff",
        },
    )


@bp.get("/api/summary")
@regulator_required
def api_summary():  # type: ignore[no-untyped-def]
    today = today_cst()
    tables = build_tables(db.session, today, _province(), None)
    return jsonify(
        {
            "today": today.isoformat(),
            "province": _province(),
            "tables": {
                name: [dict(zip(headers, row, strict=True)) for row in rows]
                for name, (headers, rows) in tables.items()
                if not name.startswith("_")
            },
        }
    )


def parse_day(text: str | None) -> date | None:
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None
