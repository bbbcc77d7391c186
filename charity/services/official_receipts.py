"""The finance bureau's receipt for a gift (公益事业捐赠统一票据, issued as a 财政电子票据):
the organization issues it in the finance bureau's system and records here its 票据代码,
票据号码, 校验码 and date, one by one or from a CSV file, optionally with the bill's PDF or
OFD file; the donor then sees it on the gift's page and downloads it (issue 17 point 5).

A CSV import is all or nothing: every row is checked first, and one bad row records none,
each problem reported with its row number.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session
from stdnum.cn import uscc as stdnum_uscc

from charity.core.errors import DomainError
from charity.core.events import record_event
from charity.models import Donation, OfficialReceipt, User
from charity.web.i18n import N_

BILL_CODE = re.compile(r"^\d{8}$")
BILL_NUMBER = re.compile(r"^\d{10}$")
CHECK_CODE = re.compile(r"^[0-9A-Za-z]{6}$")
#: Gifts a bill can be recorded for (a fully refunded gift has nothing left to deduct).
RECEIVED = ("succeeded", "partially_refunded")
#: CSV headings, Chinese first; the English ones are accepted too.
COLUMNS = {
    "voucher": ("凭证编号", "voucher number"),
    "bill_code": ("票据代码", "bill code"),
    "bill_number": ("票据号码", "bill number"),
    "check_code": ("校验码", "check code"),
    "issued_on": ("开票日期", "date issued"),
}
MAX_ROWS = 2000
OFD = "application/ofd"
PDF = "application/pdf"


class OfficialReceiptError(DomainError, ValueError):
    """Input we refuse; ``message`` is an English msgid (N_), ``field`` the form field."""


class ImportRefusedError(ValueError):
    """A CSV file with problems; nothing was recorded. ``problems``: (row, error) pairs,
    row 0 for the file as a whole."""

    def __init__(self, problems: list[tuple[int, OfficialReceiptError]]) -> None:
        super().__init__(f"{len(problems)} problems")
        self.problems = problems


@dataclass(frozen=True)
class Bill:
    bill_code: str
    bill_number: str
    check_code: str
    issued_on: date


@dataclass(frozen=True)
class BillFile:
    sha256: str
    content_type: str
    size: int


def normalize_uscc(value: str) -> str:
    return stdnum_uscc.compact(value or "").upper()


def check_donor_uscc(value: str) -> str:
    """A company donor's USCC, compacted and upper-cased; raises on a wrong check digit."""
    code = normalize_uscc(value)
    if not stdnum_uscc.is_valid(code):
        raise OfficialReceiptError(
            N_("This is not a valid unified social credit code: check its 18 characters."),
            "company_uscc",
        )
    return code


def read_bill(code: str, number: str, check: str, issued_on: str | date | None) -> Bill:
    code, number, check = (code or "").strip(), (number or "").strip(), (check or "").strip()
    if not BILL_CODE.match(code):
        raise OfficialReceiptError(N_("The bill code is 8 digits."), "bill_code")
    if not BILL_NUMBER.match(number):
        raise OfficialReceiptError(N_("The bill number is 10 digits."), "bill_number")
    if not CHECK_CODE.match(check):
        raise OfficialReceiptError(N_("The check code is 6 letters or digits."), "check_code")
    return Bill(code, number, check.upper(), _date(issued_on))


def _date(value: str | date | None) -> date:
    if isinstance(value, date):
        return value
    raw = (value or "").strip().replace("/", "-")
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise OfficialReceiptError(N_("Use a date like 2026-01-31."), "issued_on") from None


def bill_file_type(data: bytes) -> str:
    """PDF, or OFD (the national standard e-document: a ZIP holding OFD.xml)."""
    if data.startswith(b"%PDF-"):
        return PDF
    if data.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                if "OFD.xml" in archive.namelist():
                    return OFD
        except zipfile.BadZipFile:
            pass
    raise OfficialReceiptError(N_("Upload the bill as a PDF or OFD file."), "file")


def record_official_receipt(
    session: Session,
    actor: User,
    organization_id: int,
    donation_id: int,
    bill: Bill,
    bill_file: BillFile | None = None,
) -> OfficialReceipt:
    """Record one bill for one gift (the view checked the actor's finance role); logged as
    ``donation.official_receipt_recorded``."""
    donation = session.get(Donation, donation_id)
    if donation is None or donation.organization_id != organization_id:
        raise LookupError(donation_id)
    _check_recordable(session, donation, bill)
    row = OfficialReceipt(
        donation_id=donation.id,
        organization_id=organization_id,
        bill_code=bill.bill_code,
        bill_number=bill.bill_number,
        check_code=bill.check_code,
        issued_on=bill.issued_on,
        recorded_by_id=actor.id,
    )
    if bill_file is not None:
        row.file_sha256, row.file_type, row.file_size = (
            bill_file.sha256,
            bill_file.content_type,
            bill_file.size,
        )
    session.add(row)
    session.flush()  # the id the log entry's subject names
    record_event(session, "donation.official_receipt_recorded", subject_id=row.id)
    return row


def _check_recordable(session: Session, donation: Donation, bill: Bill) -> None:
    if donation.status not in RECEIVED:
        raise OfficialReceiptError(
            N_("A bill can be recorded only for a gift that was received and not refunded."), None
        )
    if official_receipt_for(session, donation.id) is not None:
        raise OfficialReceiptError(N_("This gift already has a bill recorded."))
    taken = session.scalar(
        sa.select(OfficialReceipt.id).where(
            OfficialReceipt.bill_code == bill.bill_code,
            OfficialReceipt.bill_number == bill.bill_number,
        )
    )
    if taken is not None:
        raise OfficialReceiptError(
            N_("This bill code and number are already recorded for another gift."), "bill_number"
        )


def official_receipt_for(session: Session, donation_id: int) -> OfficialReceipt | None:
    return session.scalar(
        sa.select(OfficialReceipt).where(OfficialReceipt.donation_id == donation_id)
    )


def official_receipts_by_donation(
    session: Session, donation_ids: Iterable[int]
) -> dict[int, OfficialReceipt]:
    ids = list(donation_ids)
    if not ids:
        return {}
    rows = session.scalars(sa.select(OfficialReceipt).where(OfficialReceipt.donation_id.in_(ids)))
    return {row.donation_id: row for row in rows}


def import_csv(session: Session, actor: User, organization_id: int, text: str) -> int:
    """Record every row of a CSV file, or none: raises ImportRefusedError with all problems."""
    rows, problems = _parse_rows(text)
    planned: list[tuple[int, Donation, Bill]] = []
    seen_bills: dict[tuple[str, str], int] = {}
    seen_gifts: dict[int, int] = {}
    for line, cells in rows:
        try:
            donation, bill = _resolve_row(session, organization_id, cells)
            _check_recordable(session, donation, bill)
            _check_repeats(line, donation, bill, seen_bills, seen_gifts)
        except OfficialReceiptError as error:
            problems.append((line, error))
            continue
        planned.append((line, donation, bill))
    if not planned and not problems:
        problems.append((0, OfficialReceiptError(N_("The file has no rows."), None)))
    if problems:
        raise ImportRefusedError(problems)
    for _line, donation, bill in planned:
        record_official_receipt(session, actor, organization_id, donation.id, bill)
    return len(planned)


def _check_repeats(
    line: int,
    donation: Donation,
    bill: Bill,
    seen_bills: dict[tuple[str, str], int],
    seen_gifts: dict[int, int],
) -> None:
    key = (bill.bill_code, bill.bill_number)
    if key in seen_bills:
        raise OfficialReceiptError(
            N_("The same bill is also on row %(row)s."), "bill_number", row=seen_bills[key]
        )
    if donation.id in seen_gifts:
        raise OfficialReceiptError(
            N_("The same gift is also on row %(row)s."), "voucher", row=seen_gifts[donation.id]
        )
    seen_bills[key], seen_gifts[donation.id] = line, line


def _parse_rows(text: str) -> tuple[list[tuple[int, dict[str, str]]], list]:
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    try:
        header = [cell.strip().lower() for cell in next(reader)]
    except StopIteration:
        return [], [(0, OfficialReceiptError(N_("The file has no rows."), None))]
    positions: dict[str, int] = {}
    for key, names in COLUMNS.items():
        found = [i for i, cell in enumerate(header) if cell in names]
        if not found:
            return [], [
                (1, OfficialReceiptError(N_("Column %(name)s is missing."), None, name=names[0]))
            ]
        positions[key] = found[0]
    rows: list[tuple[int, dict[str, str]]] = []
    for line, raw in enumerate(reader, start=2):
        if not any(cell.strip() for cell in raw):
            continue
        if len(rows) >= MAX_ROWS:
            return [], [(line, OfficialReceiptError(N_("At most 2000 rows at a time."), None))]
        rows.append((line, {k: raw[i] if i < len(raw) else "" for k, i in positions.items()}))
    return rows, []


def _resolve_row(
    session: Session, organization_id: int, cells: dict[str, str]
) -> tuple[Donation, Bill]:
    voucher = cells["voucher"].strip()
    donation = session.scalar(
        sa.select(Donation).where(
            Donation.receipt_number == voucher, Donation.organization_id == organization_id
        )
    ) if voucher else None  # fmt: skip
    if donation is None:
        raise OfficialReceiptError(
            N_("No gift to this organization has voucher number %(number)s."), "voucher",
            number=voucher or "—",
        )  # fmt: skip
    bill = read_bill(
        cells["bill_code"], cells["bill_number"], cells["check_code"], cells["issued_on"]
    )
    return donation, bill


def recorded_payload(session: Session, receipt_id: int) -> dict[str, Any]:
    """Public: which gift got which bill (its code and number, never the check code, which
    with the number lets anyone open the bill at the finance bureau's check service)."""
    row = session.get(OfficialReceipt, receipt_id)
    if row is None:
        raise LookupError(f"official receipt {receipt_id} is gone")
    return {
        "donation_id": row.donation_id,
        "organization_id": row.organization_id,
        "org_uscc": row.donation.organization.uscc,
        "bill_code": row.bill_code,
        "bill_number": row.bill_number,
        "issued_on": row.issued_on.isoformat(),
    }


def sniff_bill(data: bytes) -> str | None:
    """What a stored bill file really is (PDF or OFD), or None."""
    try:
        return bill_file_type(data)
    except OfficialReceiptError:
        return None
