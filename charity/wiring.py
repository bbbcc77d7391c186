"""Everything registered, in one place: called once by ``create_app``.

A reader following a donation's trail finds here who hears each event, how each public log
entry's payload is rebuilt, which Stripe event types are handled and by whom, and which
column keeps a log index. Nothing registers itself when its module is imported (a test in
tests/test_wiring.py imports every module and finds nothing registered before this runs).
"""

from __future__ import annotations

from charity.auditlog import store
from charity.compliance.obligations.refresh import refresh_on_event
from charity.core import events
from charity.core.events import PayloadBuilder, Subscriber
from charity.models import Donation
from charity.ops import receipt_mail
from charity.payments import webhooks
from charity.services import (
    campaigns,
    complaints,
    disbursements,
    disclosures,
    donations,
    donor_updates,
    funds,
    gift_messages,
    givingdays,
    major_transactions,
    official_receipts,
    offline,
    organizations,
    projects,
    receipts,
    recurring,
    refund_approvals,
    related_parties,
    sponsor_payments,
    suspensions,
    trusts,
)

#: Who hears every recorded event, in order, in the caller's transaction.
SUBSCRIBERS: tuple[Subscriber, ...] = (
    store.append_event,  # the public log: appended, or queued for the sequencer
    refresh_on_event,  # compliance: the organization's obligations
    related_parties.gift_from_related_party,  # compliance: Order 81 arts. 14-15
    donor_updates.notice_on_event,  # donors hear back: a result published, a suspension
)

#: (event type, subject table, the function that rebuilds its public payload from the row):
#: used by record_event and by `flask audit verify` to recompute every entry.
PAYLOAD_BUILDERS: tuple[tuple[str, str, PayloadBuilder], ...] = (
    ("organization.verified", "organizations", organizations.organization_payload),
    ("organization.rejected", "organizations", organizations.organization_payload),
    ("organization.member_added", "memberships", organizations.member_added_payload),
    ("fund.created", "funds", funds.fund_created_payload),
    ("fund.closed", "funds", funds.fund_closed_payload),
    ("fund.transfer", "fund_transfers", funds.transfer_payload),
    (
        "organization.major_transaction_recorded",
        "major_transactions",
        major_transactions.recorded_payload,
    ),
    ("project.created", "charitable_projects", projects.created_payload),
    ("project.ended", "charitable_projects", projects.ended_payload),
    ("project.campaign_linked", "project_campaigns", projects.linked_payload),
    ("trust.filed", "charitable_trusts", trusts.filed_payload),
    ("campaign.published", "campaigns", campaigns.published_payload),
    ("campaign.closed", "campaigns", campaigns.closed_payload),
    ("donation.succeeded", "donations", donations.succeeded_payload),
    ("donation.receipt_issued", "donations", donations.receipt_issued_payload),
    ("donation.refunded", "refunds", donations.refunded_payload),
    ("donation.message_hidden", "donations", gift_messages.message_hidden_payload),
    # refunds above REFUND_FOUR_EYES_FEN wait for a second person (issue 15)
    ("donation.refund_requested", "refund_requests", refund_approvals.request_payload),
    ("donation.refund_rejected", "refund_requests", refund_approvals.request_payload),
    (
        "donation.official_receipt_recorded",
        "official_receipts",
        official_receipts.recorded_payload,
    ),
    ("donation.matched", "matches", givingdays.matched_payload),
    ("match.released", "match_releases", givingdays.released_payload),
    ("giving_day.created", "giving_days", givingdays.giving_day_payload),
    ("giving_day.campaign_accepted", "giving_day_campaigns", givingdays.accepted_payload),
    ("matching_pool.created", "matching_pools", givingdays.pool_payload),
    (
        "matching_pool.sponsor_paid",
        "sponsor_payments",
        sponsor_payments.sponsor_paid_payload,
    ),
    ("team.hidden", "teams", givingdays.team_hidden_payload),
    ("pledge.recorded", "pledges", givingdays.pledge_payload),
    ("pledge.gift_linked", "donations", givingdays.linked_payload),
    ("donation.reversed", "donation_reversals", offline.reversed_payload),
    ("disbursement.requested", "disbursements", disbursements.disbursement_payload),
    ("disbursement.approved", "disbursements", disbursements.disbursement_payload),
    ("disbursement.rejected", "disbursements", disbursements.disbursement_payload),
    ("disbursement.executed", "disbursements", disbursements.disbursement_payload),
    ("disclosure.published", "disclosure_versions", disclosures.version_payload),
    ("disclosure.corrected", "disclosure_versions", disclosures.version_payload),
    # complaints and suspensions (issue 16 point 15): never the complainant's data
    ("complaint.received", "complaints", complaints.complaint_payload),
    ("complaint.in_review", "complaints", complaints.complaint_payload),
    ("complaint.replied", "complaints", complaints.replied_payload),
    ("complaint.closed", "complaints", complaints.complaint_payload),
    ("campaign.suspended", "campaign_suspensions", suspensions.suspension_payload),
    ("campaign.suspension_lifted", "campaign_suspensions", suspensions.lifted_payload),
)

#: Stripe event type -> handler (charity.payments.webhooks.apply_event).
STRIPE_WEBHOOK_HANDLERS: dict[str, webhooks.Handler] = {
    **webhooks.PAYMENT_HANDLERS,
    **recurring.WEBHOOK_HANDLERS,
}

#: Event type -> the column that keeps the index of the subject's log entry (filled in by
#: the batching sequencer; a receipt links it).
INDEX_COLUMNS = {"donation.succeeded": Donation.__table__.c.log_index}

#: How the receipt mail job (charity.ops.receipt_mail) renders the PDF receipt.
RECEIPT_PDF = receipt_mail.ReceiptPdf(receipts.render_receipt_pdf, receipts.ReceiptFontMissingError)


def wire() -> None:
    """Register everything above (idempotent: tests build several apps)."""
    for subscriber in SUBSCRIBERS:
        events.subscribe(subscriber)
    for event_type, table, builder in PAYLOAD_BUILDERS:
        events.register_payload_builder(event_type, table, builder)
    webhooks.register_handlers(STRIPE_WEBHOOK_HANDLERS)
    for event_type, column in INDEX_COLUMNS.items():
        store.record_index_in(event_type, column)
    receipt_mail.render_pdf_with(RECEIPT_PDF)
