"""Money waiting for a second person (issue 15, four eyes): refunds above
REFUND_FOUR_EYES_FEN and offline or in-kind gifts recorded above OFFLINE_FOUR_EYES_FEN.

- ``GET /orgs/<id>/approvals``: the list, for the organization's owners and finance
  members; each row says why the viewer may not approve it (their own request, no
  confirmed e-mail, no two-factor authentication, too new a role) or shows the button.
- ``POST /orgs/<id>/refund-requests/<rid>/approve`` and ``/reject``;
  ``POST /orgs/<id>/gifts/<did>/confirm`` and ``/decline``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from charity import payments
from charity.blueprints.two_factor import require_reauth
from charity.core import uow
from charity.core.permissions import require_org_role
from charity.extensions import db
from charity.models import Organization
from charity.services import offline, refund_approvals
from charity.web import links
from charity.web.forms import BaseForm

bp = Blueprint("money_approvals", __name__)
T = TypeVar("T")

FINANCE_ROLES = ("owner", "finance")


class DecideForm(BaseForm):
    """The approve/confirm buttons: only the CSRF token (the reason of a rejection is read
    from the form as typed)."""


def _organization(org_id: int) -> Organization:
    organization = db.session.get(Organization, org_id) or abort(404)
    require_org_role(org_id, *FINANCE_ROLES)
    return organization


def _back(org_id: int):  # type: ignore[no-untyped-def]
    return redirect(url_for("money_approvals.index", org_id=org_id), 303)


@bp.get("/orgs/<int:org_id>/approvals")
def index(org_id: int):  # type: ignore[no-untyped-def]
    organization = _organization(org_id)
    refunds = refund_approvals.pending_requests(db.session, org_id)
    gifts = offline.awaiting_confirmation(db.session, org_id)
    return render_template(
        "money_approvals/index.html",
        organization=organization,
        refunds=refunds,
        refund_refusals={r.id: refund_approvals.approval_refusal(current_user, r) for r in refunds},
        gifts=gifts,
        gift_refusals={
            g.id: offline.confirmation_refusal(db.session, current_user, g) for g in gifts
        },
        form=DecideForm(),
    )


def _valid_form() -> None:
    if not DecideForm().validate_on_submit():
        abort(400)


def _run(org_id: int, action: Callable[[], T]) -> tuple[T | None, Response | None]:
    """Run one decision: (its result, None), or (None, the list page with the refusal
    flashed) after undoing the unit of work; 404 when the row is not the organization's."""
    try:
        return action(), None
    except LookupError:
        abort(404)
    except (refund_approvals.RefundApprovalError, offline.OfflineGiftError) as error:
        message = error.text()
    except payments.PaymentError as error:
        message = error.message
    uow.discard()
    flash(message, "error")
    return None, _back(org_id)


@bp.post("/orgs/<int:org_id>/refund-requests/<int:request_id>/approve")
def approve_refund(org_id: int, request_id: int):  # type: ignore[no-untyped-def]
    _organization(org_id)
    require_reauth()  # money leaving or counted on a second person's word: a fresh code
    _valid_form()
    _made, refused = _run(
        org_id,
        lambda: refund_approvals.approve_request(
            db.session, current_user, org_id, request_id, links.site_root()
        ),
    )
    if refused is not None:
        return refused
    # the donor's mail is queued by the refund itself (charity.ops.refund_mail)
    flash(_("The refund was approved and made."), "success")
    return _back(org_id)


@bp.post("/orgs/<int:org_id>/refund-requests/<int:request_id>/reject")
def reject_refund(org_id: int, request_id: int):  # type: ignore[no-untyped-def]
    _organization(org_id)
    _valid_form()
    reason = (request.form.get("reason") or "")[:500]
    _ignored, refused = _run(
        org_id,
        lambda: refund_approvals.reject_request(
            db.session, current_user, org_id, request_id, reason
        ),
    )
    if refused is not None:
        return refused
    flash(_("The refund request was turned down."), "success")
    return _back(org_id)


@bp.post("/orgs/<int:org_id>/gifts/<int:donation_id>/confirm")
def confirm_gift(org_id: int, donation_id: int):  # type: ignore[no-untyped-def]
    _organization(org_id)
    require_reauth()  # money leaving or counted on a second person's word: a fresh code
    _valid_form()
    donation, refused = _run(
        org_id, lambda: offline.confirm_gift(db.session, current_user, org_id, donation_id)
    )
    if refused is not None:
        return refused
    assert donation is not None
    if donation.receipt_number:
        flash(_("Confirmed: receipt %(number)s was issued.", number=donation.receipt_number))
    else:
        flash(_("Confirmed: the gift is counted."), "success")
    return _back(org_id)


@bp.post("/orgs/<int:org_id>/gifts/<int:donation_id>/decline")
def decline_gift(org_id: int, donation_id: int):  # type: ignore[no-untyped-def]
    _organization(org_id)
    _valid_form()
    reason = (request.form.get("reason") or "")[:300]
    _ignored, refused = _run(
        org_id,
        lambda: offline.decline_gift(db.session, current_user, org_id, donation_id, reason),
    )
    if refused is not None:
        return refused
    flash(_("The recorded gift was declined: nothing was counted."), "success")
    return _back(org_id)
