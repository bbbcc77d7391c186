"""The donor's refund mail: one per refund recorded, sent after the commit that records it.

``charity.services.donations`` queues it where every refund is booked (``_apply_refund``):
a refund made at once from the refund form, one a second person approved (four eyes,
issue 15), one a provider reported (a notification, a dashboard refund, a parked event
applied, the daily reconciliation). A rollback drops it (``charity.core.uow.after_commit``);
a provider's repeat notification of a refund already recorded books nothing, so mails
nothing. The mail is rendered after the commit, in the locale and with the site address
of the unit of work that made the refund, so a job or command renders it as a request does.
"""

from __future__ import annotations

from functools import partial

from flask import current_app, render_template
from flask_babel import force_locale, get_locale
from flask_babel import gettext as _

from charity.core.uow import after_commit
from charity.extensions import db
from charity.models import Refund
from charity.ops.mail import Mail, deliver
from charity.web import links


def queue_refund_mail(refund_id: int) -> None:
    """Mail the donor about refund ``refund_id`` once the current transaction commits."""
    locale = str(get_locale() or current_app.config.get("BABEL_DEFAULT_LOCALE", "zh_Hans_CN"))
    after_commit(partial(send_refund_mail, refund_id, locale, links.site_root()))


def build_refund_mail(refund: Refund) -> Mail | None:
    """The mail, or None when the donor left no address (or it was erased since)."""
    donation = refund.donation
    if not donation.donor_email:
        return None
    return Mail(
        to=donation.donor_email,
        subject=_("Your gift to %(org)s was refunded", org=donation.organization.name),
        body=render_template("donations/refund_email.txt", refund=refund),
    )


def send_refund_mail(refund_id: int, locale: str, base_url: str) -> bool:
    """The after-commit effect: render and send; False when there is nothing to send."""
    refund = db.session.get(Refund, refund_id)
    if refund is None:
        return False
    with current_app.test_request_context("/", base_url=base_url or None), force_locale(locale):
        mail = build_refund_mail(refund)
    if mail is None:
        return False
    deliver(mail)
    return True
