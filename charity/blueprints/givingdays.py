"""Giving days: the public event page (cached like the campaign page), teams, the
sponsor's page, the admin's events and pools, organizations' applications and pledges."""

from __future__ import annotations

import segno
import sqlalchemy as sa
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
from wtforms import (
    DateField,
    HiddenField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from charity.core import uow
from charity.core.clock import today_cst
from charity.core.permissions import admin_required, require_login, require_org_role, role_in_org
from charity.extensions import db
from charity.models import (
    Campaign,
    Donation,
    GivingDay,
    GivingDayCampaign,
    MatchingPool,
    Organization,
    SponsorPayment,
    Team,
)
from charity.services import givingday_stats as stats_service
from charity.services import givingdays as service
from charity.services import sponsor_payments, uploads
from charity.web import caching
from charity.web.charts import bar_chart
from charity.web.forms import BaseForm, YuanField, show_error
from charity.web.links import public_url

bp = Blueprint("givingdays", __name__)


# --- forms ----------------------------------------------------------------------------------


class TeamForm(BaseForm):
    name = StringField(_l("Team name"), validators=[DataRequired(), Length(max=60)])
    goal = YuanField(_l("Team goal (yuan)"), validators=[DataRequired()])
    message = TextAreaField(_l("Message to your friends"), validators=[Length(max=500)])


class HideForm(BaseForm):
    reason = StringField(_l("Reason"), validators=[DataRequired(), Length(max=300)])


class EventForm(BaseForm):
    name = StringField(_l("Event name"), validators=[DataRequired(), Length(max=200)])
    theme = TextAreaField(_l("Theme"), validators=[Length(max=2000)])
    start_date = DateField(_l("First day (Beijing time)"), validators=[DataRequired()])
    end_date = DateField(_l("Last day (Beijing time)"), validators=[DataRequired()])
    region = StringField(_l("Province (empty: nationwide)"), validators=[Length(max=32)])


class PoolForm(BaseForm):
    organization_id = SelectField(_l("Organization holding the pool"), coerce=int)
    sponsor_name = StringField(_l("Sponsor"), validators=[DataRequired(), Length(max=200)])
    sponsor_uscc = StringField(_l("Sponsor's USCC (a company)"), validators=[Length(max=18)])
    total = YuanField(_l("Total (yuan)"), validators=[DataRequired()])
    ratio_percent = IntegerField(
        _l("Ratio (percent of each gift)"), default=100, validators=[NumberRange(1, 1000)]
    )
    cap_per_gift = YuanField(_l("Cap per gift (yuan)"), validators=[Optional()])
    cap_per_donor_day = YuanField(_l("Cap per donor per day (yuan)"), validators=[Optional()])
    cap_per_campaign = YuanField(_l("Cap per campaign (yuan)"), validators=[Optional()])
    windows = StringField(_l("Daily time windows"), validators=[Length(max=200)])
    campaign_ids = SelectMultipleField(_l("Eligible campaigns (none: all)"), coerce=int)


class DecideForm(BaseForm):
    entry_id = HiddenField()
    decision = HiddenField()


class ApplyForm(BaseForm):
    campaign_id = SelectField(_l("Campaign"), coerce=int)


class PledgeForm(BaseForm):
    event_id = SelectField(_l("Giving day"), coerce=int)
    company_name = StringField(_l("Company"), validators=[DataRequired(), Length(max=200)])
    company_uscc = StringField(
        _l("Company's USCC"), validators=[DataRequired(), Length(min=18, max=18)]
    )
    amount = YuanField(_l("Pledged amount (yuan)"), validators=[DataRequired()])
    due_date = DateField(_l("Due date"), validators=[DataRequired()])
    campaign_id = SelectField(_l("Campaign (optional)"), coerce=int)


class SponsorPaymentForm(BaseForm):
    amount = YuanField(_l("Amount received (yuan)"), validators=[DataRequired()])
    received_on = DateField(_l("Day received (bank statement)"), validators=[DataRequired()])
    reference = StringField(
        _l("Bank reference of the transfer"), validators=[DataRequired(), Length(max=100)]
    )
    note = TextAreaField(_l("Note (optional)"), validators=[Length(max=500)])
    slip = FileField(
        _l("Bank slip (optional)"),
        render_kw={"accept": "application/pdf,image/png,image/jpeg,.pdf,.png,.jpg,.jpeg"},
    )

    def slip_bytes(self) -> bytes | None:
        """The chosen file's bytes (at most one byte over the limit, so the service can say
        it is too large), or None when no file was chosen."""
        chosen = self.slip.data
        if chosen is None or isinstance(chosen, str) or not chosen.filename:
            return None
        return bytes(chosen.read(sponsor_payments.SLIP_MAX_BYTES + 1))


class SponsorDecisionForm(BaseForm):
    payment_id = HiddenField()
    decision = HiddenField()
    reason = StringField(_l("Reason (when rejecting)"), validators=[Length(max=300)])


class LinkForm(BaseForm):
    pledge_id = HiddenField()
    donation_id = IntegerField(_l("Gift number"), validators=[DataRequired()])


def qr_svg(url: str, title: str) -> str:
    """A QR code of ``url`` as inline SVG (segno), for sharing a team or an event."""
    return segno.make(url, error="m").svg_inline(
        scale=4, border=2, title=title, svgclass="share-qr"
    )


# --- public pages ---------------------------------------------------------------------------


@bp.get("/events/")
def index():  # type: ignore[no-untyped-def]
    events = db.session.scalars(sa.select(GivingDay).order_by(GivingDay.start_date.desc())).all()
    return render_template("givingdays/index.html", events=events)


@bp.get("/events/<int:event_id>")
def show(event_id: int):  # type: ignore[no-untyped-def]
    if caching.anonymous_cacheable():
        return caching.cached_page(f"event:{event_id}", lambda: _render_event(event_id))
    return caching.private_page(make_response(_render_event(event_id)))


def _render_event(event_id: int) -> str:
    event = db.session.get(GivingDay, event_id) or abort(404)
    stats = stats_service.event_stats(db.session, event)
    chart = bar_chart(
        [(at.strftime("%m-%d %H:00"), amount) for at, amount in stats.hourly],
        title=_("Gifts by hour (Beijing time)"),
        desc=_("Amount given in each hour of the event."),
        chart_id=f"event-hours-{event.id}",
    )
    url = public_url("givingdays.show", event_id=event.id)
    return render_template(
        "givingdays/show.html",
        event=event,
        stats=stats,
        chart=chart,
        pools=event.pools,
        is_on=service.event_is_on(event),
        share_url=url,
        share_qr=qr_svg(url, _("QR code of this event")),
    )


@bp.get("/pools/<int:pool_id>")
def pool(pool_id: int):  # type: ignore[no-untyped-def]
    """The sponsor's page: every match, and which disbursements its money paid for."""
    matching_pool = db.session.get(MatchingPool, pool_id) or abort(404)
    uses = stats_service.pool_uses(db.session, matching_pool)
    return render_template(
        "givingdays/pool.html",
        pool=matching_pool,
        uses=uses,
        may_handle_payments=sponsor_payments.may_handle(current_user, matching_pool),
    )


@bp.route("/campaigns/<int:campaign_id>/teams/new", methods=["GET", "POST"])
def new_team(campaign_id: int):  # type: ignore[no-untyped-def]
    require_login()
    campaign = db.session.get(Campaign, campaign_id)
    if campaign is None or campaign.status == "draft":
        abort(404)
    form = TeamForm()
    if form.validate_on_submit():
        try:
            team = service.create_team(
                db.session,
                current_user,
                service.NewTeam(
                    campaign_id=campaign.id,
                    name=form.name.data,
                    goal_fen=form.goal.fen or 0,
                    message=form.message.data or "",
                ),
            )
        except service.GivingDayError as exc:
            uow.discard()
            show_error(form, exc)
        else:
            flash(_("Your team is ready: share its link with your friends."), "success")
            return redirect(url_for("givingdays.team", team_id=team.id))
    status = 400 if request.method == "POST" else 200
    return render_template("givingdays/team_new.html", campaign=campaign, form=form), status


@bp.get("/teams/<int:team_id>")
def team(team_id: int):  # type: ignore[no-untyped-def]
    found = db.session.get(Team, team_id) or abort(404)
    manager = role_in_org(current_user, found.campaign.organization_id) in ("owner", "editor")
    if found.hidden and not manager:
        return render_template("givingdays/team_hidden.html", team=found), 410
    raised, gifts = stats_service.team_raised(db.session, [found.id]).get(found.id, (0, 0))
    donate = url_for("donations.new", campaign_id=found.campaign_id, team=found.id)
    url = public_url("givingdays.team", team_id=found.id)
    return render_template(
        "givingdays/team.html",
        team=found,
        raised_fen=raised,
        gifts=gifts,
        donate_url=donate,
        share_url=url,
        share_qr=qr_svg(url, _("QR code of this team")),
        hide_form=HideForm() if manager and not found.hidden else None,
    )


@bp.post("/teams/<int:team_id>/hide")
def hide_team(team_id: int):  # type: ignore[no-untyped-def]
    found = db.session.get(Team, team_id) or abort(404)
    require_org_role(found.campaign.organization_id, "owner", "editor")
    form = HideForm()
    if form.validate_on_submit():
        try:
            service.hide_team(db.session, current_user, found.id, form.reason.data)
        except service.GivingDayError as exc:
            uow.discard()
            flash(exc.text(), "error")
        else:
            flash(_("The team is hidden."), "success")
    else:
        flash(_("Give a reason (at most 300 characters)."), "error")
    return redirect(url_for("givingdays.team", team_id=found.id))


# --- organizations: apply, pledges ----------------------------------------------------------


def _org_campaign_choices(org_id: int) -> list[tuple[int, str]]:
    return [
        (c.id, c.title)
        for c in db.session.scalars(
            sa.select(Campaign)
            .where(Campaign.organization_id == org_id, Campaign.status == "published")
            .order_by(Campaign.id)
        )
    ]


@bp.route("/orgs/<int:org_id>/events/<int:event_id>/apply", methods=["GET", "POST"])
def apply(org_id: int, event_id: int):  # type: ignore[no-untyped-def]
    require_org_role(org_id, "owner", "editor")
    event = db.session.get(GivingDay, event_id) or abort(404)
    form = ApplyForm()
    form.campaign_id.choices = _org_campaign_choices(org_id)
    if form.validate_on_submit():
        try:
            service.apply_campaign(db.session, current_user, event.id, form.campaign_id.data)
        except service.GivingDayError as exc:
            uow.discard()
            show_error(form, exc)
        else:
            flash(_("Applied. The platform will review the campaign."), "success")
            return redirect(url_for("givingdays.show", event_id=event.id))
    status = 400 if request.method == "POST" else 200
    return render_template("givingdays/apply.html", event=event, form=form, org_id=org_id), status


@bp.route("/orgs/<int:org_id>/pledges", methods=["GET", "POST"])
def pledges(org_id: int):  # type: ignore[no-untyped-def]
    require_org_role(org_id, "owner", "finance")
    organization = db.session.get(Organization, org_id) or abort(404)
    form = PledgeForm()
    form.event_id.choices = [
        (e.id, e.name)
        for e in db.session.scalars(sa.select(GivingDay).order_by(GivingDay.start_date.desc()))
    ]
    form.campaign_id.choices = [(0, "—"), *_org_campaign_choices(org_id)]
    if form.validate_on_submit():
        try:
            service.record_pledge(
                db.session,
                current_user,
                service.NewPledge(
                    event_id=form.event_id.data,
                    organization_id=org_id,
                    company_name=form.company_name.data,
                    company_uscc=form.company_uscc.data,
                    amount_fen=form.amount.fen or 0,
                    due_date=form.due_date.data,
                    campaign_id=form.campaign_id.data or None,
                ),
            )
        except service.GivingDayError as exc:
            uow.discard()
            show_error(form, exc)
        else:
            flash(_("The pledge is recorded."), "success")
            return redirect(url_for("givingdays.pledges", org_id=org_id))
    status = 400 if request.method == "POST" else 200
    return render_template(
        "givingdays/pledges.html",
        organization=organization,
        form=form,
        link_form=LinkForm(formdata=None),
        rows=stats_service.pledge_rows(db.session, organization_id=org_id),
    ), status


@bp.post("/orgs/<int:org_id>/pledges/link")
def link_pledge(org_id: int):  # type: ignore[no-untyped-def]
    require_org_role(org_id, "owner", "finance")
    form = LinkForm()
    if form.validate_on_submit() and (form.pledge_id.data or "").isdigit():
        try:
            service.link_gift(
                db.session, current_user, int(form.pledge_id.data), form.donation_id.data
            )
        except service.GivingDayError as exc:
            uow.discard()
            flash(exc.text(), "error")
        except LookupError:
            abort(404)
        except PermissionError:  # another organization's pledge (its URL is not the pledge's)
            uow.discard()
            abort(403)
        else:
            flash(_("The gift is linked to the pledge."), "success")
    else:
        flash(_("Give the gift's number."), "error")
    return redirect(url_for("givingdays.pledges", org_id=org_id))


# --- a sponsor's payments into its pool: four eyes (issue 18) --------------------------------


def _handled_pool(pool_id: int) -> MatchingPool:
    require_login()
    matching_pool = db.session.get(MatchingPool, pool_id) or abort(404)
    if not sponsor_payments.may_handle(current_user, matching_pool):
        abort(403)
    return matching_pool


@bp.route("/pools/<int:pool_id>/sponsor-payments", methods=["GET", "POST"])
def sponsor_payments_page(pool_id: int):  # type: ignore[no-untyped-def]
    """The sponsor's bank transfers: one person records, a second person confirms."""
    matching_pool = _handled_pool(pool_id)
    form = SponsorPaymentForm()
    if form.validate_on_submit():
        try:
            sponsor_payments.record_payment(
                db.session,
                current_user,
                sponsor_payments.NewSponsorPayment(
                    pool_id=matching_pool.id,
                    amount_fen=form.amount.fen or 0,
                    received_on=form.received_on.data,
                    reference=form.reference.data or "",
                    note=form.note.data or "",
                    slip=form.slip_bytes(),
                ),
                current_app.config["UPLOAD_DIR"],
            )
        except service.GivingDayError as exc:
            uow.discard()
            show_error(form, exc)
        else:
            flash(_("The payment is recorded. A second person must confirm it."), "success")
            return redirect(url_for("givingdays.sponsor_payments_page", pool_id=pool_id))
    status = 400 if request.method == "POST" else 200
    payments = sponsor_payments.payments_of(db.session, matching_pool.id)
    return render_template(
        "givingdays/sponsor_payments.html",
        pool=matching_pool,
        form=form,
        decide_form=SponsorDecisionForm(formdata=None),
        payments=payments,
        outstanding_fen=sponsor_payments.outstanding_fen(db.session, matching_pool),
        slip_limit_mb=sponsor_payments.SLIP_MAX_BYTES // (1024 * 1024),
        refusals={
            p.id: sponsor_payments.refusal(current_user, p, matching_pool)
            for p in payments
            if p.status == "recorded"
        },
    ), status


@bp.post("/pools/<int:pool_id>/sponsor-payments/decide")
def decide_sponsor_payment(pool_id: int):  # type: ignore[no-untyped-def]
    _handled_pool(pool_id)
    form = SponsorDecisionForm()
    payment_id = form.payment_id.data or ""
    if not form.validate_on_submit() or not payment_id.isdigit():
        abort(400)
    payment = db.session.get(SponsorPayment, int(payment_id))
    if payment is None or payment.pool_id != pool_id:
        abort(404)
    try:
        if form.decision.data == "confirm":
            sponsor_payments.confirm_payment(db.session, current_user, payment.id)
            message = _("The payment is confirmed and entered in the books.")
        elif form.decision.data == "reject":
            sponsor_payments.reject_payment(
                db.session, current_user, payment.id, form.reason.data or ""
            )
            message = _("The payment is rejected; nothing was entered in the books.")
        else:
            abort(400)
    except service.GivingDayError as exc:
        uow.discard()
        flash(exc.text(), "error")
    else:
        flash(message, "success")
    return redirect(url_for("givingdays.sponsor_payments_page", pool_id=pool_id))


@bp.get("/pools/<int:pool_id>/sponsor-payments/<int:payment_id>/slip")
def sponsor_payment_slip(pool_id: int, payment_id: int):  # type: ignore[no-untyped-def]
    """The bank slip of a payment, for those who record and confirm the pool's payments
    only (it shows the organization's account): the second person reads it before
    confirming. Served as an attachment with its checked type (uploads.send_stored)."""
    _handled_pool(pool_id)
    payment = db.session.get(SponsorPayment, payment_id)
    if payment is None or payment.pool_id != pool_id or not payment.slip_sha256:
        abort(404)
    content_type = payment.slip_content_type or ""
    response = uploads.send_stored(
        current_app.config["UPLOAD_DIR"],
        payment.slip_sha256,
        content_type,
        f"sponsor-payment-{payment.id}-slip.{uploads.EXTENSIONS.get(content_type, 'bin')}",
    )
    if response is None:
        abort(404)
    return response


# --- admin ----------------------------------------------------------------------------------


@bp.route("/admin/events", methods=["GET", "POST"])
@admin_required
def admin_events():  # type: ignore[no-untyped-def]
    form = EventForm()
    if form.validate_on_submit():
        try:
            event = service.create_event(
                db.session,
                current_user,
                service.NewEvent(
                    name=form.name.data,
                    theme=form.theme.data or "",
                    start_date=form.start_date.data,
                    end_date=form.end_date.data,
                    region=form.region.data or "",
                ),
            )
        except service.GivingDayError as exc:
            uow.discard()
            show_error(form, exc)
        else:
            return redirect(url_for("givingdays.admin_event", event_id=event.id))
    events = db.session.scalars(sa.select(GivingDay).order_by(GivingDay.start_date.desc())).all()
    status = 400 if request.method == "POST" else 200
    return render_template("givingdays/admin_events.html", form=form, events=events), status


@bp.route("/admin/events/<int:event_id>", methods=["GET", "POST"])
@admin_required
def admin_event(event_id: int):  # type: ignore[no-untyped-def]
    event = db.session.get(GivingDay, event_id) or abort(404)
    entries = db.session.scalars(
        sa.select(GivingDayCampaign)
        .where(GivingDayCampaign.event_id == event.id)
        .order_by(GivingDayCampaign.id)
    ).all()
    form = PoolForm()
    form.organization_id.choices = [
        (o.id, o.name)
        for o in db.session.scalars(
            sa.select(Organization)
            .where(Organization.status == "verified")
            .order_by(Organization.name)
        )
    ]
    form.campaign_ids.choices = [
        (e.campaign_id, e.campaign.title) for e in entries if e.status == "accepted"
    ]
    if form.validate_on_submit():
        try:
            service.create_pool(
                db.session,
                current_user,
                service.NewPool(
                    event_id=event.id,
                    organization_id=form.organization_id.data,
                    sponsor_name=form.sponsor_name.data,
                    sponsor_uscc=form.sponsor_uscc.data or "",
                    total_fen=form.total.fen or 0,
                    ratio_percent=form.ratio_percent.data or 100,
                    cap_per_gift_fen=form.cap_per_gift.fen,
                    cap_per_donor_day_fen=form.cap_per_donor_day.fen,
                    cap_per_campaign_fen=form.cap_per_campaign.fen,
                    windows=form.windows.data or "",
                    campaign_ids=tuple(form.campaign_ids.data or ()),
                ),
            )
        except service.GivingDayError as exc:
            uow.discard()
            show_error(form, exc)
        else:
            flash(_("The matching pool is created."), "success")
            return redirect(url_for("givingdays.admin_event", event_id=event.id))
    status = 400 if request.method == "POST" else 200
    return render_template(
        "givingdays/admin_event.html",
        event=event,
        entries=entries,
        form=form,
        decide_form=DecideForm(formdata=None),
    ), status


@bp.post("/admin/events/<int:event_id>/decide")
@admin_required
def admin_decide(event_id: int):  # type: ignore[no-untyped-def]
    form = DecideForm()
    entry_id = form.entry_id.data or ""
    if not form.validate_on_submit() or not entry_id.isdigit():
        abort(400)
    entry = db.session.get(GivingDayCampaign, int(entry_id))
    if entry is None or entry.event_id != event_id:
        abort(404)
    try:
        service.decide_campaign(
            db.session, current_user, entry.id, accept=form.decision.data == "accept"
        )
    except service.GivingDayError as exc:
        uow.discard()
        flash(exc.text(), "error")
    else:
        flash(_("Decided."), "success")
    return redirect(url_for("givingdays.admin_event", event_id=event_id))


# --- for other pages: the match of a gift, a campaign's teams -------------------------------


@bp.app_template_global()
def gift_matches(donation: Donation) -> list:
    """The matches of a gift (the result page, the receipt)."""
    if donation.id is None or donation.campaign_id is None:
        return []
    return [m for m in service.matches_of(db.session, donation.id) if m.net_fen > 0]


@bp.app_template_global()
def campaign_matched_fen(campaign_id: int) -> int:
    return service.campaign_matched_fen(db.session, campaign_id)


@bp.app_template_global()
def campaign_team_board(campaign_id: int) -> list:
    return stats_service.campaign_teams(db.session, campaign_id)


@bp.app_template_global()
def campaign_giving_days(campaign_id: int) -> list:
    """The giving days (on now) a campaign takes part in, for a link on its page."""
    today = today_cst()
    return list(
        db.session.scalars(
            sa.select(GivingDay)
            .join(GivingDayCampaign, GivingDayCampaign.event_id == GivingDay.id)
            .where(
                GivingDayCampaign.campaign_id == campaign_id,
                GivingDayCampaign.status == "accepted",
                GivingDay.start_date <= today,
                GivingDay.end_date >= today,
            )
            .order_by(GivingDay.id)
        )
    )


@bp.app_template_global()
def organization_pledges(org_id: int) -> list:
    """The organization's pledges with what arrived (its public page)."""
    return stats_service.pledge_rows(db.session, organization_id=org_id)
