"""Campaign pages: the public list and page, filing and editing, publish/close, updates."""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf.file import FileField
from sqlalchemy import select
from werkzeug.wrappers import Response
from wtforms import BooleanField, DateField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from charity.core import uow
from charity.core.clock import today_cst
from charity.core.money import format_fen
from charity.core.permissions import require_org_role, role_in_org
from charity.extensions import db
from charity.models import Campaign, Organization
from charity.models.campaign import CAUSES
from charity.services import campaigns as service
from charity.services import images
from charity.services.campaign_browse import (
    CampaignQuery,
    campaign_provinces,
    search_campaigns,
)
from charity.services.campaign_stats import campaign_stats, donor_wall
from charity.services.ledger import campaign_in_kind_fen
from charity.web import caching
from charity.web.charts import line_chart, progress_percent
from charity.web.forms import BaseForm, YuanField, show_error

bp = Blueprint("campaigns", __name__)

CAUSE_LABELS = {
    "poverty": _l("Poverty relief"),
    "education": _l("Education"),
    "health": _l("Health"),
    "elderly": _l("Older people"),
    "children": _l("Children"),
    "disability": _l("Disability"),
    "disaster": _l("Disaster relief"),
    "environment": _l("Environment"),
    "community": _l("Community"),
    "other": _l("Other"),
}
PHASE_LABELS = {
    "draft": _l("Draft"),
    "upcoming": _l("Upcoming"),
    "running": _l("Running"),
    "ended": _l("Ended"),
    "closed": _l("Closed"),
}
SORT_LABELS = {"newest": _l("Newest"), "ending": _l("Ending soon"), "raised": _l("Most raised")}
LONG_TEXT = 10_000


class CampaignForm(BaseForm):
    title = StringField(_l("Title"), [DataRequired(), Length(max=120)])
    summary = TextAreaField(_l("Summary"), [DataRequired(), Length(max=300)])
    cause = SelectField(_l("Cause"), choices=[SelectChoice(c, CAUSE_LABELS[c]) for c in CAUSES])
    purpose_md = TextAreaField(_l("Purpose (募捐目的)"), [DataRequired(), Length(max=LONG_TEXT)])
    start_date = DateField(_l("Start date"), [InputRequired()])
    end_date = DateField(_l("End date"), [InputRequired()])
    project_end_date = DateField(_l("Project end date (optional)"), [Optional()])
    region = StringField(_l("Fundraising region (募捐区域)"), [DataRequired(), Length(max=200)])
    person_in_charge = StringField(
        _l("Person in charge (负责人)"), [DataRequired(), Length(max=100)]
    )
    acceptance_methods = TextAreaField(
        _l("How gifts are accepted (募捐方式)"), [DataRequired(), Length(max=2000)]
    )
    receiving_account = StringField(
        _l("Receiving bank account (银行账户)"), [DataRequired(), Length(max=300)]
    )
    beneficiaries = TextAreaField(
        _l("Beneficiaries (受益人)"), [DataRequired(), Length(max=LONG_TEXT)]
    )
    use_of_funds = TextAreaField(
        _l("Use of funds (募得款物用途)"), [DataRequired(), Length(max=LONG_TEXT)]
    )
    fundraising_cost = TextAreaField(
        _l("Fundraising cost (募捐成本)"), [DataRequired(), Length(max=2000)]
    )
    leftover_plan = TextAreaField(
        _l("Plan for leftover property (剩余财产处理)"), [DataRequired(), Length(max=2000)]
    )
    expected_amount = YuanField(_l("Expected amount in yuan (预期募捐金额)"), [DataRequired()])
    filing_number = StringField(_l("Filing number (备案编号)"), [DataRequired(), Length(max=64)])
    filing_date = DateField(_l("Filing date"), [InputRequired()])
    is_emergency = BooleanField(_l("Emergency response to a sudden event (CL art. 73)"))
    partner_uscc = StringField(
        _l("Partner organization's USCC (合作募捐, optional)"), [Optional(), Length(max=18)]
    )

    def plan(self) -> service.CampaignPlan:
        return service.CampaignPlan(
            **{name: self[name].data for name in _PLAN_TEXT_FIELDS},
            start_date=self.start_date.data,
            end_date=self.end_date.data,
            filing_date=self.filing_date.data,
            expected_amount_fen=self.expected_amount.fen or 0,
            is_emergency=bool(self.is_emergency.data),
            partner_uscc=self.partner_uscc.data or "",
            project_end_date=self.project_end_date.data or None,
        )

    def fill_from(self, campaign: Campaign) -> None:
        for name in _PLAN_TEXT_FIELDS:
            self[name].data = getattr(campaign, name)
        for name in _NOT_TEXT:
            self[name].data = getattr(campaign, name)
        yuan, fen = divmod(campaign.expected_amount_fen, 100)
        self.expected_amount.data = f"{yuan}.{fen:02d}"
        self.partner_uscc.data = campaign.partner.uscc if campaign.partner else ""


#: Plan fields typed in other kinds of fields (dates, an amount in yuan, a checkbox).
_NOT_TEXT = ("start_date", "end_date", "filing_date", "is_emergency", "project_end_date")
_PLAN_TEXT_FIELDS = tuple(
    name for name in service.TYPED_PLAN_FIELDS if name not in (*_NOT_TEXT, "expected_amount_fen")
)


class UpdateForm(BaseForm):
    title = StringField(_l("Title"), [DataRequired(), Length(max=120)])
    body_md = TextAreaField(_l("Update (Markdown)"), [DataRequired(), Length(max=LONG_TEXT)])
    photo = FileField(_l("Photo (optional: JPEG, PNG or WebP, at most 8 MB)"))
    photo_alt = StringField(
        _l("What the photo shows (required with a photo)"), [Length(max=images.MAX_ALT)]
    )

    def photo_bytes(self) -> bytes:
        data = self.photo.data
        return data.read(images.MAX_BYTES + 1) if data and getattr(data, "filename", "") else b""


class ActionForm(BaseForm):
    """Publish and close buttons: nothing but the CSRF token."""


@bp.app_template_global()
def cause_label(cause: str) -> str:
    return str(CAUSE_LABELS.get(cause, cause))


@bp.app_template_global()
def phase_label(phase: str) -> str:
    return str(PHASE_LABELS.get(phase, phase))


@bp.app_template_global()
def org_url(organization: Organization) -> str | None:
    """The organization's public page."""
    return url_for("orgs.show", org_id=organization.id)


@bp.app_template_global()
def progress_value(raised_fen: int, goal_fen: int) -> int:
    return progress_percent(raised_fen, goal_fen)


@bp.app_template_global()
def percent_text(raised_fen: int, goal_fen: int) -> str:
    """The share of the goal raised, as people read it (issue 17 point 1): whole percents
    from 1%, one decimal below (¥640 of ¥500,000 is 0.1%, not 0%), "<0.1%" for less, and
    0% only when nothing was raised."""
    if goal_fen <= 0 or raised_fen <= 0:
        return "0%"
    if raised_fen * 100 >= goal_fen:
        return f"{raised_fen * 100 // goal_fen}%"
    tenths = raised_fen * 1000 // goal_fen
    return f"{tenths // 10}.{tenths % 10}%" if tenths else "<0.1%"


def _organization_or_404(org_id: int) -> Organization:
    return db.get_or_404(Organization, org_id)


def _campaign_or_404(campaign_id: int) -> Campaign:
    return db.get_or_404(Campaign, campaign_id)


def _can_see(campaign: Campaign) -> bool:
    if campaign.status != "draft":
        return True
    if getattr(current_user, "is_admin", False):
        return True
    return role_in_org(current_user, campaign.organization_id) is not None


# --- public pages -----------------------------------------------------------------


@bp.get("/campaigns/")
def index():  # type: ignore[no-untyped-def]
    args = request.args
    query = CampaignQuery(
        text=args.get("q", ""),
        province=args.get("province", ""),
        cause=args.get("cause", ""),
        phase=args.get("status", ""),
        sort=args.get("sort", "newest"),
        page=args.get("page", 1, type=int) or 1,
    ).cleaned()
    today = today_cst()
    page = search_campaigns(db.session, query, today=today)
    return render_template(
        "campaigns/index.html",
        page=page,
        query=query,
        today=today,
        provinces=campaign_provinces(db.session),
        causes=CAUSES,
        sort_labels=SORT_LABELS,
        phase_of=lambda campaign: service.campaign_phase(campaign, today),
        my_organizations=_my_organizations(),
    )


def _my_organizations() -> list[Organization]:
    """Organizations whose campaigns the visitor manages, for a shortcut on the list."""
    if not current_user.is_authenticated:
        return []
    return [m.organization for m in current_user.active_memberships]


# --- ops2: the public campaign page is cached for anonymous visitors (charity.web.caching) ---
@bp.get("/campaigns/<int:campaign_id>")
def show(campaign_id: int):  # type: ignore[no-untyped-def]
    if caching.anonymous_cacheable():
        return caching.cached_page(f"campaign:{campaign_id}", lambda: _render_show(campaign_id))
    return caching.private_page(make_response(_render_show(campaign_id)))


def _render_show(campaign_id: int) -> str:
    campaign = _campaign_or_404(campaign_id)
    if not _can_see(campaign):
        abort(404)
    today = today_cst()
    stats = campaign_stats(db.session, [campaign.id])[campaign.id]
    phase = service.campaign_phase(campaign, today)
    chart_end = min(max(today, campaign.start_date), campaign.end_date)
    chart = line_chart(
        [(day, cumulative) for day, _day_total, cumulative in stats.daily_series],
        title=_("Amount raised over time"),
        desc=_(
            "Cumulative amount raised per day from %(start)s: %(total)s from %(count)s gifts.",
            start=campaign.start_date.isoformat(),
            total=format_fen(stats.raised_fen),
            count=stats.gift_count,
        ),
        chart_id=f"raised-{campaign.id}",
        start=campaign.start_date,
        end=chart_end,
    )
    role = role_in_org(current_user, campaign.organization_id)
    refusal = service.gift_refusal(campaign, today) if phase == "running" else None
    return render_template(
        "campaigns/show.html",
        campaign=campaign,
        stats=stats,
        phase=phase,
        days_left=(campaign.end_date - today).days,
        chart=chart,
        donors=donor_wall(db.session, campaign.id),
        in_kind_fen=campaign_in_kind_fen(db.session, campaign.id),  # goods, not cash
        can_donate=phase == "running" and refusal is None,
        gift_refusal=refusal,
        can_post=role in service.FILE_ROLES and campaign.status != "draft",
        is_member=role is not None,
        can_picture=role in images.IMAGE_ROLES,
        # Built only for those who may post: a form makes a CSRF token, i.e. a session cookie.
        update_form=UpdateForm() if role in service.FILE_ROLES else None,
    )


# --- /ops2 ---


# --- filing and editing -----------------------------------------------------------


@bp.route("/orgs/<int:org_id>/campaigns/new", methods=["GET", "POST"])
def new(org_id: int):  # type: ignore[no-untyped-def]
    organization = _organization_or_404(org_id)
    require_org_role(organization.id, *service.FILE_ROLES)
    refusal = service.filing_refusal(organization)
    if refusal is not None:
        status = 403 if request.method == "POST" else 200
        return render_template(
            "campaigns/cannot_file.html",
            organization=organization,
            reason=refusal,
            show_cooperation=organization.is_verified and not organization.has_qualification,
            cooperation=service.COOPERATION_ROUTE,
            has_directory=True,
        ), status
    form = CampaignForm()
    general: list = []
    if form.validate_on_submit():
        try:
            campaign = service.file_campaign(db.session, current_user, organization, form.plan())
        except service.CampaignError as error:
            uow.discard()
            general = show_error(form, error, whole_form=None)
        else:
            flash(_("The campaign is saved as a draft. Check it, then publish it."), "success")
            return redirect(url_for("campaigns.show", campaign_id=campaign.id), 303)
    status = 422 if request.method == "POST" else 200
    return render_template(
        "campaigns/form.html", form=form, organization=organization, general=general, campaign=None
    ), status


@bp.route("/campaigns/<int:campaign_id>/edit", methods=["GET", "POST"])
def edit(campaign_id: int):  # type: ignore[no-untyped-def]
    campaign = _campaign_or_404(campaign_id)
    require_org_role(campaign.organization_id, *service.FILE_ROLES)
    if campaign.status != "draft":
        flash(_("A published plan cannot be edited. Publish a correction instead."), "warning")
        return redirect(url_for("campaigns.show", campaign_id=campaign.id), 303)
    form = CampaignForm()
    if request.method == "GET":
        form.fill_from(campaign)
    general: list = []
    if form.validate_on_submit():
        try:
            service.update_campaign(db.session, current_user, campaign, form.plan())
        except service.CampaignError as error:
            uow.discard()
            general = show_error(form, error, whole_form=None)
        else:
            flash(_("The draft is saved."), "success")
            return redirect(url_for("campaigns.show", campaign_id=campaign.id), 303)
    status = 422 if request.method == "POST" else 200
    return render_template(
        "campaigns/form.html",
        form=form,
        organization=campaign.organization,
        general=general,
        campaign=campaign,
    ), status


# --- lifecycle and management -----------------------------------------------------


@bp.get("/orgs/<int:org_id>/campaigns")
def manage(org_id: int):  # type: ignore[no-untyped-def]
    organization = _organization_or_404(org_id)
    require_org_role(organization.id, "owner", "finance", "editor")
    return _render_manage(organization, [], 200)


def _render_manage(organization: Organization, problems: list, status: int):  # type: ignore[no-untyped-def]
    items = list(
        db.session.scalars(
            select(Campaign)
            .where(Campaign.organization_id == organization.id)
            .order_by(Campaign.created_at.desc(), Campaign.id.desc())
        )
    )
    today = today_cst()
    return render_template(
        "campaigns/manage.html",
        organization=organization,
        items=items,
        stats=campaign_stats(db.session, [c.id for c in items]),
        phase_of=lambda campaign: service.campaign_phase(campaign, today),
        role=role_in_org(current_user, organization.id),
        refusal=service.filing_refusal(organization),
        action_form=ActionForm(),
        problems=problems,
    ), status


def _lifecycle(campaign_id: int, action, done_message: str) -> Response:  # type: ignore[no-untyped-def]
    campaign = _campaign_or_404(campaign_id)
    require_org_role(campaign.organization_id, *service.PUBLISH_ROLES)
    organization = campaign.organization
    if not ActionForm().validate_on_submit():
        return _render_manage(organization, [_("The form expired; please try again.")], 400)
    try:
        action(db.session, current_user, campaign)
    except service.CampaignError as error:
        uow.discard()
        return _render_manage(organization, [message for _f, message in error.errors], 409)
    flash(done_message, "success")
    return redirect(url_for("campaigns.manage", org_id=organization.id), 303)


@bp.route("/campaigns/<int:campaign_id>/publish", methods=["GET", "POST"])
def publish(campaign_id: int):  # type: ignore[no-untyped-def]
    """Publishing cannot be undone: the button leads to a page that says what happens and
    asks once more (issue 17 point 4); only ``confirmed=yes`` publishes."""
    campaign = _campaign_or_404(campaign_id)
    require_org_role(campaign.organization_id, *service.PUBLISH_ROLES)
    if request.method == "GET" or request.form.get("confirmed") != "yes":
        if campaign.status != "draft":
            return redirect(url_for("campaigns.manage", org_id=campaign.organization_id), 303)
        return render_template(
            "campaigns/confirm_publish.html", campaign=campaign, action_form=ActionForm()
        )
    return _lifecycle(campaign_id, service.publish_campaign, _("The campaign is published."))


@bp.post("/campaigns/<int:campaign_id>/close")
def close(campaign_id: int):  # type: ignore[no-untyped-def]
    return _lifecycle(campaign_id, service.close_campaign, _("The campaign is closed."))


@bp.post("/campaigns/<int:campaign_id>/updates")
def post_update(campaign_id: int):  # type: ignore[no-untyped-def]
    campaign = _campaign_or_404(campaign_id)
    require_org_role(campaign.organization_id, *service.FILE_ROLES)
    form = UpdateForm()
    if form.validate_on_submit():
        command = service.UpdatePost(form.title.data, form.body_md.data)
        try:
            update = service.post_update(db.session, current_user, campaign, command)
            if photo := form.photo_bytes():
                images.attach_update_photo(
                    db.session,
                    current_user,
                    update,
                    current_app.config["UPLOAD_DIR"],
                    photo,
                    form.photo_alt.data,
                )
        except service.CampaignError as error:
            uow.discard()
            form.title.errors = [*form.title.errors, *(m for _f, m in error.errors)]
        except images.PictureError as error:
            uow.discard()
            form.photo.errors = [*form.photo.errors, _(str(error))]
        else:
            flash(_("The update is posted."), "success")
            return redirect(url_for("campaigns.show", campaign_id=campaign.id, _anchor="updates"))
    return render_template("campaigns/update_form.html", campaign=campaign, form=form), 422
