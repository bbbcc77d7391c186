"""Accounts: sign-up, log-in with throttling, password changes and reset links.

Services take the session, the acting user and their inputs explicitly; they never read
request globals and never commit (the view does, once). Error messages are English msgids
marked with ``N_`` so that the view translates them and the CLI prints them as they are.
"""

from __future__ import annotations

import contextlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from email_validator import EmailNotValidError, validate_email
from flask import current_app
from itsdangerous import BadData, URLSafeTimedSerializer
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from charity.core.errors import DomainError
from charity.core.text import has_forbidden_characters
from charity.models import LoginAttempt, User, UserSession
from charity.models.base import utcnow
from charity.models.user import PLATFORM_ROLES
from charity.web.i18n import N_

PASSWORD_MIN_LENGTH = 10
PASSWORD_MAX_LENGTH = 200
NAME_MAX_LENGTH = 100
EMAIL_MAX_LENGTH = 254
_RESET_SALT = "charity.password-reset"
_VERIFY_SALT = "charity.verify-email"
#: How long an e-mail verification link works (seconds).
VERIFY_MAX_AGE = 3 * 24 * 3600


class AccountError(DomainError):
    """A domain error mapped back onto a form field by the view."""


class LoginThrottledError(Exception):
    """Too many failed logins for this account or address; try again after ``retry_after``."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"retry after {retry_after} s")
        self.retry_after = retry_after


class InvalidVerificationLinkError(Exception):
    """A verification link that is forged, expired, or for an address the account no
    longer has."""


class InvalidResetLinkError(Exception):
    """A reset link that is forged, expired or already used (the password changed since)."""


# --- passwords ---------------------------------------------------------------------------


def _hasher() -> PasswordHasher:
    if current_app.config.get("PASSWORD_HASH_FAST"):
        # Tests only: argon2id with the minimum cost keeps the suite fast.
        return PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    return PasswordHasher()  # argon2id, RFC 9106 low-memory profile defaults


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def verify_password(user: User, password: str) -> bool:
    try:
        return _hasher().verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def _burn_a_verification(password: str) -> None:
    """Spend the time of one verification so unknown emails answer as slowly as known ones."""
    with contextlib.suppress(VerificationError, InvalidHashError):
        _hasher().verify(_dummy_hash(), password)


_DUMMY_HASHES: dict[bool, str] = {}


def _dummy_hash() -> str:
    fast = bool(current_app.config.get("PASSWORD_HASH_FAST"))
    if fast not in _DUMMY_HASHES:
        _DUMMY_HASHES[fast] = _hasher().hash("not a password anyone has")
    return _DUMMY_HASHES[fast]


def check_new_password(password: str, field: str = "password") -> None:
    if len(password) < PASSWORD_MIN_LENGTH:
        raise AccountError(N_("Use at least 10 characters."), field)
    if len(password) > PASSWORD_MAX_LENGTH or has_forbidden_characters(password):
        raise AccountError(N_("This password cannot be used."), field)


def _set_password(user: User, password: str, now: datetime) -> None:
    user.password_hash = hash_password(password)
    user.password_changed_at = now


# --- sign-up -----------------------------------------------------------------------------


def normalize_email(email: str) -> str:
    return email.strip().lower()


def find_user_by_email(session: Session, email: str) -> User | None:
    return session.scalar(select(User).where(func.lower(User.email) == normalize_email(email)))


def check_email(email: str) -> str:
    """The normalized address, or AccountError (the CLI has no form to do this for it)."""
    email = normalize_email(email)
    if len(email) > EMAIL_MAX_LENGTH or has_forbidden_characters(email):
        raise AccountError(N_("Enter a valid email address."), "email")
    try:
        validate_email(email, check_deliverability=False)
    except EmailNotValidError:
        raise AccountError(N_("Enter a valid email address."), "email") from None
    return email


def check_name(name: str) -> str:
    name = name.strip()
    if not name or len(name) > NAME_MAX_LENGTH or has_forbidden_characters(name):
        raise AccountError(N_("Enter a name of at most 100 characters."), "name")
    if "<" in name or ">" in name:
        # Names go into mail headers, receipts and PDFs; angle brackets are never part of one.
        raise AccountError(N_("A name cannot contain < or >."), "name")
    return name


@dataclass(frozen=True)
class SignUp:
    email: str
    name: str
    password: str


def sign_up(
    session: Session,
    command: SignUp,
    *,
    platform_role: str = "donor",
    regulator_province: str | None = None,
    email_verified: bool = False,
) -> User:
    """A new account. Its address is unverified until the link mailed to it is opened
    (``verify_email``), unless an operator creates it (``email_verified``: the CLI, the
    demo). An unverified account can give but holds no organization role, approval or
    money action (issue 15 finding 5)."""
    if platform_role not in PLATFORM_ROLES:
        raise AccountError(N_("Unknown platform role."), "platform_role")
    email = check_email(command.email)
    name = check_name(command.name)
    check_new_password(command.password)
    if find_user_by_email(session, email) is not None:
        raise AccountError(N_("An account with this email already exists."), "email")
    user = User(
        email=email,
        name=name,
        password_hash=hash_password(command.password),
        platform_role=platform_role,
        regulator_province=regulator_province if platform_role == "regulator" else None,
        email_verified_at=utcnow() if email_verified else None,
    )
    session.add(user)
    session.flush()  # the id is needed by callers (login, events)
    return user


@dataclass(frozen=True)
class Registration:
    """What a sign-up did: a new account, or nothing because ``existing`` has the address.
    The view answers the same either way (no account discovery, issue 15)."""

    user: User | None
    existing: User | None


def register(session: Session, command: SignUp) -> Registration:
    """The sign-up form: every field is checked before the address is looked up, so an
    error never depends on whether the address has an account."""
    email = check_email(command.email)
    check_name(command.name)
    check_new_password(command.password)
    existing = find_user_by_email(session, email)
    if existing is not None:
        hash_password(command.password)  # the same work as a new account
        return Registration(None, existing)
    return Registration(sign_up(session, command), None)


# --- log-in and throttling ---------------------------------------------------------------


@dataclass(frozen=True)
class ThrottlePolicy:
    """Progressive delays per (account, address), and a cap per address (issue 15 finding 8).

    ``account_attempts`` failures of one account from one address are free; each further
    one doubles the wait before the next try from that address, from ``base_delay`` up to
    ``max_delay``. Nothing is counted per account alone: a stranger who types wrong
    passwords for an administrator slows down only themselves, never the administrator
    logging in from elsewhere. ``address_attempts`` failures from one address (across
    accounts, many for a carrier-grade NAT) stop that address until the window passes.
    """

    account_attempts: int
    address_attempts: int
    window: timedelta
    base_delay: timedelta = timedelta(seconds=30)
    max_delay: timedelta = timedelta(minutes=15)

    @classmethod
    def from_config(cls, config: dict) -> ThrottlePolicy:
        attempts = int(config["LOGIN_THROTTLE_ATTEMPTS"])
        return cls(
            account_attempts=attempts,
            # One address is often a whole office or a carrier-grade NAT: allow more there.
            address_attempts=int(config.get("LOGIN_THROTTLE_IP_ATTEMPTS", attempts * 10)),
            window=timedelta(seconds=int(config["LOGIN_THROTTLE_WINDOW"])),
            base_delay=timedelta(seconds=int(config.get("LOGIN_THROTTLE_DELAY", 30))),
            max_delay=timedelta(seconds=int(config.get("LOGIN_THROTTLE_MAX_DELAY", 900))),
        )


@dataclass(frozen=True)
class LogIn:
    email: str
    password: str
    ip: str


def _seconds(delta: timedelta) -> int:
    return max(1, int(delta.total_seconds() + 0.999))


def _address_wait(session: Session, ip: str, policy: ThrottlePolicy, now: datetime) -> int:
    """Seconds until fewer than ``address_attempts`` failures from ``ip`` remain in the
    window (the ``address_attempts``-th most recent failure's expiry lifts the block)."""
    blocking = session.scalar(
        select(LoginAttempt.at)
        .where(LoginAttempt.ip == ip, LoginAttempt.at > now - policy.window)
        .order_by(LoginAttempt.at.desc())
        .offset(policy.address_attempts - 1)
        .limit(1)
    )
    if blocking is None:
        return 0
    return _seconds(blocking + policy.window - now)


def _pair_wait(session: Session, email: str, ip: str, policy: ThrottlePolicy, now: datetime) -> int:
    """The progressive delay of this account from this address: 0 while failures are
    fewer than ``account_attempts``, then base, 2 x base, 4 x base ... after the last one."""
    failures = session.execute(
        select(func.count(), func.max(LoginAttempt.at)).where(
            LoginAttempt.email == email,
            LoginAttempt.ip == ip,
            LoginAttempt.at > now - policy.window,
        )
    ).one()
    count, last = int(failures[0] or 0), failures[1]
    if count < policy.account_attempts or last is None:
        return 0
    doublings = min(count - policy.account_attempts, 20)
    delay = min(policy.max_delay, policy.base_delay * (2**doublings))
    if last + delay <= now:
        return 0
    return _seconds(last + delay - now)


def login_wait(session: Session, email: str, ip: str, policy: ThrottlePolicy, now: datetime) -> int:
    email = normalize_email(email)
    return max(
        _pair_wait(session, email, ip, policy, now),
        _address_wait(session, ip, policy, now),
    )


def log_in(
    session: Session, command: LogIn, policy: ThrottlePolicy, now: datetime | None = None
) -> User:
    """The user, or LoginThrottledError / AccountError (the failure is recorded; commit it)."""
    now = now or utcnow()
    email = normalize_email(command.email)
    wait = login_wait(session, email, command.ip, policy, now)
    if wait:
        raise LoginThrottledError(wait)
    user = find_user_by_email(session, email)
    if user is None:
        _burn_a_verification(command.password)
    if user is None or not verify_password(user, command.password) or not user.is_active:
        _forget_old_attempts(session, email, command.ip, now - policy.window)
        session.add(LoginAttempt(email=email[:EMAIL_MAX_LENGTH], ip=command.ip[:64], at=now))
        raise AccountError(N_("Wrong email or password."), "password")
    # Only this address's failures: someone else's guesses elsewhere keep their delay.
    session.execute(
        delete(LoginAttempt).where(LoginAttempt.email == email, LoginAttempt.ip == command.ip)
    )
    return user


def _forget_old_attempts(session: Session, email: str, ip: str, before: datetime) -> None:
    session.execute(
        delete(LoginAttempt).where(
            (LoginAttempt.email == email) | (LoginAttempt.ip == ip), LoginAttempt.at <= before
        )
    )


def start_session(session: Session, user: User, ip: str = "", user_agent: str = "") -> str:
    """A new server-side session for ``user`` (call before ``login_user``): its id becomes
    part of ``user.get_id()``, so the cookie is worth something only while the row exists."""
    sid = secrets.token_urlsafe(32)
    session.add(UserSession(id=sid, user_id=user.id, ip=ip[:64], user_agent=user_agent[:200]))
    session.flush()
    user.current_session_id = sid
    return sid


def end_session(session: Session, user: User) -> None:
    """Log out: this session's row goes; the cookie, even copied, no longer logs anyone in."""
    if user.current_session_id:
        session.execute(
            delete(UserSession).where(
                UserSession.id == user.current_session_id, UserSession.user_id == user.id
            )
        )
    user.current_session_id = None


def end_all_sessions(session: Session, user: User, keep_current: bool = False) -> int:
    """Log out everywhere (or every other session): the number of sessions ended."""
    query = delete(UserSession).where(UserSession.user_id == user.id)
    if keep_current and user.current_session_id:
        query = query.where(UserSession.id != user.current_session_id)
    ended = session.execute(query).rowcount or 0
    if not keep_current:
        user.current_session_id = None
    return int(ended)


def load_user_from_session_id(session: Session, session_id: str) -> User | None:
    """Flask-Login's loader: ``<id>:<stamp>:<session>`` of an active user whose password is
    unchanged and whose server-side session still exists."""
    user_id, _, rest = session_id.partition(":")
    stamp, _, sid = rest.partition(":")
    if not user_id.isdigit() or not stamp or not sid or len(user_id) > 18 or len(sid) > 43:
        return None
    user = session.get(User, int(user_id))
    if user is None or not user.is_active or user.session_stamp != stamp:
        return None
    row = session.get(UserSession, sid)
    if row is None or row.user_id != user.id:
        return None
    user.current_session_id = sid
    user.current_session_row = row
    return user


# --- password change and reset -----------------------------------------------------------


@dataclass(frozen=True)
class ChangePassword:
    current_password: str
    new_password: str


def change_password(
    session: Session, actor: User, command: ChangePassword, now: datetime | None = None
) -> None:
    """Needs the current password; every other session of ``actor`` ends."""
    if not verify_password(actor, command.current_password):
        raise AccountError(N_("The current password is wrong."), "current_password")
    check_new_password(command.new_password, "new_password")
    if command.new_password == command.current_password:
        raise AccountError(N_("Choose a password different from the current one."), "new_password")
    _set_password(actor, command.new_password, now or utcnow())
    end_all_sessions(session, actor, keep_current=True)


def _reset_serializer(secret_key: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret_key, salt=_RESET_SALT)


def make_reset_token(user: User, secret_key: str) -> str:
    """A signed, timestamped token naming the user and the current password stamp."""
    return _reset_serializer(secret_key).dumps({"user": user.id, "stamp": user.session_stamp})


def user_for_reset_token(session: Session, token: str, secret_key: str, max_age: int) -> User:
    """The user the link was made for, while it is fresh and the password is unchanged."""
    try:
        data = _reset_serializer(secret_key).loads(token, max_age=max_age)
    except BadData:
        raise InvalidResetLinkError from None
    if not isinstance(data, dict) or not isinstance(data.get("user"), int):
        raise InvalidResetLinkError
    user = session.get(User, data["user"])
    if user is None or not user.is_active or user.session_stamp != data.get("stamp"):
        raise InvalidResetLinkError
    return user


def find_user_for_reset(session: Session, email: str) -> User | None:
    """The active account to mail a reset link to, if any (the view says the same either way)."""
    user = find_user_by_email(session, email)
    return user if user is not None and user.is_active else None


def reset_password(
    session: Session, user: User, password: str, now: datetime | None = None
) -> None:
    """Set a new password from a reset link; the link and every session die with the old one."""
    check_new_password(password)
    _set_password(user, password, now or utcnow())
    end_all_sessions(session, user)
    session.execute(delete(LoginAttempt).where(LoginAttempt.email == user.email))


# --- e-mail verification -------------------------------------------------------------------


def make_verification_token(user: User, secret_key: str) -> str:
    """A signed, timestamped token naming the user and the address it was sent to."""
    return URLSafeTimedSerializer(secret_key, salt=_VERIFY_SALT).dumps(
        {"user": user.id, "email": normalize_email(user.email)}
    )


def verify_email(
    session: Session, token: str, secret_key: str, max_age: int = VERIFY_MAX_AGE
) -> User:
    """Mark the address verified: the link was opened, so its holder reads that mailbox."""
    user = user_for_verification(session, token, secret_key, max_age)
    if user.email_verified_at is None:
        user.email_verified_at = utcnow()
    return user


def user_for_verification(
    session: Session, token: str, secret_key: str, max_age: int = VERIFY_MAX_AGE
) -> User:
    """The account a verification link was made for, while it is fresh and the account
    still has the address it was sent to."""
    try:
        data = URLSafeTimedSerializer(secret_key, salt=_VERIFY_SALT).loads(token, max_age=max_age)
    except BadData:
        raise InvalidVerificationLinkError from None
    if not isinstance(data, dict) or not isinstance(data.get("user"), int):
        raise InvalidVerificationLinkError
    user = session.get(User, data["user"])
    if user is None or not user.is_active or normalize_email(user.email) != data.get("email"):
        raise InvalidVerificationLinkError
    return user
