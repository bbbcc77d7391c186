"""Public transparency pages and publishing of disclosures.

Public: an organization's obligations, each disclosure with its versions and diffs,
attachments, the compliance feed (JSON and Atom), the rule table. Members publish and
correct (charity.services.disclosures decides who may).
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    jsonify,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import and_, select

from charity.compliance.presentation.forms import fields_from_form, form_class
from charity.compliance.readmodels import enforcement
from charity.compliance.readmodels.obligations import by_status, obligations_for_org
from charity.compliance.rules import law as r
from charity.compliance.rules.fields import FIELDS, display_value
from charity.compliance.rules.ratios import check_ratios, ratio_input_from_fields
from charity.core import uow
from charity.core.clock import today_cst
from charity.core.permissions import require_login, require_org_role
from charity.extensions import db
from charity.models import Campaign, Organization
from charity.models.disclosure import (
    Disclosure,
    DisclosureAttachment,
    DisclosureVersion,
    Obligation,
)
from charity.services import disclosures as service
from charity.services import trusts
from charity.web import links
from charity.web.forms import show_error

bp = Blueprint("disclosures", __name__)


def _org_or_404(org_id: int) -> Organization:
    org = db.session.get(Organization, org_id)
    if org is None or not org.is_verified:
        abort(404)
    return org


@bp.app_template_global("compliance_obligations")
def compliance_obligations(org_id: int) -> list:
    """For other pages (the organization page) including disclosures/_obligations.html."""
    return obligations_for_org(db.session, org_id, today_cst())


@bp.app_context_processor
def _labels() -> dict:
    return {"disclosure_type_labels": r.TYPE_LABELS}


@bp.app_template_global("can_publish_disclosure")
def can_publish_disclosure(org_id: int, kind: str) -> bool:
    return service.can_publish(current_user, org_id, kind)


@bp.get("/orgs/<int:org_id>/obligations")
def obligations(org_id: int):  # type: ignore[no-untyped-def]
    org = _org_or_404(org_id)
    today = today_cst()
    items = obligations_for_org(db.session, org.id, today)
    return render_template(
        "disclosures/obligations.html",
        org=org,
        items=items,
        counts=by_status(items),
        today=today,
        labels=r.TYPE_LABELS,
        can_publish=lambda kind: service.can_publish(current_user, org.id, kind),
    )


@bp.get("/compliance/rules")
def rules_page():  # type: ignore[no-untyped-def]
    return render_template(
        "disclosures/rules.html", rules=r.RULES, other=r.OTHER_RULES, labels=r.TYPE_LABELS
    )


def _disclosure_or_404(disclosure_id: int) -> Disclosure:
    disclosure = db.session.get(Disclosure, disclosure_id)
    if disclosure is None:
        abort(404)
    return disclosure


def _version(disclosure: Disclosure, number: int) -> DisclosureVersion:
    for version in disclosure.versions:
        if version.version == number:
            return version
    abort(404)


def _ratio(disclosure: Disclosure, fields: dict):  # type: ignore[no-untyped-def]
    if disclosure.disclosure_type != r.ANNUAL_FINANCIAL_REPORT:
        return None
    return check_ratios(
        ratio_input_from_fields(fields, fields["_org_type"], bool(fields["_qualified"]))
    )


@bp.get("/disclosures/<int:disclosure_id>")
def show(disclosure_id: int):  # type: ignore[no-untyped-def]
    disclosure = _disclosure_or_404(disclosure_id)
    number = request.args.get("v", type=int) or disclosure.latest_version
    version = _version(disclosure, number)
    fields = service.version_fields(version)
    campaign = db.session.get(Campaign, disclosure.campaign_id) if disclosure.campaign_id else None
    rows = [
        (spec.label, display_value(spec, fields.get(spec.name)))
        for spec in FIELDS[disclosure.disclosure_type]
    ]
    return render_template(
        "disclosures/show.html",
        disclosure=disclosure,
        version=version,
        rows=rows,
        campaign=campaign,
        label=r.TYPE_LABELS[disclosure.disclosure_type],
        ratio=_ratio(disclosure, fields),
        differences=service.compare_figures(db.session, version),
        can_correct=service.can_publish(
            current_user, disclosure.organization_id, disclosure.disclosure_type
        ),
    )


@bp.get("/disclosures/<int:disclosure_id>/diff/<int:number>")
def diff(disclosure_id: int, number: int):  # type: ignore[no-untyped-def]
    disclosure = _disclosure_or_404(disclosure_id)
    if number < 2:
        abort(404)
    old, new = _version(disclosure, number - 1), _version(disclosure, number)
    return render_template(
        "disclosures/diff.html",
        disclosure=disclosure,
        old=old,
        new=new,
        lines=service.diff_versions(old, new),
        label=r.TYPE_LABELS[disclosure.disclosure_type],
    )


@bp.get("/disclosures/files/<sha256>.pdf")
def attachment(sha256: str):  # type: ignore[no-untyped-def]
    row = db.session.scalar(
        select(DisclosureAttachment).where(DisclosureAttachment.sha256 == sha256).limit(1)
    )
    path = service.attachment_path(current_app.config["UPLOAD_DIR"], sha256) if row else None
    if row is None or path is None or not path.is_file():
        abort(404)
    response = send_file(
        path, mimetype="application/pdf", as_attachment=True, download_name=row.filename
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


# --- publishing -----------------------------------------------------------------------


def _uploads() -> tuple[service.Upload, ...]:
    files = [f for f in request.files.getlist("attachments") if f and f.filename]
    return tuple(service.Upload(f.filename or "", f.read()) for f in files)


@bp.route("/orgs/<int:org_id>/disclosures/new", methods=["GET", "POST"])
def new(org_id: int):  # type: ignore[no-untyped-def]
    require_login()
    org = _org_or_404(org_id)
    kind = request.values.get("type", "")
    if kind not in r.DISCLOSURE_TYPES:
        abort(404)
    require_org_role(org.id, *service.publisher_roles(kind))
    subject = request.values.get("subject", "org")
    period = request.values.get("period", "")
    campaign_ref = subject.removeprefix("campaign:") if subject.startswith("campaign:") else None
    if campaign_ref is not None and not (campaign_ref.isdigit() and len(campaign_ref) < 12):
        abort(404)
    campaign_id = int(campaign_ref) if campaign_ref is not None else None
    draft = service.draft_fields(db.session, kind, campaign_id, period, subject, org.id)
    form = form_class(kind)(data=draft if request.method == "GET" else None)
    differences: list = []
    if request.method == "POST" and form.validate():
        fields = fields_from_form(kind, form)
        differences = _unconfirmed_differences(kind, subject, period, fields)
    if request.method == "POST" and form.validate() and not differences:
        command = service.PublishDisclosure(
            organization_id=org.id,
            disclosure_type=kind,
            subject_key=subject,
            period_key=period,
            title=form.title.data,
            body_md=form.body_md.data or "",
            fields=fields,
            attachments=_uploads(),
        )
        try:
            service.publish_disclosure(
                db.session, current_user, command, current_app.config["UPLOAD_DIR"]
            )
        except service.DisclosureError as error:
            uow.discard()
            show_error(form, error, whole_form="form")
        else:
            disclosure = db.session.scalar(
                select(Disclosure).where(
                    Disclosure.organization_id == org.id,
                    Disclosure.disclosure_type == kind,
                    Disclosure.subject_key == subject,
                    Disclosure.period_key == period,
                )
            )
            return redirect(url_for("disclosures.show", disclosure_id=disclosure.id))
    status = (409 if differences else 422) if request.method == "POST" else 200
    return render_template(
        "disclosures/form.html",
        form=form,
        org=org,
        kind=kind,
        label=r.TYPE_LABELS[kind],
        subject=subject,
        period=period,
        draft=draft,
        correcting=None,
        differences=differences,
        differences_key=_differences_key(differences),
    ), status


def _unconfirmed_differences(kind: str, subject: str, period: str, fields: dict) -> list:
    """Figures that disagree with the books, unless the publisher has seen them and ticked
    the confirmation (issue 17 point 4): publishing waits until then."""
    differences = service.differences_before_publishing(db.session, kind, subject, period, fields)
    confirmed = request.form.get("confirm_differences") == _differences_key(differences)
    return [] if confirmed else differences


def _differences_key(differences: list) -> str:
    """The confirmation names the differences it saw: changed figures ask again."""
    return ",".join(f"{d.name}:{d.reported_fen}:{d.computed_fen}" for d in differences)


@bp.route("/disclosures/<int:disclosure_id>/correct", methods=["GET", "POST"])
def correct(disclosure_id: int):  # type: ignore[no-untyped-def]
    require_login()
    disclosure = _disclosure_or_404(disclosure_id)
    kind = disclosure.disclosure_type
    require_org_role(disclosure.organization_id, *service.publisher_roles(kind))
    latest = _version(disclosure, disclosure.latest_version)
    data = {
        "title": latest.title,
        "body_md": latest.body_md,
        **{k: v for k, v in service.version_fields(latest).items() if not k.startswith("_")},
    }
    form = form_class(kind, correction=True)(data=data if request.method == "GET" else None)
    differences: list = []
    if request.method == "POST" and form.validate():
        fields = fields_from_form(kind, form)
        differences = _unconfirmed_differences(
            kind, disclosure.subject_key, disclosure.period_key, fields
        )
    if request.method == "POST" and form.validate() and not differences:
        command = service.CorrectDisclosure(
            disclosure_id=disclosure.id,
            title=form.title.data,
            body_md=form.body_md.data or "",
            fields=fields,
            correction_note=form.correction_note.data,
            attachments=_uploads(),
        )
        try:
            service.correct_disclosure(
                db.session, current_user, command, current_app.config["UPLOAD_DIR"]
            )
        except service.DisclosureError as error:
            uow.discard()
            show_error(form, error, whole_form="form")
        else:
            return redirect(url_for("disclosures.show", disclosure_id=disclosure_id))
    status = (409 if differences else 422) if request.method == "POST" else 200
    return render_template(
        "disclosures/form.html",
        form=form,
        org=disclosure.organization,
        kind=kind,
        label=r.TYPE_LABELS[kind],
        subject=disclosure.subject_key,
        period=disclosure.period_key,
        draft={},
        correcting=disclosure,
        differences=differences,
        differences_key=_differences_key(differences),
    ), status


# --- the compliance feed --------------------------------------------------------------

FEED_SIZE = 100


def feed_items() -> list[dict]:
    """Late first publications and corrections, newest first."""
    late = db.session.execute(
        select(DisclosureVersion, Disclosure, Organization, Obligation)
        .join(Disclosure, Disclosure.id == DisclosureVersion.disclosure_id)
        .join(Organization, Organization.id == Disclosure.organization_id)
        .join(Obligation, Obligation.disclosure_id == Disclosure.id)
        .where(DisclosureVersion.version == 1, Obligation.fulfilled_on > Obligation.due_date)
        .order_by(DisclosureVersion.published_at.desc())
        .limit(FEED_SIZE)
    ).all()
    corrections = db.session.execute(
        select(DisclosureVersion, Disclosure, Organization)
        .join(Disclosure, and_(Disclosure.id == DisclosureVersion.disclosure_id))
        .join(Organization, Organization.id == Disclosure.organization_id)
        .where(DisclosureVersion.version > 1)
        .order_by(DisclosureVersion.published_at.desc())
        .limit(FEED_SIZE)
    ).all()
    items = [_item("late_filing", v, d, o, ob) for v, d, o, ob in late]
    items += [_item("correction", v, d, o, None) for v, d, o in corrections]
    items += [_trust_item(trust) for trust in trusts.recent_filings(db.session, FEED_SIZE)]
    # suspensions and complaints (issue 16 point 15), never complainant data
    items += enforcement.feed_items(db.session, today_cst(), FEED_SIZE, links.public_url)
    items.sort(key=lambda item: (item.pop("_at"), item["id"]), reverse=True)
    return items[:FEED_SIZE]


def _item(kind, version, disclosure, org, obligation) -> dict:  # type: ignore[no-untyped-def]
    item = {
        "id": f"{kind}:{version.id}",
        "type": kind,
        "at": version.published_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "_at": version.published_at,
        "organization": {"id": org.id, "name": org.name, "uscc": org.uscc},
        "disclosure_id": disclosure.id,
        "disclosure_type": disclosure.disclosure_type,
        "version": version.version,
        "title": version.title,
        "url": links.public_url("disclosures.show", disclosure_id=disclosure.id, v=version.version),
    }
    if obligation is not None:
        item["due_date"] = obligation.due_date.isoformat()
        item["published_on"] = obligation.fulfilled_on.isoformat()
    else:
        item["correction_note"] = version.correction_note
    return item


def _trust_item(trust) -> dict:  # type: ignore[no-untyped-def]
    """A charitable trust entered in the registry (issue 16 point 14)."""
    return {
        "id": f"trust_filed:{trust.id}",
        "type": "trust_filed",
        "at": trust.created_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "_at": trust.created_at,
        "trust": {
            "id": trust.id,
            "name": trust.name,
            "filing_number": trust.filing_number,
            "filing_date": trust.filing_date.isoformat(),
            "trustee": trust.trustee_name,
            "assets_fen": trust.assets_fen,
        },
        "title": trust.name,
        "url": links.public_url("trusts.show", trust_id=trust.id),
    }


@bp.get("/compliance/feed.json")
def feed_json():  # type: ignore[no-untyped-def]
    return jsonify({"items": feed_items()})


@bp.get("/compliance/feed.atom")
def feed_atom():  # type: ignore[no-untyped-def]
    items = feed_items()
    updated = items[0]["at"] if items else datetime.now(UTC).isoformat().replace("+00:00", "Z")
    body = render_template(
        "disclosures/feed.xml", items=items, updated=updated, labels=r.TYPE_LABELS, _=_
    )
    return Response(body, mimetype="application/atom+xml")


def upload_root() -> Path:
    return Path(current_app.config["UPLOAD_DIR"])
