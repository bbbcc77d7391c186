"""Invitations to join an organization, for people who have no account yet."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from charity.extensions import db
from charity.models.base import TimestampMixin, UTCDateTime, utcnow
from charity.models.organization import Organization
from charity.models.user import MEMBER_ROLES, User


class Invitation(TimestampMixin, db.Model):
    """An emailed link; whoever logs in with ``email`` and opens it becomes a member."""

    __tablename__ = "invitations"
    __table_args__ = (
        CheckConstraint(f"role IN {MEMBER_ROLES!r}", name="role"),
        UniqueConstraint("token_hash"),
        Index("ix_invitations_organization_id", "organization_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), nullable=False
    )
    #: Lower-cased; only an account with this email may accept.
    email: Mapped[str] = mapped_column(String(254), nullable=False)
    role: Mapped[str] = mapped_column(String(16), nullable=False)
    #: SHA-256 (hex) of the emailed token; the token itself is never stored.
    token_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: Set when the owner withdrew the invitation.
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    invited_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    organization: Mapped[Organization] = relationship()
    invited_by: Mapped[User | None] = relationship()

    @property
    def is_open(self) -> bool:
        return self.accepted_at is None and self.revoked_at is None

    @property
    def is_expired(self) -> bool:
        return self.expires_at < utcnow()
