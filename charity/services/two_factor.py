"""Two-factor authentication: TOTP (RFC 6238, ``pyotp``) and one-time recovery codes.

Required for platform administrators and regulators, organization owners and finance
members, and community fund committee members who approve spending (issue 15):
``required_for`` is the one definition; the gate in charity.blueprints.two_factor sends such
an account to set it up before any other page. Enrolling (``enable``) needs a code from the
authenticator app, shows ten recovery codes once and ends every other session of the
account; each login of an enrolled account then passes ``check_second_factor`` before any
page works, recorded on its server-side session (``UserSession.two_factor_at``).

A code is accepted once: ``User.totp_last_step`` moves forward with a conditional UPDATE
(``WHERE totp_last_step < :step``), so a replayed code, or the same code sent by two
racing requests, fails (RFC 6238 section 5.2: "the verifier MUST NOT accept the second
attempt of the OTP after the successful validation has been issued for the first OTP").

Sensitive actions need a recent confirmation (``confirm``/``confirmed_recently``,
``UserSession.confirmed_at``, REAUTH_MAX_AGE_SECONDS). Services take the session and the
actor and never commit.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from datetime import datetime, timedelta

import pyotp
from sqlalchemy import delete, inspect, or_, select, update
from sqlalchemy.orm import Session

from charity.core.errors import DomainError
from charity.models import FundCommitteeMember, RecoveryCode, User, UserSession
from charity.models.base import utcnow
from charity.services import accounts
from charity.services.accounts import verify_password
from charity.web.i18n import N_

#: Who must have a second factor: platform roles and organization roles.
REQUIRED_PLATFORM_ROLES = ("admin", "regulator")
REQUIRED_MEMBER_ROLES = ("owner", "finance")
RECOVERY_CODES = 10
#: Codes of the 30-second steps just before and after now are accepted (clock drift).
VALID_WINDOW = 1
#: How long a confirmation (password or code) covers sensitive actions.
DEFAULT_REAUTH_MAX_AGE_SECONDS = 600
STEP_SECONDS = 30


class TwoFactorError(DomainError):
    """A refusal (charity.core.errors.DomainError)."""


def required_for(user: User, session: Session | None = None) -> bool:
    """THE definition of who must have two-factor authentication: platform administrators
    and regulators, owners and finance members of an organization, and members of a
    community fund's committee who approve its spending (a seat with an account)."""
    if user.platform_role in REQUIRED_PLATFORM_ROLES:
        return True
    if any(m.role in REQUIRED_MEMBER_ROLES for m in user.active_memberships):
        return True
    if session is None or user.id is None:
        return False
    seat = session.scalar(
        select(FundCommitteeMember.id)
        .where(FundCommitteeMember.user_id == user.id, FundCommitteeMember.ended_at.is_(None))
        .limit(1)
    )
    return seat is not None


def missing_for(session: Session, user: User) -> bool:
    """The account's role needs two-factor authentication and it is not on."""
    return user.totp_enabled_at is None and required_for(user, session)


def new_secret() -> str:
    return pyotp.random_base32()


def provisioning_uri(user: User, secret: str, issuer: str) -> str:
    """The otpauth:// address an authenticator app reads from the QR code."""
    return pyotp.TOTP(secret).provisioning_uri(name=user.email, issuer_name=issuer)


def _clean(code: str) -> str:
    return "".join(code.split()).replace("-", "").lower()[:64]


def _matching_step(secret: str, code: str, now: float | None = None) -> int | None:
    """The 30-second step (within the clock-drift window) whose code ``code`` is, or None."""
    code = _clean(code)
    if len(code) != 6 or not code.isdigit():
        return None
    totp = pyotp.TOTP(secret)
    current = int(now if now is not None else time.time()) // STEP_SECONDS
    for step in range(current + VALID_WINDOW, current - VALID_WINDOW - 1, -1):
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def _use_step(session: Session, user: User, step: int) -> bool:
    """Record ``step`` as used, only if it is later than every step used before: one
    conditional UPDATE, so of two requests racing with the same code exactly one wins
    (the loser's UPDATE waits for the winner's row lock, then matches no row)."""
    result = session.execute(
        update(User)
        .where(
            User.id == user.id,
            or_(User.totp_last_step.is_(None), User.totp_last_step < step),
        )
        .values(totp_last_step=step)
        .execution_options(synchronize_session=False)
    )
    used = result.rowcount == 1
    session.expire(user, ["totp_last_step"])
    return used


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
    step = _matching_step(secret, code)
    if step is None:
        raise TwoFactorError(
            N_("That code is not right. Check the time on your phone and try again.")
        )
    user.totp_secret = secret
    user.totp_enabled_at = utcnow()
    user.totp_last_step = step  # the enrolment's code does not log in again
    codes = _new_recovery_codes(session, user)
    accounts.end_all_sessions(session, user, keep_current=True)
    mark_passed(session, user)
    return codes


def disable(session: Session, user: User) -> None:
    """Turn it off (only where it is not required; the view asks for a fresh confirmation
    first); every other session ends."""
    if required_for(user, session):
        raise TwoFactorError(
            N_("Your role needs two-factor authentication: it cannot be turned off.")
        )
    user.totp_secret = None
    user.totp_last_step = None
    user.totp_enabled_at = None
    session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    accounts.end_all_sessions(session, user, keep_current=True)


def check_second_factor(session: Session, user: User, code: str) -> bool:
    """A code from the app not used before, or an unused recovery code (then used up)."""
    if not user.totp_secret:
        return False
    step = _matching_step(user.totp_secret, code)
    if step is not None:
        return _use_step(session, user, step)
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
        raise TwoFactorError(N_("That code is not right, or it was used already."))
    mark_passed(session, user)


def _current(session: Session, user: User) -> UserSession | None:
    if not user.current_session_id:
        return None
    held = user.current_session_row
    if held is not None:
        state = inspect(held)  # (its key, without loading an expired or deleted row)
        if state.persistent and state.identity == (user.current_session_id,):
            return held
    row = session.get(UserSession, user.current_session_id)
    return row if row is not None and row.user_id == user.id else None


def mark_passed(session: Session, user: User, at: datetime | None = None) -> None:
    """This login passed its second factor, which also confirms who it is just now."""
    row = _current(session, user)
    if row is not None:
        row.two_factor_at = row.confirmed_at = at or utcnow()


def confirm(session: Session, user: User, secret: str) -> None:
    """Re-authentication: a code (or a recovery code) of an enrolled account, the password
    of any other; the current session counts as confirmed, or TwoFactorError."""
    if user.totp_enabled_at is not None:
        if not check_second_factor(session, user, secret):
            raise TwoFactorError(N_("That code is not right, or it was used already."))
    elif not verify_password(user, secret):
        raise TwoFactorError(N_("The password is not right."))
    mark_confirmed(session, user)


def mark_confirmed(session: Session, user: User) -> None:
    """The current session proved who it is just now (the password at a login without
    two-factor, or the re-authentication page)."""
    row = _current(session, user)
    if row is not None:
        row.confirmed_at = utcnow()


def confirmed_recently(
    session: Session, user: User, max_age_seconds: int, now: datetime | None = None
) -> bool:
    row = _current(session, user)
    if row is None or row.confirmed_at is None:
        return False
    return (now or utcnow()) - row.confirmed_at <= timedelta(seconds=max_age_seconds)


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
