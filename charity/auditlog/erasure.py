"""Personal-data erasure that leaves the public log verifiable.

The log never holds personal data: a donor appears only as a commitment
SHA-256(salt ‖ canonical donor data). Erasing deletes the salt and the personal fields
from the private row, so the commitment can no longer be linked to anyone, and appends a
``personal_data.erased`` entry naming the row, its commitment and the entries that
mention it. Nothing in the log changes, so every proof still verifies; payload builders
read the *stored* commitment column (never recompute it from the salt), so
`flask audit verify` still passes too.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from charity.auditlog import store
from charity.core.events import record_event

EVENT_TYPE = "personal_data.erased"


class ErasureError(ValueError):
    """The erasure request names something that cannot be erased."""


@dataclass(frozen=True)
class ErasePersonalData:
    #: The private row holding the personal data (e.g. a Donation).
    subject: Any
    #: Its personal fields to clear (set to None), e.g. ("donor_name", "donor_email").
    fields: tuple[str, ...]
    salt_field: str = "commitment_salt"
    commitment_field: str = "donor_commitment"


def erase_personal_data(session: Session, actor: Any, command: ErasePersonalData) -> int:
    """Erase in the caller's transaction; returns the index of the erasure entry.

    ``actor`` (the donor or an administrator) is checked by the caller and is not
    written to the public log.
    """
    subject = command.subject
    table = getattr(subject, "__tablename__", None)
    if table is None or getattr(subject, "id", None) is None:
        raise ErasureError("the subject must be a saved database row")
    for name in (*command.fields, command.salt_field):
        if not hasattr(subject, name):
            raise ErasureError(f"{table} has no field {name!r}")
    commitment = getattr(subject, command.commitment_field, None)
    for name in (*command.fields, command.salt_field):
        setattr(subject, name, None)
    data = {
        "subject_table": table,
        "subject_id": subject.id,
        "donor_commitment": commitment,
        "erased_fields": sorted({*command.fields, command.salt_field}),
        "entries": store.entries_for_subject(session, table, subject.id),
    }
    results = record_event(session, EVENT_TYPE, data, subject_table=table, subject_id=subject.id)
    return results[0]
