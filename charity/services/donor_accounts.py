"""A donor's own account of gifts: claiming guest gifts by a signed link mailed to the
address they were given under, and the consent to show the donor's name."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from itsdangerous import BadData, URLSafeTimedSerializer
from sqlalchemy.orm import Session

from charity.auditlog.erasure import ErasePersonalData, erase_personal_data
from charity.core.errors import DomainError
from charity.models import Donation, Invitation, LoginAttempt, RecurringGift, User
from charity.services import givingdays, recurring
from charity.web.i18n import N_

_CLAIM_SALT = "charity.gift-claim"
#: A claim link is good for three days.
CLAIM_MAX_AGE = 3 * 24 * 3600
#: Gifts in these states are a donor's history (pending and failed attempts are not).
HISTORY_STATUSES = ("succeeded", "partially_refunded", "refunded", "reversed")


class ClaimError(DomainError, ValueError):
    """A refusal (charity.core.errors.DomainError)."""


def _serializer(secret_key: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret_key, salt=_CLAIM_SALT)


def normalize_email(email: str) -> str:
    return email.strip().lower()


def make_claim_token(actor: User, email: str, secret_key: str) -> str:
    """A signed link token for ``actor`` to claim the gifts given under ``email``; it is
    mailed to that address, so only whoever reads that mailbox can use it."""
    return _serializer(secret_key).dumps({"user": actor.id, "email": normalize_email(email)})


@dataclass(frozen=True)
class ClaimResult:
    email: str
    donations: int
    monthly: int


def claim_gifts(
    session: Session, actor: User, token: str, secret_key: str, max_age: int = CLAIM_MAX_AGE
) -> ClaimResult:
    """Link the guest gifts given under the verified email to the actor's account."""
    try:
        data = _serializer(secret_key).loads(token, max_age=max_age)
    except BadData:
        raise ClaimError(N_("This link is invalid or has expired.")) from None
    if not isinstance(data, dict) or data.get("user") != actor.id:
        raise ClaimError(N_("This link was made for another account."))
    email = str(data.get("email") or "")
    if not email:
        raise ClaimError(N_("This link is invalid or has expired."))
    linked = session.execute(
        sa.update(Donation)
        .where(Donation.donor_email == email, Donation.donor_user_id.is_(None))
        .values(donor_user_id=actor.id)
        .execution_options(synchronize_session=False)
    ).rowcount
    monthly = session.execute(
        sa.update(RecurringGift)
        .where(RecurringGift.donor_email == email, RecurringGift.donor_user_id.is_(None))
        .values(donor_user_id=actor.id)
        .execution_options(synchronize_session=False)
    ).rowcount
    return ClaimResult(email, int(linked or 0), int(monthly or 0))


def donor_history(session: Session, actor: User) -> list[Donation]:
    return list(
        session.scalars(
            sa.select(Donation)
            .where(Donation.donor_user_id == actor.id, Donation.status.in_(HISTORY_STATUSES))
            .order_by(Donation.succeeded_at.desc(), Donation.id.desc())
        )
    )


def set_name_consent(session: Session, actor: User, show_name: bool) -> int:
    """Show (or stop showing) the donor's name on donor walls for all their gifts."""
    count = 0
    for model in (Donation, RecurringGift):
        count += int(
            session.execute(
                sa.update(model)
                .where(model.donor_user_id == actor.id, model.donor_name.is_not(None))
                .values(consent_show_name=show_name, is_anonymous=not show_name)
                .execution_options(synchronize_session=False)
            ).rowcount
            or 0
        )
    session.expire_all()
    return count


@dataclass(frozen=True)
class EraseMyData:
    #: Also close the account (its name and email are removed as well).
    delete_account: bool


@dataclass(frozen=True)
class ErasureResult:
    donations: int
    monthly: int
    account_deleted: bool


def erase_my_data(session: Session, actor: User, command: EraseMyData) -> ErasureResult:
    """Erase the donor's personal data from every private table; the log and the books
    still verify. Receipts keep only what the law requires (number, amount, date,
    organization). Each donation gets a ``personal_data.erased`` log entry. Running monthly
    gifts are cancelled at Stripe first (a PaymentError leaves everything unchanged)."""
    email = normalize_email(actor.email)
    # Gifts under the account's email count only once that email is verified: signing up
    # with someone else's address must not let anyone erase their gifts.
    by_email = actor.email_verified_at is not None
    mine = [Donation.donor_user_id == actor.id]
    mine_monthly = [RecurringGift.donor_user_id == actor.id]
    if by_email:
        mine.append(Donation.donor_email == email)
        mine_monthly.append(RecurringGift.donor_email == email)
    gifts = session.scalars(sa.select(Donation).where(sa.or_(*mine)).order_by(Donation.id)).all()
    monthly = session.scalars(sa.select(RecurringGift).where(sa.or_(*mine_monthly))).all()
    for gift in monthly:
        if gift.status != "canceled":
            recurring.cancel_recurring_gift(session, gift.id)
        gift.donor_name = None
        gift.donor_email = None
        gift.message = ""
        gift.consent_show_name = False
        gift.is_anonymous = True
        if command.delete_account:
            gift.donor_user_id = None
    erased = 0
    for donation in gifts:
        donation.message = ""
        donation.consent_show_name = False
        donation.is_anonymous = True
        if command.delete_account:
            donation.donor_user_id = None
        if donation.commitment_salt is None and donation.donor_email is None:
            continue  # erased before
        erase_personal_data(
            session,
            actor,
            ErasePersonalData(subject=donation, fields=("donor_name", "donor_email")),
        )
        erased += 1
    # the matching caps' donor hash is the e-mail hashed: not left behind (issue 18)
    givingdays.forget_donor_keys(session, [donation.id for donation in gifts])
    if command.delete_account:
        session.execute(sa.delete(LoginAttempt).where(LoginAttempt.email == email))
        session.execute(
            sa.update(Invitation)
            .where(Invitation.email == email)
            .values(email=f"erased-invitee@{actor.id}.invalid")
            .execution_options(synchronize_session=False)
        )
        actor.email = f"erased-{actor.id}@erased.invalid"
        actor.name = "—"
        actor.password_hash = "!erased"  # noqa: S105 - not a hash: no password matches
        actor.is_active_account = False
        actor.email_verified_at = None
    return ErasureResult(erased, len(monthly), command.delete_account)
