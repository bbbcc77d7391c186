"""Each organization's own merchant accounts (WeChat Pay 商户号, Alipay app; Stripe's
connected account is ``Organization.stripe_account_id``): gifts are paid straight into
them, so the platform never holds donors' money (guarantee 5).

Only an owner, after confirming who they are (a fresh two-factor code), gives new
credentials; they wait as a payout change (charity.services.payout_changes: a delay or
a second person) before ``write_account`` stores them. Secrets are sealed at rest
(charity.payments.vault) and never shown again; every change appends a public log entry
naming the provider and the account id (never a secret) and is mailed to the
organization's owners and finance members.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Protocol

import sqlalchemy as sa
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from flask import current_app
from sqlalchemy.orm import Session

from charity import payments
from charity.core.errors import DomainError
from charity.core.events import record_event
from charity.models import Donation, Membership, MerchantAccount, Organization, User, utcnow
from charity.payments import alipay, vault, wechatpay
from charity.web.i18n import N_

#: The fields of each provider's form: (name, secret?). Secrets are sealed, others kept.
FIELDS = {
    "wechatpay": (
        ("mchid", False),
        ("appid", False),
        ("cert_serial_no", False),
        ("private_key", True),
        ("apiv3_key", True),
        ("platform_public_key_id", False),
        ("platform_public_key", False),
    ),
    "alipay": (
        ("app_id", False),
        ("app_private_key", True),
        ("alipay_public_key", False),
    ),
}
PATTERNS = {
    "mchid": (re.compile(r"^\d{8,10}$"), N_("The 商户号 is 8 to 10 digits.")),
    "appid": (re.compile(r"^wx[0-9a-f]{16}$"), N_("The AppID starts with wx and 16 hex digits.")),
    "cert_serial_no": (
        re.compile(r"^[0-9A-Fa-f]{8,64}$"),
        N_("The certificate serial number is hexadecimal."),
    ),
    "apiv3_key": (re.compile(r"^[\x21-\x7e]{32}$"), N_("The API v3 key is 32 characters.")),
    "platform_public_key_id": (
        re.compile(r"^(PUB_KEY_ID_[0-9A-Za-z]{8,64})?$"),
        N_("The public key ID starts with PUB_KEY_ID_."),
    ),
    "app_id": (re.compile(r"^\d{16}$"), N_("The Alipay app ID is 16 digits.")),
}
PRIVATE_KEYS = ("private_key", "app_private_key")
PUBLIC_KEYS = ("platform_public_key", "alipay_public_key")


class MerchantAccountError(DomainError, ValueError):
    """A refusal (charity.core.errors.DomainError)."""


@dataclass(frozen=True)
class SaveCredentials:
    organization_id: int
    provider: str
    #: The form's values by field name (see FIELDS).
    values: dict[str, str] = field(repr=False)


def _require_owner(session: Session, actor: User, organization_id: int) -> None:
    role = session.scalar(
        sa.select(Membership.role).where(
            Membership.user_id == actor.id, Membership.organization_id == organization_id
        )
    )
    if role != "owner":
        raise MerchantAccountError(N_("Only an owner can change the receiving accounts."))


def _clean(provider: str, values: dict[str, str]) -> dict[str, str]:
    cleaned = {}
    for name, _secret in FIELDS[provider]:
        value = (values.get(name) or "").strip()
        if name in PRIVATE_KEYS or name in PUBLIC_KEYS:
            value = value.replace("\r\n", "\n")
        cleaned[name] = value
        pattern = PATTERNS.get(name)
        if pattern and not pattern[0].match(value):
            raise MerchantAccountError(pattern[1], name)
    for name in PRIVATE_KEYS:
        if name in cleaned:
            _check_private_key(cleaned[name], name)
    for name in PUBLIC_KEYS:
        if name in cleaned and (cleaned[name] or name == "alipay_public_key"):
            _check_public_key(cleaned[name], name)
    if provider == "wechatpay" and bool(cleaned["platform_public_key_id"]) != bool(
        cleaned["platform_public_key"]
    ):
        raise MerchantAccountError(
            N_("Enter both the platform public key and its ID, or neither."),
            "platform_public_key",
        )
    return cleaned


def _pem(text: str) -> bytes:
    """Accept a PEM, or the bare base64 body the providers' tools often show."""
    if "-----BEGIN" in text:
        return text.encode()
    return b"-----BEGIN PUBLIC KEY-----\n" + text.encode() + b"\n-----END PUBLIC KEY-----\n"


def _check_private_key(text: str, name: str) -> None:
    body = (
        text
        if "-----BEGIN" in text
        else ("-----BEGIN PRIVATE KEY-----\n" + text + "\n-----END PRIVATE KEY-----\n")
    )
    try:
        key = serialization.load_pem_private_key(body.encode(), password=None)
    except (ValueError, TypeError):
        raise MerchantAccountError(
            N_("This is not an RSA private key in PEM form."), name
        ) from None
    if not isinstance(key, rsa.RSAPrivateKey) or key.key_size < 2048:
        raise MerchantAccountError(N_("The private key must be RSA, 2048 bits or more."), name)


def _check_public_key(text: str, name: str) -> None:
    try:
        key = serialization.load_pem_public_key(_pem(text))
    except (ValueError, TypeError):
        raise MerchantAccountError(N_("This is not an RSA public key in PEM form."), name) from None
    if not isinstance(key, rsa.RSAPublicKey):
        raise MerchantAccountError(N_("This is not an RSA public key in PEM form."), name)


def check_credentials(
    session: Session, actor: User, command: SaveCredentials
) -> tuple[Organization, dict[str, str]]:
    """An owner (who confirmed who they are just before: the view's ``require_reauth``)
    of a verified organization, giving well-formed
    credentials of an account no other organization has: the organization and the
    cleaned values. Saving them is a payout change that waits (charity.services.payout_changes)."""
    if command.provider not in FIELDS:
        raise MerchantAccountError(N_("Unknown payment provider."))
    _require_owner(session, actor, command.organization_id)
    organization = session.get(Organization, command.organization_id)
    if organization is None or not organization.is_verified:
        raise MerchantAccountError(N_("Only a verified organization can receive gifts."))
    cleaned = _clean(command.provider, command.values)
    settings, _secrets = split_credentials(command.provider, cleaned)
    _check_not_taken(
        session, organization, command.provider, public_id_of(command.provider, settings)
    )
    return organization, cleaned


def split_credentials(provider: str, cleaned: dict[str, str]) -> tuple[dict, dict]:
    """(non-secret settings including the public id, secrets)."""
    secret_names = {name for name, secret in FIELDS[provider] if secret}
    settings = {k: v for k, v in cleaned.items() if k not in secret_names}
    return settings, {k: cleaned[k] for k in secret_names}


def public_id_of(provider: str, settings: dict[str, str]) -> str:
    return settings["mchid" if provider == "wechatpay" else "app_id"]


def _check_not_taken(
    session: Session, organization: Organization, provider: str, public_id: str
) -> None:
    taken = session.scalar(
        sa.select(MerchantAccount.organization_id).where(
            MerchantAccount.provider == provider,
            MerchantAccount.public_id == public_id,
            MerchantAccount.organization_id != organization.id,
        )
    )
    if taken is not None:
        raise MerchantAccountError(N_("This account is already another organization's."))


def store_credentials(
    session: Session,
    organization: Organization,
    provider: str,
    values: dict[str, str],
    actor: User | None,
) -> MerchantAccount:
    """Check, seal and store an account's credentials at once, with its log entry.
    Development's `flask payments connect-simulators` calls this directly (it refuses to
    run against real providers); owners go through a payout change."""
    cleaned = _clean(provider, values)
    settings, secrets = split_credentials(provider, cleaned)
    public_id = public_id_of(provider, settings)
    return write_account(
        session, organization, provider, public_id, settings, vault.seal(secrets), actor
    )


def write_account(
    session: Session,
    organization: Organization,
    provider: str,
    public_id: str,
    settings: dict[str, str],
    secrets_token: str,
    actor: User | None,
) -> MerchantAccount:
    """Store (or replace) the account gifts are paid into, with its public log entry."""
    _check_not_taken(session, organization, provider, public_id)
    settings = {k: v for k, v in settings.items() if k not in ("mchid", "app_id")}
    account = session.scalar(
        sa.select(MerchantAccount)
        .where(
            MerchantAccount.organization_id == organization.id,
            MerchantAccount.provider == provider,
        )
        .with_for_update()
    )
    if account is None:
        account = MerchantAccount(organization_id=organization.id, provider=provider)
        session.add(account)
        account.version = 1
    else:
        account.version += 1
    account.public_id = public_id
    account.settings_json = json.dumps(settings, sort_keys=True)
    account.secrets_token = secrets_token
    account.updated_by_id = actor.id if actor is not None else None
    account.updated_at = utcnow()
    session.flush()  # the account id names its notification URL
    forget_cached_clients(account)
    record_event(
        session,
        "organization.merchant_account_set",
        {
            "organization_id": organization.id,
            "org_uscc": organization.uscc,
            "provider": provider,
            "account": public_id,
            "version": account.version,
        },
        subject_table="merchant_accounts",
        subject_id=account.id,
    )
    return account


def forget_cached_clients(account: MerchantAccount) -> None:
    (wechatpay if account.provider == "wechatpay" else alipay).forget_clients(account.id)
    with _opened_lock:
        for key in [k for k in _opened if k[0] == account.id]:
            del _opened[key]


class AccountRecord(Protocol):
    """What opening an account reads: a MerchantAccount, or a row of its columns
    (``notify_account``)."""

    id: int
    organization_id: int
    provider: str
    public_id: str
    settings_json: str
    secrets_token: str
    version: int


#: Opened accounts, keyed by everything they are opened from (the account id and
#: version, its settings, its sealed secrets and the PAYMENT_SECRETS_KEY setting): any
#: change is a new key, so a stale opening is never served; ``forget_cached_clients``
#: drops an account's old openings when it is written. In this process's memory only,
#: like the SDK clients built from them (never logged, never stored).
_opened: dict[tuple[int, int, str, str, str], payments.Merchant] = {}
_opened_lock = threading.Lock()
_OPENED_MAX = 256


def merchant(account: AccountRecord) -> payments.Merchant:
    """The account with its secrets opened, for a provider call: unsealed once per
    process and credentials (a notification storm opens each account once, not per
    delivery)."""
    token = account.secrets_token
    keys = current_app.config.get("PAYMENT_SECRETS_KEY") or ""
    key = (account.id, account.version, account.settings_json, token, keys)
    opened = _opened.get(key)
    if opened is None:
        opened = payments.Merchant(
            provider=account.provider,
            account_id=account.id,
            public_id=account.public_id,
            settings=MappingProxyType(json.loads(account.settings_json)),
            secrets=MappingProxyType(vault.unseal(token)),
            fingerprint=f"{account.version}:{hashlib.sha256(token.encode()).hexdigest()[:16]}",
        )
        with _opened_lock:
            if len(_opened) >= _OPENED_MAX:
                _opened.clear()
            _opened[key] = opened
    return opened


_accounts = MerchantAccount.__table__
_NOTIFY_ACCOUNT = sa.select(
    _accounts.c.id,
    _accounts.c.organization_id,
    _accounts.c.provider,
    _accounts.c.public_id,
    _accounts.c.settings_json,
    _accounts.c.secrets_token,
    _accounts.c.version,
).where(_accounts.c.id == sa.bindparam("account_id"))


def notify_account(session: Session, account_id: int) -> AccountRecord | None:
    """The account a notification URL names, as a row of the columns that open it (one
    Core SELECT: a notification never needs the ORM object)."""
    row = session.connection().execute(_NOTIFY_ACCOUNT, {"account_id": account_id}).first()
    return row  # type: ignore[return-value] - a Row has the columns


def stripe_merchant(stripe_account_id: str | None) -> payments.Merchant:
    return payments.Merchant("stripe", 0, stripe_account_id or "", {}, {}, "stripe")


def merchant_of_donation(session: Session, donation: Donation) -> payments.Merchant:
    if (donation.payment_provider or "stripe") == "stripe":
        if not donation.stripe_account_id:
            raise MerchantAccountError(N_("This donation has no receiving Stripe account."))
        return stripe_merchant(donation.stripe_account_id)
    account = session.get(MerchantAccount, donation.merchant_account_id)
    if account is None:
        raise MerchantAccountError(N_("This donation's receiving account is gone."))
    return merchant(account)


def account_for(session: Session, organization_id: int, provider: str) -> MerchantAccount | None:
    return session.scalar(
        sa.select(MerchantAccount).where(
            MerchantAccount.organization_id == organization_id,
            MerchantAccount.provider == provider,
        )
    )


def providers_of(session: Session, organization: Organization) -> list[str]:
    """The providers the organization can receive gifts through, wallets first."""
    wallets = set(
        session.scalars(
            sa.select(MerchantAccount.provider).where(
                MerchantAccount.organization_id == organization.id
            )
        )
    )
    found = [name for name in ("wechatpay", "alipay") if name in wallets]
    return found + (["stripe"] if organization.stripe_account_id else [])


def can_receive_online(session: Session, organization: Organization) -> bool:
    """Has a Stripe account, or a WeChat Pay or Alipay merchant account."""
    return bool(organization.stripe_account_id) or bool(providers_of(session, organization))


def notify_url(site: str, merchant_: payments.Merchant) -> str:
    """Where the provider notifies us about this account (empty for Stripe: its one
    webhook endpoint is configured in the Stripe dashboard)."""
    if merchant_.provider == "stripe":
        return ""
    return f"{site.rstrip('/')}/payments/{merchant_.provider}/notify/{merchant_.account_id}"
