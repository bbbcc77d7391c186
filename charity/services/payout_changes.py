"""Changes of an organization's receiving accounts wait (issue 15 finding 12).

An owner alone used to point the organization's gifts at any account at once, with no
second person, notice or delay. Now a change (the Stripe account, or a WeChat Pay or Alipay
merchant account's credentials) is a ``PayoutChange``:

- requested by an owner (wallets: after re-entering the password), mailed at once to every
  owner and finance member, with the time it takes effect;
- applied PAYOUT_CHANGE_DELAY_HOURS later (48) by `flask payments apply-payout-changes`
  (scheduled), or at once when a second person approves it under the four-eyes rule
  (charity/services/four_eyes.py);
- cancelled by any owner or finance member before then.

Until applied, gifts keep going to the old account: the accounts that payments read
(``Organization.stripe_account_id``, ``MerchantAccount``) change only when it is applied,
with the public log entry they always had. A new request for the same provider replaces
a pending one. Every step is logged (application log) and the rows stay as the history.
"""

from __future__ import annotations

import json
import logging
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app, has_app_context
from sqlalchemy.orm import Session

from charity.core.errors import DomainError
from charity.models import Organization, PayoutChange, User, utcnow
from charity.payments import vault
from charity.services import four_eyes, merchant_accounts, organizations
from charity.web.i18n import N_

log = logging.getLogger(__name__)

DEFAULT_DELAY_HOURS = 48
DECIDERS = ("owner", "finance")


class PayoutChangeError(DomainError, ValueError):
    """A refusal (charity.core.errors.DomainError)."""


def delay() -> timedelta:
    hours = DEFAULT_DELAY_HOURS
    if has_app_context():
        hours = int(current_app.config.get("PAYOUT_CHANGE_DELAY_HOURS", DEFAULT_DELAY_HOURS))
    return timedelta(hours=hours)


def _replace_pending(session: Session, organization_id: int, provider: str, actor: User) -> None:
    for change in pending_changes(session, organization_id, provider):
        change.status, change.decided_by_id, change.decided_at = "cancelled", actor.id, utcnow()


def _new_change(
    session: Session, organization: Organization, provider: str, actor: User, **values: object
) -> PayoutChange:
    _replace_pending(session, organization.id, provider, actor)
    change = PayoutChange(
        organization_id=organization.id,
        provider=provider,
        requested_by_id=actor.id,
        effective_at=utcnow() + delay(),
        status="pending",
        **values,
    )
    session.add(change)
    session.flush()  # the id goes into the mail's links and the log line
    log.info(
        "payout change %s requested: organization %s, %s account %s, by user %s, due %s",
        change.id, organization.id, provider, change.public_id, actor.id,
        change.effective_at.isoformat(),
    )  # fmt: skip
    return change


def request_wallet_change(
    session: Session, actor: User, command: merchant_accounts.SaveCredentials
) -> PayoutChange:
    """Check the credentials as saving them always did; keep them sealed until applied."""
    organization, cleaned = merchant_accounts.check_credentials(session, actor, command)
    settings, secrets = merchant_accounts.split_credentials(command.provider, cleaned)
    public_id = merchant_accounts.public_id_of(command.provider, settings)
    return _new_change(
        session,
        organization,
        command.provider,
        actor,
        public_id=public_id,
        settings_json=json.dumps(settings, sort_keys=True),
        secrets_token=vault.seal(secrets),
    )


def request_stripe_change(
    session: Session, actor: User, organization: Organization, account_id: str
) -> PayoutChange | None:
    """None when the account is the current one already (nothing to change)."""
    account_id = organizations.check_payment_account(actor, organization, account_id)
    if account_id is None:
        return None
    return _new_change(session, organization, "stripe", actor, public_id=account_id)


def pending_changes(
    session: Session, organization_id: int, provider: str | None = None
) -> list[PayoutChange]:
    query = sa.select(PayoutChange).where(
        PayoutChange.organization_id == organization_id, PayoutChange.status == "pending"
    )
    if provider is not None:
        query = query.where(PayoutChange.provider == provider)
    return list(session.scalars(query.order_by(PayoutChange.id)))


def _locked(session: Session, change_id: int) -> PayoutChange:
    change = session.scalars(
        sa.select(PayoutChange)
        .where(PayoutChange.id == change_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one_or_none()
    if change is None:
        raise LookupError(change_id)
    return change


def _require_decider(actor: User, change: PayoutChange) -> None:
    if actor.role_in(change.organization_id) not in DECIDERS:
        raise PermissionError("not allowed to decide on this organization's accounts")


def approval_refusal(actor: User, change: PayoutChange) -> str | None:
    return four_eyes.second_person_refusal(actor, change.requested_by_id, change.organization_id)


def approve_change(session: Session, actor: User, change_id: int) -> PayoutChange:
    """A second person lets it take effect now."""
    change = _locked(session, change_id)
    _require_decider(actor, change)
    if change.status != "pending":
        raise PayoutChangeError(N_("This change has been decided already."))
    refusal = approval_refusal(actor, change)
    if refusal is not None:
        raise PayoutChangeError(refusal)
    change.decided_by_id, change.decided_at = actor.id, utcnow()
    _apply(session, change)
    return change


def cancel_change(session: Session, actor: User, change_id: int) -> PayoutChange:
    """Any owner or finance member stops it (the mail tells them how)."""
    change = _locked(session, change_id)
    _require_decider(actor, change)
    if change.status != "pending":
        raise PayoutChangeError(N_("This change has been decided already."))
    change.status, change.decided_by_id, change.decided_at = "cancelled", actor.id, utcnow()
    log.info("payout change %s cancelled by user %s", change.id, actor.id)
    return change


def apply_due_changes(session: Session, now: datetime | None = None) -> list[PayoutChange]:
    """Apply every pending change whose delay has passed (`flask payments
    apply-payout-changes`; safe to run any number of times)."""
    due = session.scalars(
        sa.select(PayoutChange.id)
        .where(PayoutChange.status == "pending", PayoutChange.effective_at <= (now or utcnow()))
        .order_by(PayoutChange.id)
    ).all()
    applied = []
    for change_id in due:
        change = _locked(session, change_id)
        if change.status == "pending":
            _apply(session, change)
            applied.append(change)
    return applied


def _apply(session: Session, change: PayoutChange) -> None:
    organization = session.get(Organization, change.organization_id)
    assert organization is not None
    actor = session.get(User, change.requested_by_id)
    if change.provider == "stripe":
        organizations.apply_payment_account(session, organization, change.public_id)
    else:
        assert change.secrets_token is not None
        merchant_accounts.write_account(
            session,
            organization,
            change.provider,
            change.public_id,
            json.loads(change.settings_json),
            change.secrets_token,
            actor,
        )
    change.status = "applied"
    log.info(
        "payout change %s applied: organization %s, %s account %s (approved by %s)",
        change.id, organization.id, change.provider, change.public_id, change.decided_by_id,
    )  # fmt: skip
