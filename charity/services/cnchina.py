"""Where a disclosure is also published on 慈善中国 (issue 16 point 16): the organization
records the entry number and the address the national platform gave it, once. A
correction of a mistyped number replaces it and is logged again."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from charity.core.errors import DomainError
from charity.core.events import record_event
from charity.models import User
from charity.models.disclosure import Disclosure
from charity.models.enforcement import CnchinaEntry

ROLES = ("owner", "editor", "finance")
_NUMBER = re.compile(r"^[0-9A-Za-z\u4e00-\u9fff（）()〔〕\[\]【】_/-]{1,64}$")
#: The national platform's hosts (慈善中国 and the Ministry's site it is part of).
HOSTS = ("cszg.mca.gov.cn", "mca.gov.cn")


class CnchinaError(DomainError, ValueError):
    """A refusal (charity.core.errors.DomainError)."""


def entry_of(session: Session, disclosure_id: int) -> CnchinaEntry | None:
    return session.scalar(select(CnchinaEntry).where(CnchinaEntry.disclosure_id == disclosure_id))


def may_record(actor: User | None, disclosure: Disclosure) -> bool:
    return bool(
        actor is not None
        and getattr(actor, "is_authenticated", False)
        and actor.role_in(disclosure.organization_id) in ROLES
    )


def _check_url(url: str) -> str:
    url = url.strip()
    if not url:
        return ""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if parts.scheme not in ("http", "https") or len(url) > 500:
        raise CnchinaError(
            _l("Give the address of the entry on 慈善中国, or leave it empty."), "url"
        )
    if not any(host == h or host.endswith("." + h) for h in HOSTS):
        raise CnchinaError(_l("The address must be on 慈善中国 (cszg.mca.gov.cn)."), "url")
    return url


def record_entry(
    session: Session, actor: User, disclosure: Disclosure, number: str, url: str
) -> CnchinaEntry:
    """Record (or correct) the 慈善中国 entry of a disclosure. Refused with a field error,
    nothing written: not a member who publishes, an empty or malformed number, an
    address that is not on the national platform."""
    if not may_record(actor, disclosure):
        raise PermissionError("members of the organization only")
    number = number.strip()
    if not _NUMBER.match(number):
        raise CnchinaError(_l("Give the entry number as 慈善中国 shows it."), "entry_number")
    url = _check_url(url)
    entry = entry_of(session, disclosure.id)
    if entry is None:
        entry = CnchinaEntry(
            disclosure_id=disclosure.id, organization_id=disclosure.organization_id
        )
        session.add(entry)
    entry.entry_number, entry.url, entry.recorded_by_id = number, url, actor.id
    session.flush()  # the id, for the log entry
    record_event(
        session,
        "disclosure.cnchina_recorded",
        {
            "disclosure_id": disclosure.id,
            "organization_id": disclosure.organization_id,
            "uscc": disclosure.organization.uscc,
            "entry_number": number,
            "url": url,
        },
        subject_table="cnchina_entries",
        subject_id=entry.id,
    )
    return entry
