"""Words for codes: event types, statuses and period keys are shown in words, never as the
code the database stores (issue 17 point 2). Templates use the filters registered in
``init_app``: ``|event_label``, ``|gift_status``, ``|monthly_status``, ``|period_label``,
``|obligation_status``. An unknown code falls back to a neutral word, not the code.
"""

from __future__ import annotations

import re

from flask import Flask
from flask_babel import gettext
from flask_babel import lazy_gettext as _l

#: Organization types (Organization.org_type) -> their legal names.
ORG_TYPE_LABELS = {
    "social_group": _l("Social group"),
    "social_service": _l("Social service institution"),
    "foundation": _l("Foundation"),
}

#: Public audit log event types (charity.core.events) -> what happened, in words.
EVENT_LABELS = {
    "organization.verified": _l("Organization verified"),
    "organization.rejected": _l("Organization application rejected"),
    "organization.member_added": _l("Member added to an organization"),
    "organization.basic_info_changed": _l("Organization's basic information changed"),
    "organization.major_transaction_recorded": _l("Major or related-party transaction recorded"),
    "organization.payment_account_set": _l("Receiving account connected"),
    "organization.merchant_account_set": _l("Receiving account connected"),
    "campaign.published": _l("Campaign published"),
    "campaign.closed": _l("Campaign closed"),
    "campaign.suspended": _l("Campaign suspended"),
    "campaign.suspension_lifted": _l("Campaign suspension lifted"),
    "recurring_gift.stopped": _l("Monthly gift stopped"),
    "organization.qualification_lost": _l("Public fundraising qualification lost"),
    "complaint.received": _l("Complaint received"),
    "complaint.in_review": _l("Complaint in review"),
    "complaint.replied": _l("Complaint replied to"),
    "complaint.closed": _l("Complaint closed"),
    "project.created": _l("Charitable project created"),
    "project.ended": _l("Charitable project ended"),
    "project.campaign_linked": _l("Campaign linked to a charitable project"),
    "trust.filed": _l("Charitable trust filed"),
    "donation.succeeded": _l("Gift received"),
    "donation.refunded": _l("Gift refunded"),
    "donation.refund_requested": _l("Refund awaiting a second person"),
    "donation.refund_rejected": _l("Refund request turned down"),
    "donation.reversed": _l("Gift reversed"),
    "donation.receipt_issued": _l("Receipt issued"),
    "donation.official_receipt_recorded": _l("Finance-bureau receipt recorded"),
    "disclosure.published": _l("Disclosure published"),
    "disclosure.corrected": _l("Disclosure corrected"),
    "fund.created": _l("Community fund set up"),
    "fund.closed": _l("Community fund closed"),
    "fund.transfer": _l("Money moved from a community fund"),
    "disbursement.requested": _l("Spending requested"),
    "disbursement.approved": _l("Spending approved"),
    "disbursement.rejected": _l("Spending rejected"),
    "disbursement.executed": _l("Money spent"),
    "payments.reconciliation_applied": _l("Payments reconciled with the provider"),
    "personal_data.erased": _l("Personal data erased at the donor's request"),
    # giving days (issue 18)
    "donation.matched": _l("Gift matched by a sponsor"),
    "match.released": _l("Matching money released"),
    "matching_pool.created": _l("Matching pool set up"),
    "matching_pool.sponsor_paid": _l("Sponsor paid into a matching pool"),
    "giving_day.created": _l("Giving day set up"),
    "giving_day.campaign_accepted": _l("Campaign joined a giving day"),
    "pledge.recorded": _l("Pledge recorded"),
    "pledge.gift_linked": _l("Pledge fulfilled by a gift"),
    "team.hidden": _l("Fundraising team hidden"),
    "donation.message_hidden": _l("Donor message hidden"),
}

GIFT_STATUS_LABELS = {
    "pending": _l("not paid yet"),
    "succeeded": _l("received"),
    "failed": _l("payment failed"),
    "refunded": _l("refunded"),
    "partially_refunded": _l("partly refunded"),
    "reversed": _l("reversed"),
}

MONTHLY_STATUS_LABELS = {
    "pending": _l("not started yet"),
    "active": _l("active"),
    "past_due": _l("last payment failed"),
    "canceled": _l("cancelled"),
}

OBLIGATION_STATUS_LABELS = {
    "upcoming": _l("Upcoming"),
    "due_soon": _l("Due soon"),
    "overdue": _l("Overdue"),
    "on_time": _l("Published on time"),
    "late": _l("Published late"),
}

#: What a disbursement pays for (Disbursement.purpose_category).
PURPOSE_LABELS = {
    "medical_supplies": _l("Medical supplies"),
    "epidemic_supplies": _l("Epidemic prevention supplies"),
    "food": _l("Food"),
    "education": _l("Education"),
    "elderly_care": _l("Elderly care"),
    "disaster_relief": _l("Disaster relief"),
    "community_services": _l("Community services"),
    "other": _l("Other"),
}

#: Period keys of obligations (charity.compliance.rules.deadlines) that are words, not dates.
PERIOD_WORDS = {
    "filing": _l("at filing"),
    "registration": _l("at registration"),
    "result": _l("after the campaign ends"),
    "end": _l("after the campaign ends"),
    "completion": _l("after the project ends"),
    "established": _l("after the trust is set up"),
}
TRIGGER_WORDS = {
    "major_transaction": _l("transaction no. %(n)s"),
    "basic_info_change": _l("change no. %(n)s"),
}
_TRIGGER = re.compile(r"^([a-z_]+)-(\d+)$")


def _word(table: dict, code: str | None) -> str:
    if not code:
        return ""
    label = table.get(code)
    return str(label) if label is not None else gettext("other")


def event_label(code: str | None) -> str:
    return _word(EVENT_LABELS, code)


def gift_status(code: str | None) -> str:
    return _word(GIFT_STATUS_LABELS, code)


def monthly_status(code: str | None) -> str:
    return _word(MONTHLY_STATUS_LABELS, code)


def obligation_status(code: str | None) -> str:
    return _word(OBLIGATION_STATUS_LABELS, code)


def period_label(key: str | None) -> str:
    """``2026`` -> 2026年, ``filing`` -> 备案时, ``major_transaction-3`` -> 第3项交易; dates
    stay as they are."""
    if not key:
        return ""
    if key.isdigit():
        return gettext("year %(year)s", year=key)
    if key in PERIOD_WORDS:
        return str(PERIOD_WORDS[key])
    match = _TRIGGER.match(key)
    if match and match.group(1) in TRIGGER_WORDS:
        return str(TRIGGER_WORDS[match.group(1)]) % {"n": match.group(2)}
    return key


def purpose_label(code: str | None) -> str:
    return _word(PURPOSE_LABELS, code)


def subject_label(key: str | None) -> str:
    """``campaign:3`` -> 募捐活动 #3, ``fund:1`` -> 社区基金 #1, ``org`` -> 本机构."""
    kind, _sep, number = (key or "").partition(":")
    if kind == "campaign" and number:
        return gettext("Campaign #%(n)s", n=number)
    if kind == "fund" and number:
        return gettext("Fund #%(n)s", n=number)
    if kind == "project" and number:
        return gettext("Project #%(n)s", n=number)
    if kind == "trust" and number:
        return gettext("Trust #%(n)s", n=number)
    return gettext("the organization")


def init_app(app: Flask) -> None:
    for function in (
        event_label,
        gift_status,
        monthly_status,
        obligation_status,
        period_label,
        purpose_label,
        subject_label,
    ):
        app.jinja_env.filters[function.__name__] = function
