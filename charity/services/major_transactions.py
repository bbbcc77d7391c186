"""Major asset changes, investments and related-party transactions (重大资产变动、对外投资、
关联交易), which MCA Order 81 arts. 13–15 require an organization to publish within 30 days.

An owner or finance member of a verified organization records one. In the same database
transaction a ``major_transaction`` compliance trigger starts the obligation (rule
``major_transactions`` in charity.compliance.rules.law, due ``occurred_on`` + 30 days), the
obligations are refreshed, and ``organization.major_transaction_recorded`` is logged with
public, immutable fields only (ids, USCC, kind, date, amount, currency: the counterparty
and texts stay out of the permanent log).

Records never change. A correction is a new record naming the one it corrects, with a
note; it keeps that record's trigger (one transaction, one obligation) and moves the
trigger's date when the corrected date differs, so the deadline follows the real date.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from charity.compliance.obligations.refresh import refresh_obligations
from charity.compliance.readmodels.obligations import status_expression
from charity.compliance.rules import law as r
from charity.compliance.rules.deadlines import trigger_period_key
from charity.core.clock import cst_date, today_cst
from charity.core.errors import DomainError
from charity.core.events import record_event
from charity.core.money import format_fen
from charity.core.permissions import ensure_org_role
from charity.core.privacy import personal_data_kind
from charity.core.text import has_forbidden_characters
from charity.models import MajorTransaction, Organization, User
from charity.models.disclosure import Obligation
from charity.models.major_transaction import MAJOR_TRANSACTION_KINDS
from charity.services.compliance_triggers import record_compliance_trigger
from charity.web.i18n import N_

TRIGGER_KIND = "major_transaction"
KIND_LABELS = {
    "asset_change": _l("Major asset change"),
    "investment": _l("Investment"),
    "related_party": _l("Related-party transaction"),
}
#: Who records (and corrects) major transactions.
RECORDER_ROLES = ("owner", "finance")
#: Default cap on one amount, ¥10 billion: more is a typing mistake, not a charity's
#: transaction (configurable: MAJOR_TRANSACTION_MAX_FEN).
DEFAULT_MAX_AMOUNT_FEN = 1_000_000_000_000
COUNTERPARTY_MAX = 200
RELATIONSHIP_MAX = 200
DESCRIPTION_MAX = 2000
NOTE_MAX = 500

#: Personal data that must never enter these public texts: charity.core.privacy.


class MajorTransactionError(DomainError, ValueError):
    """Bad input; ``field`` names the form field, ``params`` fill the message's slots."""


class NotAllowedError(MajorTransactionError):
    """The actor may not record transactions for this organization (the view answers 403)."""

    def __init__(self) -> None:
        super().__init__(
            N_("Only the organization's owner or finance staff record major transactions.")
        )


@dataclass(frozen=True)
class RecordMajorTransaction:
    organization_id: int
    kind: str
    occurred_on: date
    amount_fen: int
    counterparty: str
    description: str
    #: Related-party transactions only: how the counterparty is related.
    relationship: str = ""
    #: A correction: the record it corrects and why.
    corrects_id: int | None = None
    correction_note: str = ""
    max_amount_fen: int = DEFAULT_MAX_AMOUNT_FEN


def recorded_payload(session: Session, transaction_id: int) -> dict[str, Any]:
    record = session.get(MajorTransaction, transaction_id)
    if record is None:
        raise LookupError(f"major transaction {transaction_id} is gone")
    organization = session.get_one(Organization, record.organization_id)
    payload: dict[str, Any] = {
        "major_transaction_id": record.id,
        "organization_id": organization.id,
        "org_uscc": organization.uscc,
        "kind": record.kind,
        "occurred_on": record.occurred_on.isoformat(),
        "amount_fen": record.amount_fen,
        "currency": record.currency,
    }
    if record.corrects_id is not None:
        payload["corrects_major_transaction_id"] = record.corrects_id
    return payload


# --- checks -----------------------------------------------------------------------------


def _text(value: str, field: str, maximum: int, empty_message: str) -> str:
    text = (value or "").strip()
    if not text:
        raise MajorTransactionError(empty_message, field)
    if len(text) > maximum:
        raise MajorTransactionError(N_("Too long: at most %(n)s characters."), field, n=maximum)
    if has_forbidden_characters(text):
        raise MajorTransactionError(N_("Contains characters that are not allowed."), field)
    if personal_data_kind(text) is not None:
        raise MajorTransactionError(
            N_("This text is public: do not enter personal data such as ID or phone numbers."),
            field,
        )
    return text


def registered_on(organization: Organization) -> date:
    """The organization's registration on the platform (its verification), CST: the same
    date the obligations count from (charity.compliance.rules.deadlines)."""
    return cst_date(organization.reviewed_at or organization.created_at)


def _check_date(command: RecordMajorTransaction, organization: Organization, today: date) -> None:
    if command.occurred_on > today:
        raise MajorTransactionError(N_("The date cannot be in the future."), "occurred_on")
    registered = registered_on(organization)
    if command.occurred_on < registered:
        raise MajorTransactionError(
            N_("The date cannot be before the organization was registered here (%(day)s)."),
            "occurred_on",
            day=registered.isoformat(),
        )


def _check_amount(command: RecordMajorTransaction) -> None:
    if isinstance(command.amount_fen, bool) or not isinstance(command.amount_fen, int):
        raise MajorTransactionError(N_("Enter the amount in yuan."), "amount")
    if command.amount_fen < 0:
        raise MajorTransactionError(N_("The amount cannot be negative."), "amount")
    if command.amount_fen > command.max_amount_fen:
        raise MajorTransactionError(
            N_("The amount is more than %(max)s: please check it."),
            "amount",
            max=format_fen(command.max_amount_fen),
        )


def _check_relationship(command: RecordMajorTransaction) -> str:
    if command.kind == "related_party":
        return _text(
            command.relationship,
            "relationship",
            RELATIONSHIP_MAX,
            N_("Say how the counterparty is related to the organization."),
        )
    if (command.relationship or "").strip():
        raise MajorTransactionError(
            N_("Only a related-party transaction has a relationship: leave it empty."),
            "relationship",
        )
    return ""


@dataclass(frozen=True)
class _Checked:
    counterparty: str
    relationship: str
    description: str
    correction_note: str


def _check(command: RecordMajorTransaction, organization: Organization, today: date) -> _Checked:
    if command.kind not in MAJOR_TRANSACTION_KINDS:
        raise MajorTransactionError(N_("Choose the kind of transaction."), "kind")
    _check_date(command, organization, today)
    _check_amount(command)
    counterparty = _text(
        command.counterparty, "counterparty", COUNTERPARTY_MAX, N_("Enter the counterparty.")
    )
    relationship = _check_relationship(command)
    description = _text(
        command.description, "description", DESCRIPTION_MAX, N_("Describe the transaction.")
    )
    note = ""
    if command.corrects_id is not None:
        note = _text(
            command.correction_note,
            "correction_note",
            NOTE_MAX,
            N_("Say what was corrected and why."),
        )
    return _Checked(counterparty, relationship, description, note)


def _corrected(session: Session, command: RecordMajorTransaction) -> MajorTransaction:
    """The record a correction corrects, locked so that two corrections cannot fork it."""
    record = session.scalar(
        select(MajorTransaction)
        .where(
            MajorTransaction.id == command.corrects_id,
            MajorTransaction.organization_id == command.organization_id,
        )
        .with_for_update()
    )
    if record is None:
        raise MajorTransactionError(N_("There is no such record to correct."), "corrects_id")
    newer = session.scalar(
        select(MajorTransaction.id).where(MajorTransaction.corrects_id == record.id)
    )
    if newer is not None:
        raise MajorTransactionError(
            N_("This record has already been corrected: correct the newest one."),
            "corrects_id",
        )
    return record


# --- recording --------------------------------------------------------------------------


def _recorder_organization(actor: User, organization: Organization | None) -> Organization:
    if organization is None or not organization.is_verified:
        raise NotAllowedError()
    ensure_org_role(actor, organization.id, RECORDER_ROLES, error=NotAllowedError)
    return organization


def _trigger_description(kind: str, counterparty: str) -> str:
    return f"{kind}: {counterparty}"


def record_major_transaction(
    session: Session,
    actor: User,
    command: RecordMajorTransaction,
    today: date | None = None,
) -> MajorTransaction:
    """Record a transaction (or a correction of one) and start its 30-day obligation.
    Everything is checked before anything is written: on refusal nothing changes."""
    organization = _recorder_organization(actor, session.get(Organization, command.organization_id))
    checked = _check(command, organization, today or today_cst())
    corrected = _corrected(session, command) if command.corrects_id is not None else None
    description = _trigger_description(command.kind, checked.counterparty)
    if corrected is None:
        trigger = record_compliance_trigger(
            session, organization.id, TRIGGER_KIND, command.occurred_on, description
        )
    else:
        # The trigger is compliance bookkeeping, not a published record: it follows the
        # corrected facts so the deadline counts from the real date.
        trigger = corrected.trigger
        trigger.occurred_on = command.occurred_on
        trigger.description = description[:300]
    record = MajorTransaction(
        organization_id=organization.id,
        kind=command.kind,
        occurred_on=command.occurred_on,
        amount_fen=command.amount_fen,
        currency="CNY",
        counterparty=checked.counterparty,
        relationship=checked.relationship,
        description=checked.description,
        trigger_id=trigger.id,
        corrects_id=corrected.id if corrected is not None else None,
        correction_note=checked.correction_note,
        recorded_by_id=actor.id,
    )
    session.add(record)
    session.flush()  # the record's id is the event's subject
    if corrected is not None:
        refresh_obligations(session, [organization.id])
    record_event(session, "organization.major_transaction_recorded", subject_id=record.id)
    return record


# --- reading ----------------------------------------------------------------------------


def period_key(trigger_id: int) -> str:
    """The period of the disclosure that fulfils a transaction's obligation."""
    return trigger_period_key(TRIGGER_KIND, trigger_id)


@dataclass(frozen=True)
class Listed:
    record: MajorTransaction
    #: The id of the record that corrects this one (None: this is the newest).
    corrected_by: int | None
    obligation: Obligation | None
    #: The obligation's status today (charity.compliance.rules.deadlines.STATUSES).
    status: str | None

    @property
    def period_key(self) -> str:
        return period_key(self.record.trigger_id)


def transactions_for_org(session: Session, organization_id: int, today: date) -> list[Listed]:
    """Every record of the organization, newest transaction first, with its obligation."""
    records = session.scalars(
        select(MajorTransaction)
        .where(MajorTransaction.organization_id == organization_id)
        .order_by(MajorTransaction.occurred_on.desc(), MajorTransaction.id.desc())
    ).all()
    rows = session.execute(
        select(Obligation, status_expression(today)).where(
            Obligation.organization_id == organization_id,
            Obligation.rule_code == r.TRIGGER_RULES[TRIGGER_KIND],
        )
    ).all()
    by_period = {obligation.period_key: (obligation, status) for obligation, status in rows}
    corrected_by = {rec.corrects_id: rec.id for rec in records if rec.corrects_id is not None}
    return [
        Listed(
            rec, corrected_by.get(rec.id), *by_period.get(period_key(rec.trigger_id), (None, None))
        )
        for rec in records
    ]


def due_date(session: Session, record: MajorTransaction) -> date | None:
    """The last day on which publishing the record's transaction is on time."""
    return session.scalar(
        select(Obligation.due_date).where(
            Obligation.organization_id == record.organization_id,
            Obligation.rule_code == r.TRIGGER_RULES[TRIGGER_KIND],
            Obligation.period_key == period_key(record.trigger_id),
        )
    )


def newest_record(
    session: Session, organization_id: int, trigger_id: int
) -> MajorTransaction | None:
    return session.scalar(
        select(MajorTransaction)
        .where(
            MajorTransaction.organization_id == organization_id,
            MajorTransaction.trigger_id == trigger_id,
        )
        .order_by(MajorTransaction.id.desc())
        .limit(1)
    )


def disclosure_draft(session: Session, organization_id: int, period: str) -> dict[str, Any]:
    """The fields of a major-transactions disclosure, pre-filled from the newest record
    of the transaction whose obligation has this period (empty when there is none)."""
    match = re.fullmatch(rf"{TRIGGER_KIND}-(\d{{1,11}})", period)
    record = newest_record(session, organization_id, int(match.group(1))) if match else None
    if record is None:
        return {}
    counterparty = record.counterparty
    if record.relationship:
        counterparty = f"{counterparty}（{record.relationship}）"
    return {
        "transaction_date": record.occurred_on,
        "counterparty": counterparty,
        "amount_fen": record.amount_fen,
        "related_party": record.kind == "related_party",
        "description": record.description,
    }
