"""Charitable projects (慈善项目): each project's own public information entry (MCA Order
81 art. 16) and the pages where owners and editors record projects, their campaigns and
their end (charity.services.projects decides)."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select
from wtforms import BooleanField, DateField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from charity.compliance.readmodels.obligations import status_expression
from charity.compliance.rules import law as r
from charity.core import uow
from charity.core.clock import today_cst
from charity.core.permissions import can_manage_org, require_org_role
from charity.extensions import db
from charity.models import Campaign, Organization
from charity.models.disclosure import Disclosure, Obligation
from charity.models.project import CharitableProject
from charity.services import projects as service
from charity.web.forms import BaseForm, show_error

bp = Blueprint("projects", __name__)


class ProjectForm(BaseForm):
    title = StringField(_l("Project name"), validators=[DataRequired(), Length(max=120)])
    description_md = TextAreaField(
        _l("What the project does, for whom, where"), validators=[Optional(), Length(max=20_000)]
    )
    start_date = DateField(_l("Implementation starts"), validators=[InputRequired()])
    planned_end_date = DateField(_l("Planned end of implementation"), [InputRequired()])
    is_major = BooleanField(_l("Major project (重大慈善项目)"))
    campaign_id = SelectField(_l("Funded by the campaign (optional)"), coerce=str, choices=[])


class EndForm(BaseForm):
    actual_end_date = DateField(_l("Implementation ended on"), validators=[InputRequired()])


class LinkForm(BaseForm):
    campaign_id = SelectField(_l("Campaign"), coerce=str, choices=[])


@bp.app_template_global("organization_projects")
def organization_projects(org_id: int) -> list[CharitableProject]:
    """For the organization page: its projects, newest first."""
    return service.projects_of(db.session, org_id)


def _org_or_404(org_id: int) -> Organization:
    org = db.session.get(Organization, org_id)
    if org is None or not org.is_verified:
        abort(404)
    return org


def _project_or_404(project_id: int) -> CharitableProject:
    project = db.session.get(CharitableProject, project_id)
    if project is None or not project.organization.is_verified:
        abort(404)
    return project


def _campaign_choices(org_id: int) -> list[tuple[str, str]]:
    return [("", "—")] + [
        (str(c.id), c.title) for c in service.linkable_campaigns(db.session, org_id)
    ]


@bp.get("/orgs/<int:org_id>/projects")
def index(org_id: int):  # type: ignore[no-untyped-def]
    org = _org_or_404(org_id)
    return render_template(
        "projects/index.html",
        org=org,
        projects=service.projects_of(db.session, org.id),
        can_manage=can_manage_org(current_user, org.id, service.ROLES),
    )


@bp.route("/orgs/<int:org_id>/projects/new", methods=["GET", "POST"])
def new(org_id: int):  # type: ignore[no-untyped-def]
    org = _org_or_404(org_id)
    require_org_role(org.id, *service.ROLES)
    form = ProjectForm()
    form.campaign_id.choices = _campaign_choices(org.id)
    if form.validate_on_submit():
        chosen = form.campaign_id.data
        command = service.NewProject(
            organization_id=org.id,
            title=form.title.data or "",
            description_md=form.description_md.data or "",
            start_date=form.start_date.data,
            planned_end_date=form.planned_end_date.data,
            is_major=bool(form.is_major.data),
            campaign_ids=(int(chosen),) if chosen else (),
        )
        try:
            project = service.create_project(db.session, current_user, command)
        except service.ProjectError as error:
            uow.discard()
            show_error(form, error, whole_form="form")
        else:
            flash(_("Saved."), "success")
            return redirect(url_for("projects.show", project_id=project.id))
    status = 400 if request.method == "POST" else 200
    return render_template("projects/new.html", org=org, form=form), status


@bp.get("/projects/<int:project_id>")
def show(project_id: int):  # type: ignore[no-untyped-def]
    """The project's own information entry: dates, funding campaigns, money from the
    books, its obligations and its disclosures (with their corrections)."""
    project = _project_or_404(project_id)
    today = today_cst()
    obligations = db.session.execute(
        select(Obligation, status_expression(today))
        .where(
            Obligation.organization_id == project.organization_id,
            Obligation.subject_key == project.subject_key,
        )
        .order_by(Obligation.due_date.desc())
    ).all()
    disclosures = db.session.scalars(
        select(Disclosure)
        .where(
            Disclosure.organization_id == project.organization_id,
            Disclosure.subject_key == project.subject_key,
        )
        .order_by(Disclosure.first_published_at.desc())
    ).all()
    campaigns = db.session.scalars(
        select(Campaign).where(Campaign.id.in_(service.campaign_ids(db.session, project.id)))
    ).all()
    manage = can_manage_org(current_user, project.organization_id, service.ROLES)
    link_form = LinkForm(prefix="link")
    link_form.campaign_id.choices = _campaign_choices(project.organization_id) if manage else []
    return render_template(
        "projects/show.html",
        project=project,
        org=project.organization,
        items=[(ob, status) for ob, status in obligations],
        disclosures=disclosures,
        campaigns=campaigns,
        figures=service.project_figures(db.session, project.id),
        labels=r.TYPE_LABELS,
        can_manage=manage,
        end_form=EndForm(prefix="end"),
        link_form=link_form,
        today=today,
    )


@bp.post("/projects/<int:project_id>/end")
def end(project_id: int):  # type: ignore[no-untyped-def]
    project = _project_or_404(project_id)
    require_org_role(project.organization_id, *service.ROLES)
    form = EndForm(prefix="end")
    if not form.validate_on_submit():
        abort(400)
    try:
        service.record_end(db.session, current_user, project.id, form.actual_end_date.data)
    except service.ProjectError as error:
        uow.discard()
        flash(error.text(), "error")
    else:
        flash(_("Saved."), "success")
    return redirect(url_for("projects.show", project_id=project_id))


@bp.post("/projects/<int:project_id>/campaigns")
def link(project_id: int):  # type: ignore[no-untyped-def]
    project = _project_or_404(project_id)
    require_org_role(project.organization_id, *service.ROLES)
    form = LinkForm(prefix="link")
    form.campaign_id.choices = _campaign_choices(project.organization_id)
    if not form.validate_on_submit() or not form.campaign_id.data:
        abort(400)
    try:
        service.link_campaign(db.session, current_user, project.id, int(form.campaign_id.data))
    except service.ProjectError as error:
        uow.discard()
        flash(error.text(), "error")
    else:
        flash(_("Saved."), "success")
    return redirect(url_for("projects.show", project_id=project_id))
