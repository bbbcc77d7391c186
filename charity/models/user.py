"""People: donors, organization staff, platform admins and regulators."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from flask_login import UserMixin
from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from charity.extensions import db
from charity.models.base import TimestampMixin, UTCDateTime, utcnow

if TYPE_CHECKING:
    from charity.models.organization import Organization

PLATFORM_ROLES = ("donor", "admin", "regulator")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MEMBER_ROLES = ("owner", "finance", "editor")


class User(UserMixin, TimestampMixin, db.Model):
    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint(f"platform_role IN {PLATFORM_ROLES!r}", name="platform_role"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Lower-cased; the login name.
    email: Mapped[str] = mapped_column(String(254), unique=True, nullable=False)
    #: Display name (may be a nickname); never public without consent.
    name: Mapped[str] = mapped_column(String(100), nullable=False)
    password_hash: Mapped[str] = mapped_column(String(255), nullable=False)
    #: donor (everyone), admin (verifies organizations), regulator (read-only oversight).
    platform_role: Mapped[str] = mapped_column(String(16), default="donor", nullable=False)
    #: A regulator may be scoped to one province (its name as in charity.core.regions).
    regulator_province: Mapped[str | None] = mapped_column(String(32))
    is_active_account: Mapped[bool] = mapped_column(Boolean, default=True, nullable=False)
    email_verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: TOTP secret (base32) of the authenticator app, and when two-factor was turned on.
    totp_secret: Mapped[str | None] = mapped_column(String(64))
    totp_enabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: The last 30-second TOTP step whose code was accepted: a code is accepted once, only
    #: for a later step (a conditional UPDATE, so two racing requests cannot both pass).
    totp_last_step: Mapped[int | None] = mapped_column(BigInteger)
    #: Bumped when the password changes so that old reset links and sessions die.
    password_changed_at: Mapped[datetime] = mapped_column(
        UTCDateTime(), default=utcnow, nullable=False
    )

    memberships: Mapped[list[Membership]] = relationship(
        back_populates="user", cascade="all, delete-orphan"
    )

    @property
    def is_active(self) -> bool:  # Flask-Login
        return self.is_active_account

    @property
    def session_stamp(self) -> str:
        """Changes whenever the password changes; part of every session and reset link."""
        return str((self.password_changed_at - _EPOCH) // timedelta(microseconds=1))

    #: The server-side session (UserSession.id) of the current request's login; set by
    #: ``accounts.start_session`` and by the loader, never stored.
    current_session_id = None
    #: Its row, held by the loader so that the two-factor gate and re-authentication
    #: find it in the identity map (which holds rows weakly) instead of reading it again.
    current_session_row = None

    def get_id(self) -> str:
        """Flask-Login's session identifier: ``<id>:<stamp>:<session id>``.

        The loader accepts a session only while the stamp still matches (changing or
        resetting the password logs out every other session and remember-me cookie) and
        while its server-side row exists: logging out deletes it (issue 15 finding 13).
        """
        return f"{self.id}:{self.session_stamp}:{self.current_session_id or ''}"

    @property
    def is_admin(self) -> bool:
        return self.platform_role == "admin"

    @property
    def is_regulator(self) -> bool:
        return self.platform_role == "regulator"

    def role_in(self, organization_id: int) -> str | None:
        """The user's current role there; ended memberships do not count."""
        for membership in self.memberships:
            if membership.organization_id == organization_id and membership.is_active:
                return membership.role
        return None

    @property
    def active_memberships(self) -> list[Membership]:
        return [m for m in self.memberships if m.is_active]

    def __repr__(self) -> str:
        return f"<User {self.id} {self.platform_role}>"


class Membership(TimestampMixin, db.Model):
    """A person's role in one organization: owner, finance or editor."""

    __tablename__ = "memberships"
    __table_args__ = (
        UniqueConstraint("user_id", "organization_id"),
        CheckConstraint(f"role IN {MEMBER_ROLES!r}", name="role"),
        Index("ix_memberships_organization_id", "organization_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), nullable=False)
    organization_id: Mapped[int] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), nullable=False
    )
    role: Mapped[str] = mapped_column(String(16), nullable=False)
    #: Set when the member was removed. Rows are never deleted: the public log's
    #: ``organization.member_added`` entries are recomputed from them. Re-inviting a
    #: removed member clears it again (same row, same id).
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: When the current spell of membership began (re-inviting a removed member starts a
    #: new one): the age the four-eyes rule asks of a second person (issue 15 finding 6).
    since: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)

    user: Mapped[User] = relationship(back_populates="memberships")
    organization: Mapped[Organization] = relationship(back_populates="memberships")

    @property
    def is_active(self) -> bool:
        return self.ended_at is None


class LoginAttempt(db.Model):
    """Failed logins, for throttling by account and by address."""

    __tablename__ = "login_attempts"
    __table_args__ = (
        Index("ix_login_attempts_email_at", "email", "at"),
        Index("ix_login_attempts_ip_at", "ip", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), nullable=False)
    ip: Mapped[str] = mapped_column(String(64), nullable=False)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)


class UserSession(db.Model):
    """A login (a browser's session or remember-me cookie), revocable on the server: logging
    out deletes its row, and a password or two-factor change or "log out everywhere"
    deletes every row of the user (issue 15 finding 13). The cookie alone is not enough."""

    __tablename__ = "user_sessions"
    __table_args__ = (Index("ix_user_sessions_user_id", "user_id"),)

    #: Random, unguessable; part of the signed Flask-Login id in the cookie.
    id: Mapped[str] = mapped_column(String(43), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)
    ip: Mapped[str] = mapped_column(String(64), nullable=False, default="")
    user_agent: Mapped[str] = mapped_column(String(200), nullable=False, default="")
    #: When this login passed the second factor (None: not yet, or not enrolled).
    two_factor_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: When this login last proved who it is (password at login for an account without
    #: two-factor, its code otherwise, or the re-authentication page): sensitive actions
    #: need it to be recent (``charity.blueprints.two_factor.require_reauth``).
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class RecoveryCode(db.Model):
    """One-time codes for a lost authenticator app (only their SHA-256 is kept)."""

    __tablename__ = "recovery_codes"
    __table_args__ = (Index("ix_recovery_codes_user_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), nullable=False)
    code_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
