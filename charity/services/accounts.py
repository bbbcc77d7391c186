"""Accounts: sign-up, password hashing and verification."""

from __future__ import annotations

from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from charity.models import User


class AccountError(Exception):
    """A domain error mapped back onto a form field by the view."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


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


def normalize_email(email: str) -> str:
    return email.strip().lower()


def find_user_by_email(session: Session, email: str) -> User | None:
    return session.scalar(select(User).where(func.lower(User.email) == normalize_email(email)))


@dataclass(frozen=True)
class SignUp:
    email: str
    name: str
    password: str


def sign_up(session: Session, command: SignUp, *, platform_role: str = "donor") -> User:
    if find_user_by_email(session, command.email) is not None:
        raise AccountError("email", "An account with this email already exists.")
    user = User(
        email=normalize_email(command.email),
        name=command.name,
        password_hash=hash_password(command.password),
        platform_role=platform_role,
    )
    session.add(user)
    session.flush()  # the id is needed by callers (login, events)
    return user
