"""Major asset changes, investments and related-party transactions (重大资产变动、对外投资、
关联交易) recorded by an organization: each starts the 30-day disclosure obligation of MCA
Order 81 arts. 13–15 through a ComplianceTrigger.

A record is never changed or deleted: a correction is a new record that names the one it
corrects and says why (the ORM refuses UPDATE and DELETE, as for disclosure versions).
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
    event,
)
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.orm import relationship as orm_relationship  # a column is named relationship

from charity.extensions import db
from charity.models.base import TimestampMixin
from charity.models.disclosure import ComplianceTrigger, ImmutableRecordError
from charity.models.organization import Organization
from charity.models.user import User

MAJOR_TRANSACTION_KINDS = ("asset_change", "investment", "related_party")


class MajorTransaction(TimestampMixin, db.Model):
    __tablename__ = "major_transactions"
    __table_args__ = (
        CheckConstraint(f"kind IN {MAJOR_TRANSACTION_KINDS!r}", name="kind"),
        CheckConstraint("amount_fen >= 0", name="amount_not_negative"),
        CheckConstraint("currency = 'CNY'", name="currency_cny"),
        CheckConstraint("length(counterparty) > 0", name="counterparty_required"),
        CheckConstraint("length(description) > 0", name="description_required"),
        CheckConstraint(
            "(kind = 'related_party' AND length(relationship) > 0)"
            " OR (kind <> 'related_party' AND relationship = '')",
            name="relationship_for_related_party",
        ),
        CheckConstraint(
            "corrects_id IS NULL OR length(correction_note) > 0", name="correction_note_required"
        ),
        # One correction per record: a chain, never a fork.
        UniqueConstraint("corrects_id"),
        Index("ix_major_transactions_organization_id", "organization_id"),
        Index("ix_major_transactions_trigger_id", "trigger_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), nullable=False)
    #: asset_change (重大资产变动), investment (对外投资) or related_party (关联交易).
    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    #: The CST date on which the transaction took place.
    occurred_on: Mapped[date] = mapped_column(Date, nullable=False)
    amount_fen: Mapped[int] = mapped_column(BigInteger, nullable=False)
    currency: Mapped[str] = mapped_column(String(3), nullable=False, default="CNY")
    #: The other party, public (an organization's or company's name; never personal data).
    counterparty: Mapped[str] = mapped_column(String(200), nullable=False)
    #: Related-party transactions only: how the counterparty is related, public
    #: (e.g. 理事长担任董事的企业); empty for the other kinds.
    relationship: Mapped[str] = mapped_column(String(200), nullable=False, default="")
    #: What happened, public plain text.
    description: Mapped[str] = mapped_column(Text, nullable=False)
    #: The compliance trigger that starts the 30-day obligation; a correction shares the
    #: trigger of the record it corrects (one transaction, one obligation).
    trigger_id: Mapped[int] = mapped_column(ForeignKey("compliance_triggers.id"), nullable=False)
    #: The earlier record this one corrects (None for a first record).
    corrects_id: Mapped[int | None] = mapped_column(ForeignKey("major_transactions.id"))
    #: What was corrected and why (required for a correction).
    correction_note: Mapped[str] = mapped_column(Text, nullable=False, default="")
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False)

    organization: Mapped[Organization] = orm_relationship()
    trigger: Mapped[ComplianceTrigger] = orm_relationship()
    recorded_by: Mapped[User] = orm_relationship()


@event.listens_for(MajorTransaction, "before_update")
def _refuse_update(_mapper, _connection, target) -> None:  # type: ignore[no-untyped-def]
    raise ImmutableRecordError(f"{target!r} is recorded and cannot be changed")


@event.listens_for(MajorTransaction, "before_delete")
def _refuse_delete(_mapper, _connection, target) -> None:  # type: ignore[no-untyped-def]
    raise ImmutableRecordError(f"{target!r} is recorded and cannot be deleted")
