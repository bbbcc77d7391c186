"""Mail the people who can approve when money waits for a second person (issue 15, four
eyes): a refund above REFUND_FOUR_EYES_FEN, an offline or in-kind gift above
OFFLINE_FOUR_EYES_FEN, a disbursement, a transfer from a fund back to its host.

Without it such a request only shows on the approvals pages and in the public log, and
waits until someone happens to look. Each owner and finance member of the organization
(for a fund's disbursement, also its committee members) except the person who asked gets
one mail: what waits, the amount in yuan, who asked, and the link to the page where it is
decided. Payout account changes mail every owner and finance member already
(charity.blueprints.payment_accounts).

The mail is an after-commit effect (charity.core.uow): a request rolled back mails no one.
The project stores no language per user, so the mail is in Chinese first and English
below it. A matching pool sponsor's recorded transfer is mailed to the pool
organization's owners and finance members and to the platform's admins (who may confirm
it too). The mail is built after the commit from the row as committed (one decided in the
meantime is not announced).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

import sqlalchemy as sa
from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy.orm import Session

from charity.core.money import format_fen
from charity.core.uow import after_commit
from charity.extensions import db
from charity.models import (
    Disbursement,
    Donation,
    FundTransfer,
    InKindDetail,
    Membership,
    OfflineGiftDetail,
    Organization,
    RefundRequest,
    SponsorPayment,
    User,
)
from charity.ops.mail import Mail, deliver
from charity.web import links

#: The languages of the mail, in order (Chinese first).
MAIL_LOCALES = ("zh_Hans_CN", "en")
FINANCE_ROLES = ("owner", "finance")
KINDS = ("refund", "gift", "disbursement", "fund_transfer", "sponsor_payment")


@dataclass(frozen=True)
class Waiting:
    """What waits: ``kind`` (one of KINDS) and the id of its row."""

    kind: str
    row_id: int


def queue(kind: str, row_id: int) -> None:
    """Mail the deciders once the current transaction commits (never if it rolls back)."""
    if kind not in KINDS:
        raise ValueError(kind)
    after_commit(partial(send, Waiting(kind, row_id), links.site_root()))


def finance_people(session: Session, organization_id: int) -> list[User]:
    """The organization's current owners and finance members."""
    return list(
        session.scalars(
            sa.select(User)
            .join(Membership, Membership.user_id == User.id)
            .where(
                Membership.organization_id == organization_id,
                Membership.role.in_(FINANCE_ROLES),
                Membership.ended_at.is_(None),
            )
            .order_by(User.id)
        )
    )


@dataclass(frozen=True)
class _Notice:
    organization: Organization
    requester: User | None
    recipients: list[User]
    amount_fen: int
    #: (locale-free) builders of the sentence saying what waits, and of the link
    what: Callable[[], str]
    url: Callable[[], str]


def _requester(session: Session, user_id: int | None) -> User | None:
    return session.get(User, user_id) if user_id is not None else None


def _refund(session: Session, row_id: int) -> _Notice | None:
    request = session.get(RefundRequest, row_id)
    if request is None or request.status != "pending":
        return None
    donation = request.donation
    organization = donation.organization
    return _Notice(
        organization,
        _requester(session, request.requested_by_id),
        finance_people(session, organization.id),
        request.amount_fen,
        lambda: _(
            "A refund of %(amount)s of gift no. %(gift)s waits for a second person's "
            "approval. Reason given: %(reason)s",
            amount=format_fen(request.amount_fen),
            gift=donation.id,
            reason=request.reason,
        ),
        lambda: links.public_url("money_approvals.index", org_id=organization.id),
    )


def _gift(session: Session, row_id: int) -> _Notice | None:
    donation = session.get(Donation, row_id)
    if donation is None or donation.status != "pending":
        return None
    organization = donation.organization
    in_kind = donation.channel == "in_kind"
    detail = session.get(InKindDetail if in_kind else OfflineGiftDetail, donation.id)
    if detail is None:
        return None  # not a recorded gift: an online one waiting for its payment

    def what() -> str:
        if in_kind:
            return _(
                "A gift of goods valued at %(amount)s (%(goods)s) was recorded and waits "
                "for a second person to confirm it.",
                amount=format_fen(donation.amount_fen),
                goods=getattr(detail, "description", ""),
            )
        kind = (
            _("Bank transfer")
            if donation.channel == "bank_transfer"
            else _("Cash box or event collection")
        )
        return _(
            "An offline gift of %(amount)s (%(kind)s) was recorded and waits for a second "
            "person to confirm it.",
            amount=format_fen(donation.amount_fen),
            kind=kind,
        )

    return _Notice(
        organization,
        _requester(session, detail.recorded_by_id),
        finance_people(session, organization.id),
        donation.amount_fen,
        what,
        lambda: links.public_url("money_approvals.index", org_id=organization.id),
    )


def _disbursement(session: Session, row_id: int) -> _Notice | None:
    row = session.get(Disbursement, row_id)
    if row is None or row.status != "requested":
        return None
    people = finance_people(session, row.organization_id)
    if row.fund is not None:
        people += [seat.user for seat in row.fund.active_committee]
    return _Notice(
        row.organization,
        _requester(session, row.requested_by_id),
        people,
        row.amount_fen,
        lambda: _(
            "A disbursement of %(amount)s waits for a second person's approval. "
            "Purpose: %(purpose)s",
            amount=format_fen(row.amount_fen),
            purpose=row.purpose,
        ),
        lambda: links.public_url("disbursements.show", disbursement_id=row.id),
    )


def _fund_transfer(session: Session, row_id: int) -> _Notice | None:
    row = session.get(FundTransfer, row_id)
    if row is None or row.status != "requested":
        return None
    fund = row.fund
    return _Notice(
        fund.organization,
        _requester(session, row.created_by_id),
        finance_people(session, fund.organization_id),
        row.amount_fen,
        lambda: _(
            "A transfer of %(amount)s from the fund %(fund)s back to the organization's "
            "unrestricted money waits for a second person's approval. Reason given: "
            "%(reason)s",
            amount=format_fen(row.amount_fen),
            fund=fund.name,
            reason=row.reason,
        ),
        lambda: links.public_url("funds.transfer", fund_id=fund.id),
    )


def _sponsor_payment(session: Session, row_id: int) -> _Notice | None:
    """A matching pool sponsor's transfer, recorded: the pool organization's owners and
    finance members and the platform's admins may confirm it."""
    row = session.get(SponsorPayment, row_id)
    if row is None or row.status != "recorded":
        return None
    pool = row.pool
    admins = list(
        session.scalars(sa.select(User).where(User.platform_role == "admin").order_by(User.id))
    )
    return _Notice(
        pool.organization,
        _requester(session, row.recorded_by_id),
        finance_people(session, pool.organization_id) + admins,
        row.amount_fen,
        lambda: (
            _(
                "A transfer of %(amount)s from %(sponsor)s, the sponsor of a matching pool, "
                "was recorded with its bank slip and waits for a second person to confirm "
                "it: open the slip on the payments page and find the transfer on the bank "
                "statement first.",
                amount=format_fen(row.amount_fen),
                sponsor=pool.sponsor_name,
            )
            if row.slip_sha256
            else _(
                "A transfer of %(amount)s from %(sponsor)s, the sponsor of a matching pool, "
                "was recorded and waits for a second person to confirm it.",
                amount=format_fen(row.amount_fen),
                sponsor=pool.sponsor_name,
            )
        ),
        lambda: links.public_url("givingdays.sponsor_payments_page", pool_id=pool.id),
    )


_NOTICES: dict[str, Callable[[Session, int], _Notice | None]] = {
    "refund": _refund,
    "gift": _gift,
    "disbursement": _disbursement,
    "fund_transfer": _fund_transfer,
    "sponsor_payment": _sponsor_payment,
}


def _text(notice: _Notice) -> tuple[str, str]:
    """Subject and body in the current locale."""
    organization = notice.organization
    subject = _(
        "%(org)s: %(amount)s waits for a second person",
        org=organization.name,
        amount=format_fen(notice.amount_fen),
    )
    asked = (
        _("Requested by %(name)s.", name=notice.requester.name or notice.requester.email)
        if notice.requester is not None
        else ""
    )
    lines = [
        notice.what(),
        asked,
        _("Approve or reject it here (you need two-factor authentication):"),
        notice.url(),
        "",
        _(
            "You get this mail as an owner, finance member or committee member of "
            "%(org)s (or as a platform admin). The person who asked cannot approve it.",
            org=organization.name,
        ),
    ]
    return subject, "\n".join(line for line in lines if line is not None)


def build_mails(waiting: Waiting, session: Session | None = None) -> list[Mail]:
    """One mail per person who may decide, the requester left out (nothing if the row is
    gone or decided already). Needs a request context (the links)."""
    session = session or db.session
    notice = _NOTICES[waiting.kind](session, waiting.row_id)
    if notice is None:
        return []
    texts = []
    for locale in MAIL_LOCALES:
        with force_locale(locale):
            texts.append(_text(notice))
    subject = " / ".join(dict.fromkeys(subject for subject, _body in texts))
    body = "\n\n----\n\n".join(body for _subject, body in texts)
    requester_id = notice.requester.id if notice.requester is not None else None
    seen: set[int] = set()
    mails = []
    for person in notice.recipients:
        if person.id == requester_id or person.id in seen or not person.email:
            continue
        seen.add(person.id)
        mails.append(Mail(to=person.email, subject=subject, body=body))
    return mails


def send(waiting: Waiting, base_url: str) -> int:
    """The after-commit effect: build and send the mails; how many went out."""
    with current_app.test_request_context("/", base_url=base_url or None):
        mails = build_mails(waiting)
    for mail in mails:
        deliver(mail)
    return len(mails)
