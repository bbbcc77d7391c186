"""One sentence per public log entry type: what was recorded, in words a donor reads
(issue 17 point 6). The entry page and the gift result page show it above the technical
details; ``tests/test_log_words.py`` fails when an event type has no sentence.
"""

from __future__ import annotations

from flask import Flask
from flask_babel import gettext
from flask_babel import lazy_gettext as _l

#: Event type -> what the entry records. Why anyone can check it is the same for every entry
#: and said once on the entry page.
EVENT_EXPLANATIONS = {
    "organization.verified": _l(
        "The registration authority's check of this organization was recorded: its name and "
        "unified social credit code are now on the public record."
    ),
    "organization.rejected": _l(
        "An application to register an organization on the platform was turned down, and the "
        "refusal was recorded."
    ),
    "organization.member_added": _l(
        "A person was given a role in this organization; the entry records the role, not who "
        "the person is."
    ),
    "organization.basic_info_changed": _l(
        "The organization changed its basic information (name, address, representative or "
        "purpose), and the change was recorded."
    ),
    "organization.major_transaction_recorded": _l(
        "The organization recorded a major transaction or a transaction with a related party, "
        "with its amount, as the law requires it to disclose."
    ),
    "organization.payment_account_set": _l(
        "The organization connected the account that receives gifts; the entry records which "
        "payment service, not the account's secrets."
    ),
    "organization.merchant_account_set": _l(
        "The organization connected the account that receives gifts; the entry records which "
        "payment service, not the account's secrets."
    ),
    "campaign.published": _l(
        "A fundraising campaign was published with its goal and filing number, so what it "
        "promised at the start cannot be changed later."
    ),
    "campaign.closed": _l(
        "A fundraising campaign was closed and stopped taking gifts; the entry records when."
    ),
    "campaign.suspended": _l(
        "A fundraising campaign was suspended and stopped taking gifts while its case is "
        "looked into; the entry records when and why."
    ),
    "campaign.suspension_lifted": _l(
        "The suspension of a fundraising campaign was lifted and it may take gifts again; the "
        "entry records when."
    ),
    "recurring_gift.stopped": _l(
        "A monthly gift was cancelled at its payment service because its campaign was "
        "suspended or its organization lost its public fundraising qualification; the entry "
        "records which gift and why, never who gave."
    ),
    "organization.qualification_lost": _l(
        "An organization lost its public fundraising qualification; the entry records from "
        "which day, why and the decision it comes from. Its campaigns take no gifts from then."
    ),
    "complaint.received": _l(
        "A complaint about an organization or campaign was received; the entry records what it "
        "is about, never who complained."
    ),
    "complaint.in_review": _l("A complaint is being looked into."),
    "complaint.replied": _l("A complaint was answered; the entry records when."),
    "complaint.closed": _l("A complaint was closed."),
    "donation.succeeded": _l(
        "A gift was received: its amount, the organization and the campaign are public; the "
        "donor appears only as a code that only the donor can match to themselves."
    ),
    "donation.refunded": _l(
        "Money from a gift was returned to the donor; the entry records how much."
    ),
    "donation.refund_requested": _l(
        "A large refund of a gift was requested; it is made only when a second person of the "
        "organization approves it. The entry records how much, not who asked."
    ),
    "donation.refund_rejected": _l(
        "A request to refund a gift was turned down, so no money was returned for it."
    ),
    "donation.reversed": _l(
        "A gift was reversed (for example a bank transfer that was entered by mistake); the "
        "entry records the amount taken back out of the books."
    ),
    "donation.receipt_issued": _l(
        "A donation voucher or finance-bureau receipt was issued for a gift; the entry records "
        "its number, not the donor."
    ),
    "donation.official_receipt_recorded": _l(
        "The organization recorded the finance bureau's receipt (公益事业捐赠统一票据) it issued "
        "for a gift: the bill's code and number, not the donor."
    ),
    "disclosure.published": _l(
        "The organization published information it must disclose (a report, a result or a "
        "change), and its exact text was fixed in the log."
    ),
    "disclosure.corrected": _l(
        "The organization corrected a published disclosure; the earlier version stays in the "
        "log, so anyone can compare the two."
    ),
    "project.created": _l(
        "The organization recorded a charitable project with its start and planned end; "
        "its progress and result reports fall due from these dates."
    ),
    "project.ended": _l("The organization recorded the day a charitable project really ended."),
    "project.campaign_linked": _l(
        "A fundraising campaign was linked to the charitable project it raises money for."
    ),
    "trust.filed": _l(
        "A charitable trust filed with civil affairs was entered in the registry, with its "
        "filing number, trustee and property."
    ),
    "fund.created": _l("A community fund was set up under this organization, with its purpose."),
    "fund.closed": _l("A community fund was closed; the entry records what was left in it."),
    "fund.transfer": _l(
        "Money was moved out of a community fund to a campaign or another use; the entry "
        "records the amount."
    ),
    "disbursement.requested": _l(
        "The organization asked to spend money raised, with the amount and what it is for."
    ),
    "disbursement.approved": _l("A request to spend money raised was approved."),
    "disbursement.rejected": _l("A request to spend money raised was turned down."),
    "disbursement.executed": _l(
        "Money raised was paid out for the purpose approved; the entry records the amount."
    ),
    "payments.reconciliation_applied": _l(
        "The platform compared its books with the payment service's statement and recorded the "
        "corrections."
    ),
    "personal_data.erased": _l(
        "A donor asked for their personal data to be erased; it was, and the public entries "
        "about their gifts stay as they were (they never named the donor)."
    ),
    "donation.matched": _l(
        "A sponsor matched a gift from a matching pool; the entry records the matching amount."
    ),
    "match.released": _l(
        "Matching money promised to a campaign was released back to the sponsor's pool."
    ),
    "matching_pool.created": _l("A sponsor set up a matching pool with its total amount."),
    "matching_pool.sponsor_paid": _l(
        "A sponsor's bank transfer into its matching pool arrived; one person recorded it "
        "and a second person confirmed it. When a bank slip was attached, the entry holds "
        "its SHA-256, so the slip can be matched to this entry later."
    ),
    "giving_day.created": _l("A giving day was set up with its dates."),
    "giving_day.campaign_accepted": _l("A campaign was accepted into a giving day."),
    "pledge.recorded": _l("A pledge to give was recorded with its amount."),
    "pledge.gift_linked": _l("A gift was linked to the pledge it fulfils."),
    "team.hidden": _l("A fundraising team was hidden from the public pages."),
    "donation.message_hidden": _l(
        "The organization hid a donor's message from its campaign page; the entry records "
        "the reason it gave, never the message or the donor."
    ),
}


def event_explanation(code: str | None) -> str:
    label = EVENT_EXPLANATIONS.get(code or "")
    return str(label) if label is not None else gettext("An event of public interest was recorded.")


def init_app(app: Flask) -> None:
    app.jinja_env.filters["event_explanation"] = event_explanation
