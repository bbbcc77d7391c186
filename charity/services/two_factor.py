"""Two-factor authentication: TOTP (RFC 6238, ``pyotp``) and one-time recovery codes.

Required for platform administrators and regulators and for organization owners and
finance members (issue 15): ``required_for``. Enrolling (``enable``) needs a code from the
authenticator app, shows ten recovery codes once and ends every other session of the
account; each login of an enrolled account then passes ``check_second_factor`` before any
page works (the gate in charity.blueprints.auth), recorded on its server-side session
(``UserSession.two_factor_at``). Services take the session and the actor and never commit.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime

import pyotp
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from charity.core.errors import DomainError
from charity.models import RecoveryCode, User, UserSession
from charity.models.base import utcnow
from charity.web.i18n import N_

#: Who must have a second factor: platform roles and organization roles.
REQUIRED_PLATFORM_ROLES = ("admin", "regulator")
REQUIRED_MEMBER_ROLES = ("owner", "finance")
RECOVERY_CODES = 10
#: Codes of the 30-second steps just before and after now are accepted (clock drift).
VALID_WINDOW = 1


class TwoFactorError(DomainError):
    """A refusal (charity.core.errors.DomainError)."""


def required_for(user: User) -> bool:
    if user.platform_role in REQUIRED_PLATFORM_ROLES:
        return True
    return any(m.role in REQUIRED_MEMBER_ROLES for m in user.active_memberships)


def new_secret() -> str:
    return pyotp.random_base32()


def provisioning_uri(user: User, secret: str, issuer: str) -> str:
    """The otpauth:// address an authenticator app reads from the QR code."""
    return pyotp.TOTP(secret).provisioning_uri(name=user.email, issuer_name=issuer)


def _clean(code: str) -> str:
    return "".join(code.split()).replace("-", "").lower()[:64]


def _totp_ok(secret: str, code: str) -> bool:
    code = _clean(code)
    return (
        len(code) == 6
        and code.isdigit()
        and pyotp.TOTP(secret).verify(code, valid_window=VALID_WINDOW)
    )


def _hash(code: str) -> str:
    return hashlib.sha256(_clean(code).encode()).hexdigest()


def _new_recovery_codes(session: Session, user: User) -> list[str]:
    session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = [f"{secrets.token_hex(4)}-{secrets.token_hex(4)}" for _ in range(RECOVERY_CODES)]
    session.add_all(RecoveryCode(user_id=user.id, code_hash=_hash(code)) for code in codes)
    return codes


def enable(session: Session, user: User, secret: str, code: str) -> list[str]:
    """Turn two-factor authentication on (or move it to a new app): the code proves the
    app has the secret. Returns the recovery codes (shown once). Every other session of
    the account ends (issue 15 finding 13); this one counts as having passed."""
    from charity.services import accounts

    if not _totp_ok(secret, code):
        raise TwoFactorError(
            N_("That code is not right. Check the time on your phone and try again.")
        )
    user.totp_secret = secret
    user.totp_enabled_at = utcnow()
    codes = _new_recovery_codes(session, user)
    accounts.end_all_sessions(session, user, keep_current=True)
    mark_passed(session, user)
    return codes


def disable(session: Session, user: User, code: str) -> None:
    """Turn it off (only where it is not required), with a current code; every other
    session ends."""
    from charity.services import accounts

    if required_for(user):
        raise TwoFactorError(
            N_("Your role needs two-factor authentication: it cannot be turned off.")
        )
    if not check_second_factor(session, user, code):
        raise TwoFactorError(N_("That code is not right."))
    user.totp_secret = None
    user.totp_enabled_at = None
    session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    accounts.end_all_sessions(session, user, keep_current=True)


def check_second_factor(session: Session, user: User, code: str) -> bool:
    """A code from the app, or an unused recovery code (then used up)."""
    if not user.totp_secret:
        return False
    if _totp_ok(user.totp_secret, code):
        return True
    row = session.scalar(
        select(RecoveryCode).where(
            RecoveryCode.user_id == user.id,
            RecoveryCode.code_hash == _hash(code),
            RecoveryCode.used_at.is_(None),
        )
    )
    if row is None:
        return False
    row.used_at = utcnow()
    return True


def pass_login(session: Session, user: User, code: str) -> None:
    """The login's second step: the session counts as passed, or TwoFactorError."""
    if not check_second_factor(session, user, code):
        raise TwoFactorError(N_("That code is not right."))
    mark_passed(session, user)


def _current(session: Session, user: User) -> UserSession | None:
    if not user.current_session_id:
        return None
    row = session.get(UserSession, user.current_session_id)
    return row if row is not None and row.user_id == user.id else None


def mark_passed(session: Session, user: User, at: datetime | None = None) -> None:
    row = _current(session, user)
    if row is not None:
        row.two_factor_at = at or utcnow()


def session_passed(session: Session, user: User) -> bool:
    row = _current(session, user)
    return row is not None and row.two_factor_at is not None


def remaining_recovery_codes(session: Session, user: User) -> int:
    return len(
        session.scalars(
            select(RecoveryCode.id).where(
                RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None)
            )
        ).all()
    )
