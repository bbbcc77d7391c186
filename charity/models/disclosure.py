"""Disclosures (信息公开): typed, versioned, immutable once published; and the obligations
they fulfil, materialised for fast dashboards, with the reminders sent about them."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    event,
)
from sqlalchemy.orm import Mapped, mapped_column, object_session, relationship

from charity.compliance.rules.law import DISCLOSURE_TYPES, OBLIGATION_TYPES
from charity.extensions import db
from charity.models.base import TimestampMixin, UTCDateTime, utcnow
from charity.models.organization import Organization

TRIGGER_KINDS = ("basic_info_change", "major_transaction", "related_party_gift")
REMINDER_KINDS = ("due_14", "due_3", "overdue")


class ImmutableRecordError(RuntimeError):
    """A published disclosure version was about to be changed or deleted."""


class Disclosure(TimestampMixin, db.Model):
    """One publication slot: a type, for an organization, about a subject and period."""

    __tablename__ = "disclosures"
    __table_args__ = (
        CheckConstraint(f"disclosure_type IN {DISCLOSURE_TYPES!r}", name="disclosure_type"),
        CheckConstraint("latest_version >= 1", name="latest_version_positive"),
        UniqueConstraint("organization_id", "disclosure_type", "subject_key", "period_key"),
        Index("ix_disclosures_campaign_id", "campaign_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), nullable=False)
    disclosure_type: Mapped[str] = mapped_column(String(32), nullable=False)
    #: "org" or "campaign:<id>": what the disclosure is about.
    subject_key: Mapped[str] = mapped_column(String(40), nullable=False)
    #: The period it covers: a year ("2025"), a deadline date, "registration", "result" ...
    period_key: Mapped[str] = mapped_column(String(40), nullable=False)
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaigns.id"))
    #: The newest version's number (versions themselves never change).
    latest_version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    first_published_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)

    organization: Mapped[Organization] = relationship()
    versions: Mapped[list[DisclosureVersion]] = relationship(
        back_populates="disclosure", order_by="DisclosureVersion.version"
    )


class DisclosureVersion(db.Model):
    """An immutable published version; a correction adds a version with a note."""

    __tablename__ = "disclosure_versions"
    __table_args__ = (
        UniqueConstraint("disclosure_id", "version"),
        CheckConstraint("version >= 1", name="version_positive"),
        CheckConstraint(
            "version = 1 OR length(correction_note) > 0", name="correction_note_required"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    disclosure_id: Mapped[int] = mapped_column(ForeignKey("disclosures.id"), nullable=False)
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    title: Mapped[str] = mapped_column(String(200), nullable=False)
    #: Markdown as typed; rendered through charity.core.text.render_markdown (sanitized).
    body_md: Mapped[str] = mapped_column(Text, nullable=False, default="")
    #: Structured fields of the type, canonical JSON (charity.compliance.rules.fields).
    fields_json: Mapped[str] = mapped_column(Text, nullable=False)
    correction_note: Mapped[str] = mapped_column(Text, nullable=False, default="")
    #: SHA-256 (hex) of the canonical JSON of title, body and fields.
    content_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    #: Denormalised from the fields for SQL comparisons: the reported net amount raised
    #: and the reported spending (campaign figure types only).
    reported_raised_fen: Mapped[int | None] = mapped_column(BigInteger)
    reported_spent_fen: Mapped[int | None] = mapped_column(BigInteger)
    #: The figures of this version are compared with the books as of this moment
    #: (exclusive): when it was published, or the end of its period if that came first
    #: (charity.services.disclosures.figures_as_of). None for non-figure types.
    figures_as_of: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: Annual financial reports: whether the spending ratios were met (None otherwise).
    ratio_ok: Mapped[bool | None] = mapped_column(Boolean)
    published_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)
    published_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    disclosure: Mapped[Disclosure] = relationship(back_populates="versions")
    attachments: Mapped[list[DisclosureAttachment]] = relationship(
        back_populates="version", order_by="DisclosureAttachment.id"
    )


class DisclosureAttachment(db.Model):
    """A PDF attached to a version, stored under UPLOAD_DIR by its SHA-256."""

    __tablename__ = "disclosure_attachments"
    __table_args__ = (
        UniqueConstraint("version_id", "sha256"),
        CheckConstraint("size_bytes > 0", name="size_positive"),
        Index("ix_disclosure_attachments_sha256", "sha256"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("disclosure_versions.id"), nullable=False)
    sha256: Mapped[str] = mapped_column(String(64), nullable=False)
    #: The uploader's file name, cleaned; only for display and the download name.
    filename: Mapped[str] = mapped_column(String(200), nullable=False)
    size_bytes: Mapped[int] = mapped_column(Integer, nullable=False)

    version: Mapped[DisclosureVersion] = relationship(back_populates="attachments")


@event.listens_for(DisclosureVersion, "before_update")
@event.listens_for(DisclosureAttachment, "before_update")
def _refuse_update(_mapper, _connection, target) -> None:  # type: ignore[no-untyped-def]
    # SQLAlchemy also calls before_update for a row whose only change is a collection
    # (a new attachment row pointing at a new version): refuse real column changes only.
    session = object_session(target)
    if session is None or session.is_modified(target, include_collections=False):
        raise ImmutableRecordError(f"{target!r} is published and cannot be changed")


@event.listens_for(DisclosureVersion, "before_delete")
@event.listens_for(DisclosureAttachment, "before_delete")
def _refuse_delete(_mapper, _connection, target) -> None:  # type: ignore[no-untyped-def]
    raise ImmutableRecordError(f"{target!r} is published and cannot be deleted")


class ComplianceTrigger(TimestampMixin, db.Model):
    """An event that starts a 30-day obligation: a change of basic information, or a
    major/related-party transaction. Recorded by the services that see such changes."""

    __tablename__ = "compliance_triggers"
    __table_args__ = (
        CheckConstraint(f"kind IN {TRIGGER_KINDS!r}", name="kind"),
        Index("ix_compliance_triggers_organization_id", "organization_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), nullable=False)
    kind: Mapped[str] = mapped_column(String(32), nullable=False)
    #: The CST date of the change or transaction.
    occurred_on: Mapped[date] = mapped_column(Date, nullable=False)
    #: Public description (no personal data).
    description: Mapped[str] = mapped_column(String(300), nullable=False, default="")


class Obligation(db.Model):
    """A required disclosure, derived from the rules (charity.compliance.rules.deadlines,
    stored by charity.compliance.obligations.refresh).

    Materialised so that dashboards over many organizations are one indexed query; the
    status depends on "today" and is computed in SQL (status_expression), not stored.
    """

    __tablename__ = "obligations"
    __table_args__ = (
        CheckConstraint(f"disclosure_type IN {OBLIGATION_TYPES!r}", name="disclosure_type"),
        UniqueConstraint("key"),
        # Covers the dashboard's grouped rate query (no table lookups) and per-org lists.
        Index(
            "ix_obligations_org_due_covering",
            "organization_id",
            "due_date",
            "fulfilled_on",
            "disclosure_type",
        ),
        Index("ix_obligations_due_fulfilled", "due_date", "fulfilled_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: "<rule>:<organization id>:<subject>:<period>", stable across refreshes.
    key: Mapped[str] = mapped_column(String(120), nullable=False)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), nullable=False)
    rule_code: Mapped[str] = mapped_column(String(40), nullable=False)
    disclosure_type: Mapped[str] = mapped_column(String(32), nullable=False)
    subject_key: Mapped[str] = mapped_column(String(40), nullable=False)
    period_key: Mapped[str] = mapped_column(String(40), nullable=False)
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaigns.id"))
    #: When the triggering event happened (CST date).
    triggered_on: Mapped[date] = mapped_column(Date, nullable=False)
    #: Last day (CST) on which fulfilling it is on time.
    due_date: Mapped[date] = mapped_column(Date, nullable=False)
    #: CST date of the first publication that fulfils it (None: not yet).
    fulfilled_on: Mapped[date | None] = mapped_column(Date)
    disclosure_id: Mapped[int | None] = mapped_column(ForeignKey("disclosures.id"))

    organization: Mapped[Organization] = relationship()


class SentReminder(db.Model):
    """One reminder about one obligation; the unique key makes `remind` idempotent."""

    __tablename__ = "sent_reminders"
    __table_args__ = (
        UniqueConstraint("obligation_key", "kind"),
        CheckConstraint(f"kind IN {REMINDER_KINDS!r}", name="kind"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    obligation_key: Mapped[str] = mapped_column(String(120), nullable=False)
    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    recipients: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)
