"""Organizations: apply, manage, members, invitations and the public directory."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from werkzeug.wrappers import Response
from wtforms import DateField, IntegerField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired

from charity.blueprints.orgs_forms import (
    ROLE_LABELS,
    STATUS_LABELS,
    ApplicationForm,
    ConfirmForm,
    DirectoryForm,
    InviteForm,
    PaymentAccountForm,
    RoleForm,
    is_english,
)
from charity.blueprints.payment_accounts import change_requested
from charity.blueprints.two_factor import require_reauth
from charity.core import regions, uow
from charity.core.permissions import require_org_role, require_verified_email, role_in_org
from charity.extensions import db
from charity.models import Organization
from charity.ops.mail import Mail, queue_mail
from charity.services import organizations as service
from charity.services import payout_changes
from charity.services import related_parties as rp
from charity.services.merchant_accounts import can_receive_online
from charity.web import links, ratelimits
from charity.web.forms import BaseForm, show_error
from charity.web.labels import ORG_TYPE_LABELS

bp = Blueprint("orgs", __name__)

MEMBER_ROLES = ("owner", "finance", "editor")
MAX_PAGE = 10_000


@bp.app_context_processor
def _labels() -> dict[str, object]:
    return {
        "org_type_label": lambda value: ORG_TYPE_LABELS.get(value, value),
        "member_role_label": lambda value: ROLE_LABELS.get(value, value),
        "org_status_label": lambda value: STATUS_LABELS.get(value, value),
        "province_label": lambda value: regions.province_label(value, english=is_english()),
        "org_region": _region,
    }


def _region(organization: Organization) -> str:
    """Province (in the page's language), city unless a municipality repeats it, district."""
    parts = [regions.province_label(organization.province, english=is_english())]
    if organization.city and organization.city != organization.province:
        parts.append(organization.city)
    if organization.district:
        parts.append(organization.district)
    return " ".join(parts)


def _organization(org_id: int) -> Organization:
    return db.session.get(Organization, org_id) or abort(404)


def _may_see(organization: Organization) -> bool:
    if organization.is_verified:
        return True
    if not current_user.is_authenticated:
        return False
    return current_user.is_admin or role_in_org(current_user, organization.id) is not None


# --- the public directory and pages -------------------------------------------------------


@bp.get("/")
def directory():  # type: ignore[no-untyped-def]
    form = DirectoryForm(request.args)
    if not form.validate():
        return render_template("orgs/directory.html", form=form, page=None), 400
    # Clamped: a huge page number would overflow the SQL OFFSET.
    page = min(max(request.args.get("page", 1, type=int), 1), MAX_PAGE)
    statement = service.directory_select(form.query())
    results = db.paginate(
        statement, page=page, per_page=service.DIRECTORY_PAGE_SIZE, error_out=False
    )
    return render_template("orgs/directory.html", form=form, page=results)


@bp.get("/<int:org_id>")
def show(org_id: int):  # type: ignore[no-untyped-def]
    organization = _organization(org_id)
    if not _may_see(organization):
        abort(404)
    return render_template("orgs/show.html", org=organization)


@bp.get("/mine")
@login_required
def mine():  # type: ignore[no-untyped-def]
    memberships = sorted(current_user.active_memberships, key=lambda m: m.organization.name)
    return render_template("orgs/mine.html", memberships=memberships)


# --- applications ------------------------------------------------------------------------


@bp.route("/apply", methods=["GET", "POST"])
@login_required
def apply():  # type: ignore[no-untyped-def]
    if current_user.is_regulator:
        abort(403)
    require_verified_email()
    form = ApplicationForm()
    if form.validate_on_submit():
        try:
            organization = service.apply_for_organization(db.session, current_user, form.command())
        except service.NotAllowedError:
            uow.discard()
            abort(403)
        except service.OrganizationError as error:
            uow.discard()
            show_error(form, error)
        else:
            flash(_("Thank you! Your application will be reviewed soon."), "success")
            return redirect(url_for("orgs.manage", org_id=organization.id))
    status = 400 if request.method == "POST" else 200
    return render_template("orgs/apply.html", form=form, org=None), status


@bp.get("/<int:org_id>/manage")
def manage(org_id: int):  # type: ignore[no-untyped-def]
    organization = _organization(org_id)
    require_org_role(org_id, *MEMBER_ROLES)
    role = role_in_org(current_user, org_id)
    return render_template(
        "orgs/manage.html",
        org=organization,
        role=role,
        can_receive_online=can_receive_online(db.session, organization),
    )


@bp.route("/<int:org_id>/payment-account", methods=["GET", "POST"])
def payment_account(org_id: int):  # type: ignore[no-untyped-def]
    """The owner names the Stripe account that receives the organization's gifts."""
    organization = _organization(org_id)
    require_org_role(org_id, "owner")
    require_reauth()  # the receiving account (issue 15 finding 12): a fresh code
    form = PaymentAccountForm(stripe_account_id=organization.stripe_account_id)
    if form.validate_on_submit():
        try:
            change = payout_changes.request_stripe_change(
                db.session, current_user, organization, form.stripe_account_id.data
            )
        except service.OrganizationError as error:
            uow.discard()
            show_error(form, error)
        else:
            if change is not None:  # (None: it is the current account already)
                return change_requested(organization, change)
            return redirect(url_for("orgs.manage", org_id=org_id))
    status = 400 if request.method == "POST" else 200
    return render_template("orgs/payment_account.html", form=form, org=organization), status


@bp.route("/<int:org_id>/edit", methods=["GET", "POST"])
def edit(org_id: int):  # type: ignore[no-untyped-def]
    organization = _organization(org_id)
    require_org_role(org_id, "owner")
    if organization.is_verified:
        flash(_("A verified organization's registration cannot be edited here."), "warning")
        return redirect(url_for("orgs.manage", org_id=org_id))
    form = ApplicationForm(obj=organization)
    if form.validate_on_submit():
        try:
            service.update_application(db.session, current_user, organization, form.command())
        except service.OrganizationError as error:
            uow.discard()
            show_error(form, error)
        else:
            flash(_("Your application was saved and is waiting for review."), "success")
            return redirect(url_for("orgs.manage", org_id=org_id))
    status = 400 if request.method == "POST" else 200
    return render_template("orgs/apply.html", form=form, org=organization), status


# --- basic information of a verified organization -----------------------------------------


class BasicInfoForm(BaseForm):
    """The public basic information that may change after verification (the same fields
    and checks as in the application)."""

    address = ApplicationForm.address
    contact_name = ApplicationForm.contact_name
    contact_phone = ApplicationForm.contact_phone
    contact_email = ApplicationForm.contact_email
    website = ApplicationForm.website
    description_md = ApplicationForm.description_md


class BasicInfoChangeForm(BaseForm):
    """A change of a basic-information item that happens outside the platform."""

    item = SelectField(_l("What changed"), validators=[DataRequired()])
    occurred_on = DateField(_l("Date of the change"), validators=[InputRequired()])

    def __init__(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self.item.choices = [SelectChoice(k, v) for k, v in service.BASIC_INFO_ITEMS.items()]


@bp.post("/<int:org_id>/basic-info/changes")
def record_basic_info_change(org_id: int):  # type: ignore[no-untyped-def]
    """Owners record a change of charter, board, supervisors, legal representative ...
    (CL art. 78, Order 81): the 30-day obligation appears among the obligations."""
    organization = _organization(org_id)
    require_org_role(org_id, "owner")
    if not organization.is_verified:
        return redirect(url_for("orgs.edit", org_id=org_id))
    change_form = BasicInfoChangeForm()
    if change_form.validate_on_submit():
        try:
            service.record_basic_info_change(
                db.session, current_user, organization, change_form.item.data,
                change_form.occurred_on.data,
            )  # fmt: skip
        except service.OrganizationError as error:
            uow.discard()
            show_error(change_form, error)
        else:
            flash(_("Recorded. Publish the changed basic information within 30 days."), "success")
            return redirect(url_for("disclosures.obligations", org_id=org_id))
    form = BasicInfoForm(obj=organization)
    return render_template(
        "orgs/basic_info.html", form=form, change_form=change_form, org=organization
    ), 400


class RelatedPartyForm(BaseForm):
    name = StringField(_l("Name (as it appears on gifts)"), validators=[DataRequired()])
    relationship = StringField(_l("Relationship"), validators=[DataRequired()])
    email = StringField(_l("Email (optional: gifts under it match too)"))


class ListFilingForm(BaseForm):
    year = IntegerField(_l("Year of the list"), validators=[InputRequired()])
    filed_on = DateField(_l("Sent to the registration authority on"), validators=[InputRequired()])


@bp.route("/<int:org_id>/related-parties", methods=["GET", "POST"])
def related_parties(org_id: int):  # type: ignore[no-untyped-def]
    """MCA Order 81 arts. 14–15: the related-party list (a gift from a listed party starts
    the 30-day related-party disclosure) and its yearly filing with the authority."""
    organization = _organization(org_id)
    require_org_role(org_id, *rp.ROLES)
    form, filing_form = RelatedPartyForm(prefix="party"), ListFilingForm(prefix="filing")
    status = 200
    submitted = form if "party-name" in request.form else filing_form
    if request.method == "POST" and submitted.validate_on_submit():
        try:
            if submitted is form:
                rp.add_related_party(
                    db.session, current_user, organization, form.name.data,
                    form.relationship.data, form.email.data or "",
                )  # fmt: skip
            else:
                rp.record_list_filing(
                    db.session, current_user, organization, filing_form.year.data,
                    filing_form.filed_on.data,
                )  # fmt: skip
        except rp.RelatedPartyError as error:
            show_error(submitted, error, whole_form=None)
        except PermissionError:
            abort(403)
        else:
            flash(_("Saved."), "success")
            return redirect(url_for("orgs.related_parties", org_id=org_id))
    if request.method == "POST":
        status = 400
    return render_template(
        "orgs/related_parties.html",
        org=organization,
        parties=rp.list_parties(db.session, org_id),
        form=form,
        filing_form=filing_form,
    ), status


@bp.route("/<int:org_id>/basic-info", methods=["GET", "POST"])
def basic_info(org_id: int):  # type: ignore[no-untyped-def]
    """Owners change a verified organization's address, contacts, website, description."""
    organization = _organization(org_id)
    require_org_role(org_id, "owner")
    if not organization.is_verified:
        return redirect(url_for("orgs.edit", org_id=org_id))
    form = BasicInfoForm(obj=organization)
    if form.validate_on_submit():
        data = service.BasicInfoData(
            **{name: form[name].data or "" for name in service.BASIC_INFO_FIELDS}
        )
        try:
            changed = service.update_basic_info(db.session, current_user, organization, data)
        except service.OrganizationError as error:
            uow.discard()
            show_error(form, error)
        else:
            flash(_("Saved."), "success")
            # After a change, the page where the new 30-day obligation is listed.
            target = "disclosures.obligations" if changed else "orgs.manage"
            return redirect(url_for(target, org_id=org_id))
    status = 400 if request.method == "POST" else 200
    return render_template(
        "orgs/basic_info.html", form=form, change_form=BasicInfoChangeForm(), org=organization
    ), status


# --- members and invitations ---------------------------------------------------------------


def _members_page(organization: Organization, invite: InviteForm | None = None, status=200):  # type: ignore[no-untyped-def]
    role = role_in_org(current_user, organization.id)
    memberships = sorted(
        organization.active_memberships, key=lambda m: (MEMBER_ROLES.index(m.role), m.id)
    )
    page = render_template(
        "orgs/members.html",
        org=organization,
        role=role,
        memberships=memberships,
        invitations=service.open_invitations(db.session, organization),
        invite_form=invite or InviteForm(formdata=None),
        confirm_form=ConfirmForm(formdata=None),
        role_labels=ROLE_LABELS,
    )
    return page, status


@bp.get("/<int:org_id>/members")
def members(org_id: int):  # type: ignore[no-untyped-def]
    organization = _organization(org_id)
    require_org_role(org_id, *MEMBER_ROLES)
    return _members_page(organization)


@bp.post("/<int:org_id>/members/invite")
@ratelimits.outbound_mail
def invite(org_id: int):  # type: ignore[no-untyped-def]
    organization = _organization(org_id)
    require_org_role(org_id, "owner")
    form = InviteForm()
    if not form.validate():
        return _members_page(organization, form, 400)
    try:
        result = service.invite_member(
            db.session, current_user, organization, form.email.data, form.role.data
        )
    except service.OrganizationError as error:
        uow.discard()
        show_error(form, error)
        return _members_page(organization, form, 400)
    _queue_invite_mail(organization, form.email.data, result)
    flash(_("An invitation was sent to %(email)s.", email=form.email.data), "success")
    return redirect(url_for("orgs.members", org_id=org_id))


def _queue_invite_mail(organization: Organization, email: str, result) -> None:  # type: ignore[no-untyped-def]
    link = links.public_url("orgs.invitation", token=result.token)
    body = _(
        "You are invited to join %(org)s on the public charity platform.\n\n"
        "Log in or sign up with this email address, then open this link "
        "(valid for 7 days):\n%(link)s\n",
        org=organization.name,
        link=link,
    )
    subject = _("Join %(org)s", org=organization.name)
    queue_mail(Mail(to=email, subject=subject, body=body))


@bp.post("/<int:org_id>/members/<int:membership_id>/role")
def change_role(org_id: int, membership_id: int):  # type: ignore[no-untyped-def]
    organization = _organization(org_id)
    require_org_role(org_id, "owner")
    require_reauth()  # who may move money (issue 15: re-authentication for roles)
    form = RoleForm()
    if not form.validate():
        flash(_("Choose a role from the list."), "error")
        return _members_page(organization, status=400)
    try:
        service.change_member_role(
            db.session, current_user, organization, membership_id, form.role.data
        )
    except service.OrganizationError as error:
        uow.discard()
        flash(error.text(), "error")
        return _members_page(organization, status=400)
    flash(_("The role was changed."), "success")
    return redirect(url_for("orgs.members", org_id=org_id))


@bp.post("/<int:org_id>/members/<int:membership_id>/remove")
def remove(org_id: int, membership_id: int):  # type: ignore[no-untyped-def]
    organization = _organization(org_id)
    require_org_role(org_id, "owner")
    require_reauth()  # who may move money (issue 15: re-authentication for roles)
    if not ConfirmForm().validate():
        abort(400)
    try:
        service.remove_member(db.session, current_user, organization, membership_id)
    except service.OrganizationError as error:
        uow.discard()
        flash(error.text(), "error")
        return _members_page(organization, status=400)
    flash(_("The member was removed."), "success")
    return redirect(url_for("orgs.members", org_id=org_id))


@bp.post("/<int:org_id>/invitations/<int:invitation_id>/revoke")
def revoke(org_id: int, invitation_id: int):  # type: ignore[no-untyped-def]
    organization = _organization(org_id)
    require_org_role(org_id, "owner")
    if not ConfirmForm().validate():
        abort(400)
    try:
        service.revoke_invitation(db.session, current_user, organization, invitation_id)
    except service.OrganizationError as error:
        uow.discard()
        flash(error.text(), "error")
        return _members_page(organization, status=400)
    flash(_("The invitation was withdrawn."), "success")
    return redirect(url_for("orgs.members", org_id=org_id))


@bp.route("/invitations/<token>", methods=["GET", "POST"])
@login_required
def invitation(token: str) -> Response | tuple[str, int] | str:
    found = service.find_invitation(db.session, token)
    if found is None:
        abort(404)
    form = ConfirmForm()
    if form.validate_on_submit():
        try:
            service.accept_invitation(db.session, current_user, token)
        except service.NotAllowedError as error:
            uow.discard()
            return render_template(
                "orgs/invitation.html", invitation=found, form=form, problem=error.text()
            ), 403
        except service.OrganizationError as error:
            uow.discard()
            return render_template(
                "orgs/invitation.html", invitation=found, form=form, problem=error.text()
            ), 400
        flash(_("Welcome to %(org)s!", org=found.organization.name), "success")
        return redirect(url_for("orgs.manage", org_id=found.organization_id))
    return render_template("orgs/invitation.html", invitation=found, form=form, problem=None)
