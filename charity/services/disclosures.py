"""Publishing and correcting disclosures; attachments; diffs; figure comparisons.

Who may publish (decided here, re-checked in every service call): an organization's
owners and editors publish every type; its finance members publish the financial types
only (annual financial report, major/related-party transactions, fund statement).
Platform admins and regulators publish nothing unless they are members.

Immutability: a version is never updated or deleted (the services never do it, and the
ORM refuses it: charity.models.disclosure._refuse_update). A correction is a new version
with a required note; all versions stay public.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from charity.auditlog.canonical import canonical_json
from charity.compliance.obligations.refresh import refresh_obligations
from charity.compliance.rules import law as r
from charity.compliance.rules.dates import end_of_day_utc
from charity.compliance.rules.fields import FIELDS, display_value, missing_fields, validate_fields
from charity.compliance.rules.ratios import check_ratios, ratio_input_from_fields
from charity.core.errors import DomainError
from charity.core.events import record_event
from charity.core.permissions import can_manage_org
from charity.core.privacy import pdf_text, personal_data_kind
from charity.models import Campaign, CharitableProject, Fund, Organization, User
from charity.models.disclosure import (
    Disclosure,
    DisclosureAttachment,
    DisclosureVersion,
)
from charity.services import annual_reports, projects, trusts
from charity.services.figures import campaign_figures, fund_statement_figures
from charity.services.major_transactions import disclosure_draft
from charity.services.uploads import path_for, store_bytes

MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024
MAX_ATTACHMENTS = 5
_PERIOD_RE = re.compile(r"^[A-Za-z0-9_-]{1,40}$")
_YEAR_RE = re.compile(r"^\d{4}$")


class DisclosureError(DomainError, ValueError):
    """Bad input for a disclosure; ``field`` names the form field it belongs to."""


class PublishDeniedError(PermissionError):
    """The actor may not publish this type for this organization."""


@dataclass(frozen=True)
class Upload:
    filename: str
    content: bytes


@dataclass(frozen=True)
class PublishDisclosure:
    organization_id: int
    disclosure_type: str
    subject_key: str
    period_key: str
    title: str
    body_md: str
    fields: dict[str, Any]
    attachments: tuple[Upload, ...] = ()


@dataclass(frozen=True)
class CorrectDisclosure:
    disclosure_id: int
    title: str
    body_md: str
    fields: dict[str, Any]
    correction_note: str
    #: New PDFs; when empty the previous version's attachments carry over.
    attachments: tuple[Upload, ...] = field(default_factory=tuple)


# --- permissions ----------------------------------------------------------------------


def publisher_roles(disclosure_type: str) -> tuple[str, ...]:
    if disclosure_type in r.FINANCIAL_TYPES:
        return ("owner", "editor", "finance")
    return ("owner", "editor")


def can_publish(user: Any, organization_id: int, disclosure_type: str) -> bool:
    return can_manage_org(user, organization_id, publisher_roles(disclosure_type))


# --- attachments ----------------------------------------------------------------------

_KNOWN_MAGIC = (
    (b"\x89PNG", _l("a PNG image")),
    (b"\xff\xd8\xff", _l("a JPEG image")),
    (b"GIF8", _l("a GIF image")),
    (b"PK\x03\x04", _l("a ZIP archive or Office document")),
)


def check_pdf(content: bytes) -> None:
    """Accept only a structurally plausible PDF, judged by content, never by file name:
    the %PDF- header, a startxref pointer inside the file that lands on an xref table
    or an xref stream object, and the %%EOF trailer."""
    if not content:
        raise DisclosureError(_l("The file is empty."), "attachments")
    if len(content) > MAX_ATTACHMENT_BYTES:
        raise DisclosureError(_l("The file is larger than 10 MB."), "attachments")
    if not content.startswith(b"%PDF-"):
        kind = next((name for magic, name in _KNOWN_MAGIC if content.startswith(magic)), None)
        if kind is None and content.lstrip()[:1] == b"<":
            kind = _l("an HTML or XML document")
        if kind is None:
            raise DisclosureError(_l("The file is not a PDF."), "attachments")
        raise DisclosureError(
            _l("The file is not a PDF (it is %(kind)s).", kind=kind), "attachments"
        )
    tail = content[-2048:]
    match = re.search(rb"startxref\s+(\d+)\s+%%EOF\s*$", tail)
    if match is None:
        raise DisclosureError(_l("The PDF is damaged: no trailer."), "attachments")
    offset = int(match.group(1))
    target = content[offset : offset + 40] if offset < len(content) else b""
    if not (target.startswith(b"xref") or re.match(rb"\d+\s+\d+\s+obj", target)):
        raise DisclosureError(_l("The PDF is damaged: bad cross-reference."), "attachments")


def attachment_path(upload_dir: str | Path, sha256: str) -> Path:
    """Where an attachment lives in the one file store (charity.services.uploads)."""
    return path_for(upload_dir, sha256, folder="disclosures", suffix=".pdf")


def _clean_filename(name: str) -> str:
    stem = re.sub(r"[^\w.\- ]+", "_", Path(name or "document").name)[:150].strip() or "document"
    return stem if stem.lower().endswith(".pdf") else stem + ".pdf"


def _check_uploads(uploads: tuple[Upload, ...]) -> None:
    if len(uploads) > MAX_ATTACHMENTS:
        raise DisclosureError(_l("At most %(n)s files.", n=MAX_ATTACHMENTS), "attachments")
    for upload in uploads:
        check_pdf(upload.content)


# --- content --------------------------------------------------------------------------


def content_hash(title: str, body_md: str, fields: dict[str, Any]) -> str:
    body = {"title": title, "body_md": body_md, "fields": fields}
    return hashlib.sha256(canonical_json(body).encode()).hexdigest()


def version_fields(version: DisclosureVersion) -> dict[str, Any]:
    return json.loads(version.fields_json)


def _check_subject(session: Session, command: PublishDisclosure) -> Campaign | None:
    kind = command.disclosure_type
    if kind not in r.DISCLOSURE_TYPES:
        raise DisclosureError(_l("Unknown disclosure type."), "disclosure_type")
    if not _PERIOD_RE.match(command.period_key):
        raise DisclosureError(_l("Unknown period."), "period_key")
    annual = (
        r.ANNUAL_WORK_REPORT,
        r.ANNUAL_FINANCIAL_REPORT,
        r.FUND_ANNUAL_STATEMENT,
        r.MAJOR_PROJECTS,
    )
    if kind in annual and not _YEAR_RE.match(command.period_key):
        raise DisclosureError(_l("The period of an annual report is a year."), "period_key")
    if kind == r.FUND_ANNUAL_STATEMENT:
        fund_id = fund_subject(command.subject_key)
        fund = session.get(Fund, fund_id) if fund_id is not None else None
        if fund is None or fund.organization_id != command.organization_id:
            raise DisclosureError(_l("Choose a fund of the same organization."), "subject_key")
        return None
    if kind in r.PROJECT_TYPES:
        _check_project_subject(session, command)
        return None
    if kind in r.TRUST_TYPES:
        if trusts.trust_for(session, kind, command.organization_id, command.subject_key) is None:
            raise DisclosureError(
                _l("Choose a charitable trust of which this organization is trustee or settlor."),
                "subject_key",
            )
        if kind == r.TRUST_ANNUAL and not _YEAR_RE.match(command.period_key):
            raise DisclosureError(_l("The period of an annual report is a year."), "period_key")
        return None
    if kind not in r.CAMPAIGN_TYPES:
        if command.subject_key != "org":
            raise DisclosureError(_l("This type is about the organization."), "subject_key")
        return None
    match = re.fullmatch(r"campaign:(\d+)", command.subject_key)
    campaign = session.get(Campaign, int(match.group(1))) if match else None
    if campaign is None or campaign.organization_id != command.organization_id:
        raise DisclosureError(_l("Choose a campaign of this organization."), "subject_key")
    if kind in (r.CAMPAIGN_PROGRESS, r.EMERGENCY_UPDATE):
        try:
            date.fromisoformat(command.period_key)
        except ValueError:
            raise DisclosureError(_l("The period is a date."), "period_key") from None
    return campaign


def _check_project_subject(session: Session, command: PublishDisclosure) -> None:
    """A project disclosure is about a project of the same organization (its own
    information entry, MCA Order 81 art. 16); progress periods are dates."""
    if projects.project_of(session, command.organization_id, command.subject_key) is None:
        raise DisclosureError(_l("Choose a project of this organization."), "subject_key")
    if command.disclosure_type == r.PROJECT_PROGRESS:
        try:
            date.fromisoformat(command.period_key)
        except ValueError:
            raise DisclosureError(_l("The period is a date."), "period_key") from None


def fund_subject(subject_key: str) -> int | None:
    """The fund id of a ``fund:<id>`` subject key (None for anything else)."""
    match = re.fullmatch(r"fund:(\d{1,11})", subject_key)
    return int(match.group(1)) if match else None


#: Disclosure types whose money figures are compared with the books after publication:
#: campaigns' (CL art. 79 first part) and projects' (art. 79 second part, issue 16 point 12).
FIGURE_TYPES = r.CAMPAIGN_FIGURE_TYPES | r.PROJECT_TYPES
#: A project's figures that are compared (the draft pre-fills them from the books).
PROJECT_COMPARED_FIGURES = ("raised_fen", "spent_fen", "balance_fen")


def figures_as_of(kind: str, period_key: str, published_at: datetime) -> datetime | None:
    """The moment a campaign's or project's disclosure figures are true of (an exclusive
    bound): the moment it is published, or the end (CST) of the day its period ends if
    that came first. An honest report published early is judged on what the books said
    then, never on gifts, refunds or spending that came after it (issue 16 point 4).
    None for types without money figures."""
    if kind not in FIGURE_TYPES:
        return None
    if kind in (r.CAMPAIGN_PROGRESS, r.EMERGENCY_UPDATE, r.PROJECT_PROGRESS):
        try:
            return min(end_of_day_utc(date.fromisoformat(period_key)), published_at)
        except ValueError:
            return published_at
    return published_at


def _check_fields(kind: str, fields: dict[str, Any]) -> None:
    errors = validate_fields(kind, fields)
    if errors:
        name, message = next(iter(errors.items()))
        raise DisclosureError(f"{name}: {message}", name)


#: Fields where a phone number is the organization's own published contact (its
#: switchboard or the contact person's work number), not a beneficiary's.
_CONTACT_FIELDS = {(r.BASIC_INFO, "contacts")}


def _check_privacy(
    kind: str, title: str, body_md: str, fields: dict[str, Any], uploads: tuple[Upload, ...]
) -> None:
    """CL art. 82 and PIPL (issue 16 point 17): identity-card numbers and phone numbers of
    individuals are refused in every text of a disclosure and in the text of its PDF
    attachments, with an error naming the field (nothing is stored)."""
    texts = [("title", title), ("body_md", body_md)]
    texts += [
        (spec.name, str(fields[spec.name]))
        for spec in FIELDS[kind]
        if spec.kind == "text" and fields.get(spec.name)
    ]
    for name, text in texts:
        found = personal_data_kind(text)
        if found == "phone" and (kind, name) in _CONTACT_FIELDS:
            found = personal_data_kind(text, landlines=False)
            found = "id_number" if found == "id_number" else None
        if found is not None:
            raise DisclosureError(_PRIVACY_MESSAGES[found], name)
    for upload in uploads:
        found = personal_data_kind(pdf_text(upload.content))
        if found is not None:
            raise DisclosureError(
                _l(
                    "The attachment %(name)s contains %(what)s of a person; this is public "
                    "(Charity Law art. 82): remove it and upload the file again.",
                    name=_clean_filename(upload.filename),
                    what=_PRIVACY_WHAT[found],
                ),
                "attachments",
            )


_PRIVACY_MESSAGES = {
    "id_number": _l(
        "This text is public: remove the identity-card number (Charity Law art. 82, PIPL)."
    ),
    "phone": _l("This text is public: remove the phone number (Charity Law art. 82, PIPL)."),
}
_PRIVACY_WHAT = {"id_number": _l("an identity-card number"), "phone": _l("a phone number")}


def _check_audit(
    session: Session,
    organization_id: int,
    kind: str,
    period_key: str,
    fields: dict[str, Any],
    attachment_count: int,
) -> None:
    """CL art. 78 para. 2 (issue 16 point 6): the annual financial report of an
    organization that held the public fundraising qualification during the year must be
    audited: it names the auditor and carries the audit report (a PDF attachment). An
    unaudited report is refused, so it never fulfils the obligation."""
    if kind == r.ANNUAL_WORK_REPORT:
        _check_work_report(session, organization_id, period_key, fields)
        return
    if kind != r.ANNUAL_FINANCIAL_REPORT:
        return
    org = session.get(Organization, organization_id)
    if org is None or not qualified_for(org, kind, period_key):
        return
    if not str(fields.get("auditor") or "").strip():
        raise DisclosureError(
            _l(
                "An organization qualified for public fundraising publishes an audited "
                "financial report (Charity Law art. 78): name the auditor."
            ),
            "auditor",
        )
    if attachment_count == 0:
        raise DisclosureError(
            _l("Attach the audit report as a PDF (Charity Law art. 78)."), "attachments"
        )


def _check_work_report(
    session: Session, organization_id: int, period_key: str, fields: dict[str, Any]
) -> None:
    """MCA Order 81 (issue 16 point 13): an organization qualified for public fundraising
    during the year also reports its five best-paid people and its expense standards."""
    org = session.get(Organization, organization_id)
    if org is None or not qualified_for(org, r.ANNUAL_WORK_REPORT, period_key):
        return
    missing = missing_fields(r.ANNUAL_WORK_REPORT, {**fields, "_qualified": True})
    if missing:
        raise DisclosureError(
            _l(
                "An organization qualified for public fundraising also reports this (MCA Order 81)."
            ),
            missing[0],
        )


def qualified_for(org: Organization, kind: str, period_key: str) -> bool:
    """Whether the organization is judged as qualified for this disclosure: for an annual
    report, held the qualification during that year (CL art. 61, 民发〔2016〕189号; issue 16
    point 8); otherwise, holds it today."""
    if kind in (r.ANNUAL_FINANCIAL_REPORT, r.ANNUAL_WORK_REPORT) and _YEAR_RE.match(period_key):
        return org.qualified_during(int(period_key))
    return org.has_qualification


def _ratio_ok(org: Organization, kind: str, fields: dict[str, Any]) -> bool | None:
    if kind != r.ANNUAL_FINANCIAL_REPORT:
        return None
    return check_ratios(
        ratio_input_from_fields(fields, org.org_type, bool(fields["_qualified"]))
    ).ok


def _add_version(
    session: Session,
    disclosure: Disclosure,
    actor: User,
    number: int,
    title: str,
    body_md: str,
    fields: dict[str, Any],
    note: str,
    now: datetime,
) -> DisclosureVersion:
    org = session.get(Organization, disclosure.organization_id)
    assert org is not None
    qualified = qualified_for(org, disclosure.disclosure_type, disclosure.period_key)
    fields = {**fields, "_org_type": org.org_type, "_qualified": qualified}
    figures = disclosure.disclosure_type in FIGURE_TYPES
    version = DisclosureVersion(
        disclosure=disclosure,
        version=number,
        title=title,
        body_md=body_md,
        fields_json=canonical_json(fields),
        correction_note=note,
        content_hash=content_hash(title, body_md, fields),
        reported_raised_fen=fields.get("raised_fen") if figures else None,
        reported_spent_fen=fields.get("spent_fen") if figures else None,
        figures_as_of=figures_as_of(disclosure.disclosure_type, disclosure.period_key, now),
        ratio_ok=_ratio_ok(org, disclosure.disclosure_type, fields),
        published_at=now,
        published_by_id=actor.id,
    )
    session.add(version)
    return version


def _attach(session: Session, version: DisclosureVersion, uploads, upload_dir) -> None:  # type: ignore[no-untyped-def]
    seen: set[str] = set()
    for upload in uploads:
        sha = store_bytes(upload_dir, upload.content, folder="disclosures", suffix=".pdf")
        if sha in seen:
            continue
        seen.add(sha)
        session.add(
            DisclosureAttachment(
                version=version,
                sha256=sha,
                filename=_clean_filename(upload.filename),
                size_bytes=len(upload.content),
            )
        )


def _strip_basis(fields: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in fields.items() if not k.startswith("_")}


def publish_disclosure(
    session: Session,
    actor: User,
    command: PublishDisclosure,
    upload_dir: str | Path,
    now: datetime | None = None,
) -> DisclosureVersion:
    """Publish version 1 of a disclosure, log it, and mark the obligations it fulfils."""
    if not can_publish(actor, command.organization_id, command.disclosure_type):
        raise PublishDeniedError(command.disclosure_type)
    _check_subject(session, command)
    fields = _strip_basis(command.fields)
    _check_fields(command.disclosure_type, fields)
    _check_uploads(command.attachments)
    _check_privacy(
        command.disclosure_type, command.title, command.body_md, fields, command.attachments
    )
    _check_audit(
        session,
        command.organization_id,
        command.disclosure_type,
        command.period_key,
        fields,
        len(command.attachments),
    )
    existing = session.scalar(
        select(Disclosure.id).where(
            Disclosure.organization_id == command.organization_id,
            Disclosure.disclosure_type == command.disclosure_type,
            Disclosure.subject_key == command.subject_key,
            Disclosure.period_key == command.period_key,
        )
    )
    if existing is not None:
        raise DisclosureError(_l("This is already published; publish a correction."), "period_key")
    now = now or datetime.now(UTC)
    subject_campaign = re.fullmatch(r"campaign:(\d+)", command.subject_key)
    disclosure = Disclosure(
        organization_id=command.organization_id,
        disclosure_type=command.disclosure_type,
        subject_key=command.subject_key,
        period_key=command.period_key,
        campaign_id=int(subject_campaign.group(1)) if subject_campaign else None,
        latest_version=1,
        first_published_at=now,
    )
    session.add(disclosure)
    version = _add_version(
        session, disclosure, actor, 1, command.title, command.body_md, fields, "", now
    )
    _attach(session, version, command.attachments, upload_dir)
    session.flush()  # the version id is the event's subject
    record_event(session, "disclosure.published", subject_id=version.id, at=now)
    refresh_obligations(session, [command.organization_id])
    return version


def correct_disclosure(
    session: Session,
    actor: User,
    command: CorrectDisclosure,
    upload_dir: str | Path,
    now: datetime | None = None,
) -> DisclosureVersion:
    """Publish a corrected version; the earlier versions stay public unchanged."""
    disclosure = session.get(Disclosure, command.disclosure_id)
    if disclosure is None:
        raise DisclosureError(_l("No such disclosure."))
    if not can_publish(actor, disclosure.organization_id, disclosure.disclosure_type):
        raise PublishDeniedError(disclosure.disclosure_type)
    if not command.correction_note.strip():
        raise DisclosureError(_l("Say what was corrected and why."), "correction_note")
    fields = _strip_basis(command.fields)
    _check_fields(disclosure.disclosure_type, fields)
    _check_uploads(command.attachments)
    _check_privacy(
        disclosure.disclosure_type, command.title, command.body_md, fields, command.attachments
    )
    previous = session.scalar(
        select(DisclosureVersion).where(
            DisclosureVersion.disclosure_id == disclosure.id,
            DisclosureVersion.version == disclosure.latest_version,
        )
    )
    assert previous is not None
    _check_audit(
        session,
        disclosure.organization_id,
        disclosure.disclosure_type,
        disclosure.period_key,
        fields,
        len(command.attachments) or len(previous.attachments),
    )
    now = now or datetime.now(UTC)
    number = disclosure.latest_version + 1
    version = _add_version(
        session,
        disclosure,
        actor,
        number,
        command.title,
        command.body_md,
        fields,
        command.correction_note.strip(),
        now,
    )
    if command.attachments:
        _attach(session, version, command.attachments, upload_dir)
    else:
        for old in previous.attachments:
            session.add(
                DisclosureAttachment(
                    version=version,
                    sha256=old.sha256,
                    filename=old.filename,
                    size_bytes=old.size_bytes,
                )
            )
    disclosure.latest_version = number
    session.flush()  # the version id is the event's subject
    record_event(session, "disclosure.corrected", subject_id=version.id, at=now)
    return version


def version_payload(session: Session, version_id: int) -> dict[str, Any]:
    version = session.get(DisclosureVersion, version_id)
    if version is None:
        raise LookupError(f"disclosure version {version_id} is gone")
    disclosure = version.disclosure
    org = session.get(Organization, disclosure.organization_id)
    assert org is not None
    return {
        "disclosure_id": disclosure.id,
        "version_id": version.id,
        "version": version.version,
        "disclosure_type": disclosure.disclosure_type,
        "organization_id": org.id,
        "org_uscc": org.uscc,
        "subject": disclosure.subject_key,
        "period": disclosure.period_key,
        "content_hash": version.content_hash,
        "attachment_sha256": sorted(a.sha256 for a in version.attachments),
    }


# --- compliance triggers --------------------------------------------------------------


# --- reading: diffs and figure comparisons --------------------------------------------


def version_lines(version: DisclosureVersion) -> list[str]:
    """A readable text form of a version: title, labelled fields, then the body."""
    kind = version.disclosure.disclosure_type
    values = version_fields(version)
    lines = [f"# {version.title}"]
    for spec in FIELDS[kind]:
        lines.append(f"{spec.label}: {display_value(spec, values.get(spec.name))}")
    lines.append("")
    lines.extend((version.body_md or "").splitlines())
    return lines


@dataclass(frozen=True)
class DiffLine:
    op: str  # "equal", "insert", "delete"
    text: str


def diff_versions(old: DisclosureVersion, new: DisclosureVersion) -> list[DiffLine]:
    matcher = difflib.SequenceMatcher(a=version_lines(old), b=version_lines(new), autojunk=False)
    out: list[DiffLine] = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            out.extend(DiffLine("equal", line) for line in matcher.a[i1:i2])
            continue
        out.extend(DiffLine("delete", line) for line in matcher.a[i1:i2])
        out.extend(DiffLine("insert", line) for line in matcher.b[j1:j2])
    return out


@dataclass(frozen=True)
class FigureDifference:
    name: str
    label: Any
    reported_fen: int
    computed_fen: int

    @property
    def difference_fen(self) -> int:
        return self.reported_fen - self.computed_fen


COMPARED_FIGURES = ("raised_fen", "refunded_fen", "gift_count", "in_kind_fen", "spent_fen")


def compare_figures(session: Session, version: DisclosureVersion) -> list[FigureDifference]:
    """Reported campaign figures that differ from the platform's own (empty if all match),
    as of the moment the version's figures are true of (:func:`figures_as_of`)."""
    disclosure = version.disclosure
    if disclosure.disclosure_type == r.FUND_ANNUAL_STATEMENT:
        return _compare_fund_statement(session, version)
    if disclosure.disclosure_type in r.PROJECT_TYPES:
        project = projects.project_of(session, disclosure.organization_id, disclosure.subject_key)
        if project is None:
            return []
        return _project_differences(
            session, disclosure.disclosure_type, project.id, version_fields(version),
            version.figures_as_of,
        )  # fmt: skip
    if disclosure.disclosure_type not in r.CAMPAIGN_FIGURE_TYPES or not disclosure.campaign_id:
        return []
    computed = campaign_figures(session, disclosure.campaign_id, version.figures_as_of)
    reported = version_fields(version)
    labels = {spec.name: spec.label for spec in FIELDS[disclosure.disclosure_type]}
    return [
        FigureDifference(name, labels[name], int(reported[name]), int(computed[name]))
        for name in COMPARED_FIGURES
        if name in reported and int(reported[name]) != int(computed[name])
    ]


#: Fund statement figures reconciled with the fund's ledger (issue 16 point 5).
FUND_COMPARED_FIGURES = ("opening_fen", "income_fen", "spent_fen", "balance_fen")


def _compare_fund_statement(session: Session, version: DisclosureVersion) -> list[FigureDifference]:
    """A fund's published yearly statement against its ledger statement for that year
    (MCA Order 81, CL art. 78; issue 16 point 5). Ledger entries are dated when posted,
    so a finished year's figures do not move after publication."""
    disclosure = version.disclosure
    fund_id = fund_subject(disclosure.subject_key)
    if fund_id is None or not _YEAR_RE.match(disclosure.period_key):
        return []
    computed = fund_statement_figures(session, fund_id, int(disclosure.period_key))
    if not computed:
        return []
    reported = version_fields(version)
    labels = {spec.name: spec.label for spec in FIELDS[r.FUND_ANNUAL_STATEMENT]}
    return [
        FigureDifference(name, labels[name], int(reported[name]), int(computed[name]))
        for name in FUND_COMPARED_FIGURES
        if name in reported and int(reported[name]) != int(computed[name])
    ]


def _project_differences(
    session: Session,
    kind: str,
    project_id: int,
    reported: dict[str, Any],
    as_of: datetime | None,
) -> list[FigureDifference]:
    """A project's reported money against the books of the campaigns that fund it, as of
    the moment the figures are true of (CL art. 79; issue 16 points 4 and 12)."""
    computed = projects.project_figures(session, project_id, as_of)
    labels = {spec.name: spec.label for spec in FIELDS[kind]}
    return [
        FigureDifference(name, labels[name], int(reported[name]), int(computed[name]))
        for name in PROJECT_COMPARED_FIGURES
        if reported.get(name) is not None and int(reported[name]) != int(computed[name])
    ]


def differences_before_publishing(
    session: Session,
    disclosure_type: str,
    subject_key: str,
    period_key: str,
    fields: dict[str, Any],
    now: datetime | None = None,
) -> list[FigureDifference]:
    """What :func:`compare_figures` would show if these figures were published now: the
    form's campaign figures against the platform's records, so that the publisher is
    warned (and must confirm) before, not after (issue 17 point 4)."""
    if disclosure_type == r.FUND_ANNUAL_STATEMENT:
        fund_id = fund_subject(subject_key)
        if fund_id is None or not _YEAR_RE.match(period_key):
            return []
        books = fund_statement_figures(session, fund_id, int(period_key))
        fund_labels = {spec.name: spec.label for spec in FIELDS[r.FUND_ANNUAL_STATEMENT]}
        return [
            FigureDifference(name, fund_labels[name], int(fields[name]), int(books[name]))
            for name in FUND_COMPARED_FIGURES
            if books and fields.get(name) is not None and int(fields[name]) != int(books[name])
        ]
    if disclosure_type in r.PROJECT_TYPES:
        project_id = projects.project_subject(subject_key)
        if project_id is None or session.get(CharitableProject, project_id) is None:
            return []
        as_of = figures_as_of(disclosure_type, period_key, now or datetime.now(UTC))
        return _project_differences(session, disclosure_type, project_id, fields, as_of)
    campaign_id = subject_key.removeprefix("campaign:")
    if disclosure_type not in r.CAMPAIGN_FIGURE_TYPES or not campaign_id.isdigit():
        return []
    as_of = figures_as_of(disclosure_type, period_key, now or datetime.now(UTC))
    computed = campaign_figures(session, int(campaign_id), as_of)
    labels = {spec.name: spec.label for spec in FIELDS[disclosure_type]}
    return [
        FigureDifference(name, labels[name], int(fields[name]), int(computed[name]))
        for name in COMPARED_FIGURES
        if fields.get(name) is not None and int(fields[name]) != int(computed[name])
    ]


def draft_fields(
    session: Session,
    disclosure_type: str,
    campaign_id: int | None,
    period_key: str,
    subject_key: str = "",
    organization_id: int | None = None,
) -> dict[str, Any]:
    """Pre-filled fields for a new campaign disclosure, fund statement or major
    transaction, from the platform's records (a fund statement: the fund's yearly
    statement from the ledger; a major transaction: the newest record of it)."""
    if disclosure_type == r.MAJOR_TRANSACTIONS and organization_id is not None:
        return disclosure_draft(session, organization_id, period_key)
    if disclosure_type in (r.ANNUAL_WORK_REPORT, r.MAJOR_PROJECTS) and organization_id:
        if not _YEAR_RE.match(period_key):
            return {}
        return annual_reports.draft(session, disclosure_type, organization_id, int(period_key))
    if disclosure_type in r.TRUST_TYPES and organization_id is not None:
        return trusts.draft(session, disclosure_type, organization_id, subject_key)
    if disclosure_type in r.PROJECT_TYPES and organization_id is not None:
        project = projects.project_of(session, organization_id, subject_key)
        return projects.project_figures(session, project.id) if project is not None else {}
    if disclosure_type == r.FUND_ANNUAL_STATEMENT:
        fund_id = fund_subject(subject_key)
        fund = session.get(Fund, fund_id) if fund_id is not None else None
        if fund is None or fund.organization_id != organization_id:
            return {}
        if not _YEAR_RE.match(period_key):
            return {"fund_name": fund.name}
        return fund_statement_figures(session, fund.id, int(period_key))
    if disclosure_type not in r.CAMPAIGN_FIGURE_TYPES or campaign_id is None:
        return {}
    return campaign_figures(
        session, campaign_id, figures_as_of(disclosure_type, period_key, datetime.now(UTC))
    )
