"""Receipt emails, rendered and sent by a background job (RQ in production, inline in
development and tests).

A confirmation commits first; then ``queue_receipts`` enqueues one job per donation
that has a donor email. The job renders the mail and the Chinese PDF receipt (about a
second of CPU for CJK font subsetting) outside any request, so a giving-day burst of
webhook deliveries is never slowed by PDF rendering. The job renders with the locale
and the site address of the request that confirmed the gift.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

from flask import current_app, render_template
from flask_babel import force_locale, get_locale
from flask_babel import gettext as _
from redis.exceptions import RedisError

from charity.extensions import db
from charity.models import Donation, RecurringGift
from charity.ops import jobs
from charity.ops.mail import Mail, deliver, send_mail
from charity.web import links

JOB = "charity.ops.receipt_mail.send_receipt"


class ReceiptPdf(NamedTuple):
    """How the job renders the PDF receipt, and the error that means no CJK font (the
    renderer is charity.services.receipts, a layer above: charity.wiring hands it over)."""

    render: Callable[[Donation], bytes]
    font_missing: type[Exception]


_pdf: list[ReceiptPdf] = []


def render_pdf_with(pdf: ReceiptPdf) -> None:
    """Called by charity.wiring.wire (idempotent: tests build several apps)."""
    _pdf[:] = [pdf]


def queue_receipts(donation_ids: list[int]) -> None:
    """After the commit: one job per donation whose donor gave an email address."""
    if not donation_ids:
        return
    locale = str(get_locale() or current_app.config.get("BABEL_DEFAULT_LOCALE", "zh_Hans_CN"))
    # The site's public address (a webhook may arrive on another host name; never the
    # request's Host header).
    base_url = links.site_root()
    for donation_id in donation_ids:
        try:
            jobs.enqueue(JOB, donation_id, locale, base_url, retry=jobs.MAIL_RETRY)
        except RedisError:
            # The gift is committed; its receipt goes out now rather than never.
            current_app.logger.warning("job queue unavailable; receipt %s inline", donation_id)
            send_receipt(donation_id, locale, base_url)


def build_receipt_mail(donation: Donation) -> Mail:
    """The thank-you mail, with the PDF receipt attached when there is a receipt number."""
    attachments: tuple[tuple[str, str, bytes], ...] = ()
    # RECEIPT_EMAIL_PDF=False sends the link only (tests that do not look at the PDF).
    if donation.receipt_number and current_app.config.get("RECEIPT_EMAIL_PDF", True):
        renderer = _pdf[0]  # set by charity.wiring.wire
        try:
            pdf = renderer.render(donation)
        except renderer.font_missing:
            # The gift stands; the email links to the receipt page instead.
            current_app.logger.exception("no PDF receipt for donation %s", donation.id)
        else:
            attachments = ((f"receipt-{donation.receipt_number}.pdf", "application/pdf", pdf),)
    return Mail(
        to=donation.donor_email,
        subject=_("Thank you for your gift to %(org)s", org=donation.organization.name),
        body=render_template("donations/receipt_email.txt", donation=donation),
        attachments=attachments,
    )


def send_receipt(donation_id: int, locale: str, base_url: str) -> bool:
    """The job: render and send one receipt mail; False when there is nothing to send
    (no such donation, no email, or the email was erased meanwhile)."""
    donation = db.session.get(Donation, donation_id)
    if donation is None or not donation.donor_email or donation.status == "pending":
        return False
    with current_app.test_request_context("/", base_url=base_url or None), force_locale(locale):
        mail = build_receipt_mail(donation)
    send_mail(mail)
    return True


def send_renewal_failed_mail(gift_id: int) -> None:
    """After the commit that recorded a failed renewal: tell the donor how to update the card."""
    gift = db.session.get(RecurringGift, gift_id)
    if gift is None or not gift.donor_email:
        return
    deliver(
        Mail(
            to=gift.donor_email,
            subject=_(
                "Your monthly gift to %(org)s could not be charged", org=gift.organization.name
            ),
            body=render_template("donor/renewal_failed_email.txt", gift=gift),
        )
    )
