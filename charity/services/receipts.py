"""CL 38 receipts (捐赠电子凭证): gapless numbers per organization and year, their data,
the PDF, the QR code and the short address that checks one on the site.

Numbers look like ``<org code>-<year>-<6 digits>``. The org code is the 9-character
organization code inside the USCC (characters 9-17), which is unique per organization
and printed on its certificate, so no new column is needed. Numbering locks the
(organization, year) counter row (an upsert that adds 1), in the same transaction that marks the
donation succeeded, so concurrent successes get consecutive numbers and a rolled-back
success gives its number back.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import io
import os
import threading
from copy import copy as clone
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import segno
import sqlalchemy as sa
from flask import current_app, url_for
from flask_babel import gettext
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Session, object_session

from charity.auditlog.canonical import canonical_json
from charity.core.clock import CST
from charity.core.db import dialect_insert
from charity.core.errors import DomainError
from charity.core.events import record_event
from charity.core.money import format_fen
from charity.models import Donation, Organization, ReceiptCounter, User
from charity.services.donation_rows import donor_data, lock_donation
from charity.services.givingdays import matches_of
from charity.web.i18n import N_
from charity.web.links import public_url


def org_code(organization: Organization) -> str:
    """The organization code part of the USCC (组织机构代码)."""
    return organization.uscc[8:17]


_counters = ReceiptCounter.__table__
#: The upsert that takes the next number, built once per dialect (it is on every
#: confirmation's path).
_next_seq_statements: dict[str, sa.Insert] = {}


def _next_seq(session: Session, organization_id: int, year: int) -> int:
    """Take the next number of (organization, year) in ONE statement: an upsert that
    creates the counter at 1 or adds 1, locking its row until the transaction ends."""
    dialect = session.get_bind().dialect.name
    statement = _next_seq_statements.get(dialect)
    if statement is None:
        statement = _next_seq_statements[dialect] = (
            dialect_insert(session)(_counters)
            .values(organization_id=sa.bindparam("org"), year=sa.bindparam("year"), last_seq=1)
            .on_conflict_do_update(
                index_elements=[_counters.c.organization_id, _counters.c.year],
                set_={"last_seq": _counters.c.last_seq + 1},
            )
            .returning(_counters.c.last_seq)
        )
    return (
        session.connection().execute(statement, {"org": organization_id, "year": year}).scalar_one()
    )


#: PostgreSQL: ``_next_seq``'s upsert as a CTE (``receipt_seq``) of a caller's statement,
#: with ``:r_org`` and ``:r_year``; ``NEXT_SEQ`` is the number it takes and ``NEXT_NUMBER``
#: that number formatted as ``receipt_number`` does, with ``:r_prefix`` =
#: ``receipt_number(uscc, year, 0)[:-6]`` (a data-modifying CTE runs once, however often
#: its result is read).
NEXT_SEQ_CTE = (
    postgresql.insert(_counters)
    .values(organization_id=sa.bindparam("r_org"), year=sa.bindparam("r_year"), last_seq=1)
    .on_conflict_do_update(
        index_elements=[_counters.c.organization_id, _counters.c.year],
        set_={"last_seq": _counters.c.last_seq + 1},
    )
    .returning(_counters.c.last_seq)
    .cte("receipt_seq")
)
NEXT_SEQ = sa.select(NEXT_SEQ_CTE.c.last_seq).scalar_subquery()
NEXT_NUMBER = sa.func.concat(
    sa.bindparam("r_prefix", type_=sa.String),
    sa.case(
        (NEXT_SEQ < 1_000_000, sa.func.lpad(sa.cast(NEXT_SEQ, sa.Text), 6, "0")),
        else_=sa.cast(NEXT_SEQ, sa.Text),
    ),
)


def next_number_params(organization_id: int, uscc: str, when: datetime) -> dict[str, Any]:
    """``NEXT_SEQ_CTE``'s and ``NEXT_NUMBER``'s parameters, and the year (CST)."""
    year = when.astimezone(CST).year
    return {"r_org": organization_id, "r_year": year, "r_prefix": f"{uscc[8:17]}-{year}-"}


def receipt_number(uscc: str, year: int, seq: int) -> str:
    """``<org code>-<year>-<6 digits>``; the org code is USCC characters 9-17."""
    return f"{uscc[8:17]}-{year}-{seq:06d}"


def next_receipt_number(
    session: Session, organization_id: int, uscc: str, when: datetime
) -> tuple[int, int, str]:
    """(year, seq, number) for the organization's next receipt (caller holds the
    donation's lock); the counter row stays locked until the transaction ends."""
    year = when.astimezone(CST).year
    seq = _next_seq(session, organization_id, year)
    return year, seq, receipt_number(uscc, year, seq)


class ReceiptError(DomainError, ValueError):
    """A receipt we cannot issue; ``message`` is an English msgid marked N_()."""


def receipt_as_of(donation: Donation, when: datetime | None) -> tuple[str | None, bool]:
    """(receipt number, receipt waived) as they stood at ``when``: a receipt issued later
    on request did not exist for the log entries made before it (their payloads are
    rebuilt by `flask audit verify` and must not change)."""
    late = donation.receipt_issued_late_at
    if late is not None and (when is None or when < late):
        return None, True
    return donation.receipt_number, donation.receipt_waived


def issue_receipt_on_request(
    session: Session, actor: User, organization_id: int, donation_id: int
) -> Donation:
    """CL 38: a donor who gave without a receipt may ask for one later. Numbered now, in
    the organization's sequence for this year; logged as ``donation.receipt_issued``."""
    del actor  # the view checked the role; the log entry names no person
    donation = lock_donation(session, donation_id)
    if donation.organization_id != organization_id:
        raise LookupError(donation_id)
    if not donation.organization.is_verified:
        raise ReceiptError(N_("Only a verified organization can issue receipts."))
    if donation.status not in ("succeeded", "partially_refunded"):
        raise ReceiptError(N_("Only a gift that was received (and not refunded) gets a receipt."))
    if not donation.receipt_waived or donation.receipt_number:
        raise ReceiptError(N_("This gift already has a receipt."))
    if not donation.donor_name.strip():
        raise ReceiptError(
            N_("A receipt names the donor, and this gift has no donor name (a cash box, "
               "or the donor's data was erased).")
        )  # fmt: skip
    now = datetime.now(UTC)
    year, seq, number = next_receipt_number(
        session, donation.organization_id, donation.organization.uscc, now
    )
    donation.receipt_year, donation.receipt_seq, donation.receipt_number = year, seq, number
    donation.receipt_waived = False
    donation.receipt_issued_late_at = now
    session.flush()
    record_event(session, "donation.receipt_issued", subject_id=donation.id)
    return donation


def assign_receipt_number(session: Session, donation: Donation, when: datetime) -> str:
    """Give the donation the next number of its organization's year (caller holds its lock).
    Only a verified organization numbers receipts (a guard below every path)."""
    if not donation.organization.is_verified:
        raise ReceiptError(N_("Only a verified organization can issue receipts."))
    year, seq, number = next_receipt_number(
        session, donation.organization_id, donation.organization.uscc, when
    )
    donation.receipt_year = year
    donation.receipt_seq = seq
    donation.receipt_number = number
    return number


#: Where to look for a CJK font (Debian: fonts-wqy-microhei, fonts-wqy-zenhei,
#: fonts-noto-cjk). RECEIPT_FONT_PATH overrides; .ci/run installs fonts-wqy-microhei.
FONT_CANDIDATES = (
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/arphic/uming.ttc",
)


class ReceiptFontMissingError(RuntimeError):
    """No CJK font installed: the PDF would print boxes instead of Chinese."""


def find_cjk_font(configured: str | None = None) -> Path:
    for candidate in filter(None, (configured, *FONT_CANDIDATES)):
        path = Path(candidate)
        if path.is_file():
            return path
    raise ReceiptFontMissingError(
        "No CJK font found for PDF receipts: install fonts-wqy-microhei "
        "(apt-get install fonts-wqy-microhei) or set RECEIPT_FONT_PATH."
    )


#: Parsed CJK fonts, per (path, size, mtime): fpdf2's add_font parses the whole ~5 MB
#: font (its cmap and every glyph's width) each time, ~85% of a receipt's CPU.
_parsed_fonts: dict[tuple[str, int, int], Any] = {}
_parsed_fonts_lock = threading.Lock()


def clear_font_cache() -> None:
    """Forget the parsed fonts (bench/receipts.py measures the uncached path with it)."""
    with _parsed_fonts_lock:
        _parsed_fonts.clear()


def add_cjk_font(pdf: Any, font: Path, family: str = "cjk") -> None:
    """``pdf.add_font(family, "", font)``, with the font parsed once per process.

    The parse (fpdf2's TTFFont: the cmap, glyph ids and widths) is read-only and kept;
    what a document changes is its own: its fontTools object (subset in place when the
    PDF is written; reopened lazily from the cached bytes, which costs little), its
    subset map, its index and its missing glyphs. If fpdf2's internals are not the ones
    this relies on, it falls back to ``add_font``."""
    from fontTools import ttLib  # font tools and fpdf2 load only when a PDF is drawn
    from fpdf.fonts import SubsetMap, TTFFont  # (as above)

    stat = font.stat()
    key = (str(font), stat.st_size, int(stat.st_mtime))
    with _parsed_fonts_lock:
        cached = _parsed_fonts.get(key)
    if cached is None:
        data = font.read_bytes()
        prototype = TTFFont(pdf, font, family, "")
        # the parse is done: each copy reads its glyphs from the cached bytes, so the
        # prototype's handle on the font file is closed now, not whenever it is collected
        prototype.ttfont.close()
        cached = (prototype, data)
        with _parsed_fonts_lock:
            _parsed_fonts[key] = cached
    prototype, data = cached
    try:
        copy = clone(prototype)
        copy.i = len(pdf.fonts) + 1
        copy.ttfont = ttLib.TTFont(
            io.BytesIO(data),
            recalcTimestamp=False,
            fontNumber=prototype.collection_font_number,
            lazy=True,
        )
        copy.biggest_size_pt = 0
        copy.missing_glyphs = []
        copy._hbfont = None
        copy.subset = SubsetMap(copy)
    except AttributeError:  # another fpdf2: parse as it does
        pdf.add_font(family, "", str(font))
        return
    pdf.fonts[f"{family.lower()}"] = copy


def donor_json(donation: Donation) -> str | None:
    """The canonical donor data the donor hashes with the salt to recompute the commitment."""
    if donation.commitment_salt is None or donation.donor_email is None:
        return None
    return canonical_json(donor_data(donation.donor_name or "", donation.donor_email))


def log_entry_url(donation: Donation) -> str | None:
    """The public log page of the donation's entry, once it has one."""
    if donation.log_index is None:
        return None
    return url_for("auditlog_pages.entry", index=donation.log_index)


#: What the 捐赠电子凭证 is not, said plainly on the page, the PDF and the check page.
NOT_AN_OFFICIAL_RECEIPT = N_(
    "This donation e-voucher is issued by the charity through this platform as proof of your "
    "gift. It is not the 公益事业捐赠统一票据 (财政电子票据) issued through the finance "
    "bureau's system, which tax deduction requires; ask the charity for that."
)


def amount_in_capitals(amount_fen: int) -> str:
    """¥1,234.56 -> 壹仟贰佰叁拾肆元伍角陆分 (the 大写 of Chinese financial documents)."""
    import cn2an  # loaded only for a receipt's amount in Chinese capitals

    if amount_fen <= 0:
        return "零元整"
    return str(cn2an.an2cn(f"{amount_fen // 100}.{amount_fen % 100:02d}", "rmb"))


def organization_address(organization: Organization) -> str:
    """The full address, each of province, city and district once: the parts the street
    address already names are not repeated (广东省 + 广州市天河区体育西路 100 号)."""
    street = organization.address or ""
    parts = (organization.province, organization.city, organization.district)
    return "".join(p for p in parts if p and p not in street) + street


def check_code(receipt_number: str, secret: str) -> str:
    """10 characters that make the short check address unguessable: receipt numbers are
    sequential, so the number alone must not open the check page."""
    digest = hmac.new(secret.encode(), receipt_number.encode(), hashlib.sha256).digest()
    return base64.b32encode(digest).decode("ascii")[:10].lower()


def check_path_code(donation: Donation, secret: str) -> str | None:
    """The ``<number>.<code>`` of the short check address /v/<...>, None without a number."""
    if not donation.receipt_number:
        return None
    return f"{donation.receipt_number}.{check_code(donation.receipt_number, secret)}"


def donation_by_check_code(session: Session, value: str, secret: str) -> Donation | None:
    """The gift a check address names, if its code is right (a constant-time compare)."""
    number, _dot, code = value.rpartition(".")
    if not number or len(number) > 40 or not hmac.compare_digest(code, check_code(number, secret)):
        return None
    return session.scalar(sa.select(Donation).where(Donation.receipt_number == number))


def check_url(donation: Donation) -> str | None:
    """The absolute short address that verifies this 捐赠电子凭证 on the site (QR code)."""
    code = check_path_code(donation, current_app.config["SECRET_KEY"])
    if code is None:
        return None
    return public_url("donations.check_receipt", code=code)


def qr_png(url: str) -> bytes:
    buffer = io.BytesIO()
    segno.make(url, error="m").save(buffer, kind="png", scale=4, border=2)
    return buffer.getvalue()


def receipt_lines(donation: Donation) -> list[tuple[str, str]]:
    """The 捐赠电子凭证's fields, labelled in the reader's language (one language)."""
    organization = donation.organization
    donor = gettext("Anonymous donor") if donation.is_anonymous else (donation.donor_name or "")
    when = donation.succeeded_at.astimezone(CST) if donation.succeeded_at else None
    lines = [
        (gettext("Receipt number"), donation.receipt_number or "—"),
        (gettext("Organization"), organization.name),
        (gettext("USCC"), organization.uscc),
        (gettext("Address"), organization_address(organization)),
        (gettext("Donor"), donor),
        (gettext("Amount"), format_fen(donation.amount_fen, donation.currency)),
        (gettext("Amount in words"), amount_in_capitals(donation.amount_fen)),
        (gettext("Date"), when.strftime("%Y-%m-%d %H:%M") if when else "—"),
    ]
    if donation.campaign is not None:
        lines.append((gettext("Campaign"), donation.campaign.title))
        lines.append((gettext("Filing number"), donation.campaign.filing_number))
    if donation.fund is not None:
        lines.append((gettext("Fund"), donation.fund.name))
    lines += _match_lines(donation)
    if donation.log_index is not None:
        lines.append((gettext("Log entry"), f"#{donation.log_index}"))
    return lines


def _match_lines(donation: Donation) -> list[tuple[str, str]]:
    """givingdays: matching money the gift earned (the sponsor's, not part of the gift)."""
    if donation.id is None or donation.campaign_id is None:
        return []
    session = object_session(donation)
    if session is None:
        return []
    return [
        (
            _matched_label(),
            f"{format_fen(m.net_fen, donation.currency)} · {m.pool.sponsor_name}",
        )
        for m in matches_of(session, donation.id)
        if m.net_fen > 0
    ]


def _matched_label() -> str:
    return gettext("Matched (paid by the sponsor, not part of your gift)")


def render_receipt_pdf(donation: Donation) -> bytes:
    """The receipt as a PDF with Chinese text (CJK font embedded as a subset)."""
    from fpdf import FPDF  # fpdf2 is heavy (about 40 MB): loaded only to draw a PDF

    configured = current_app.config.get("RECEIPT_FONT_PATH") or os.environ.get("RECEIPT_FONT_PATH")
    font = find_cjk_font(configured)
    pdf = FPDF(format="A4")
    title = gettext("Donation e-voucher")
    pdf.set_title(f"{title} {donation.receipt_number}")
    add_cjk_font(pdf, font)
    pdf.add_page()
    pdf.set_font("cjk", size=16)
    pdf.cell(0, 10, title, new_x="LMARGIN", new_y="NEXT", align="C")
    pdf.set_font("cjk", size=10)
    top = pdf.get_y()
    for label, value in receipt_lines(donation):
        pdf.cell(40, 7, label)
        pdf.multi_cell(110, 7, value, new_x="LMARGIN", new_y="NEXT")
    lines_end = pdf.get_y()
    url = check_url(donation)
    if url:
        pdf.image(io.BytesIO(qr_png(url)), x=160, y=top, w=36, h=36)
        pdf.set_xy(150, top + 37)
        pdf.set_font("cjk", size=7)
        pdf.multi_cell(50, 4, gettext("Scan to check it on the platform"), align="C")
        pdf.set_y(max(lines_end, pdf.get_y()))
        pdf.ln(2)
        pdf.set_font("cjk", size=8)
        check_online = gettext("Check online")
        pdf.multi_cell(0, 5, f"{check_online}: {url}", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    pdf.set_font("cjk", size=9)
    pdf.multi_cell(0, 5, gettext(NOT_AN_OFFICIAL_RECEIPT), new_x="LMARGIN", new_y="NEXT")
    if donation.donor_commitment:
        pdf.ln(2)
        pdf.set_font("cjk", size=7)
        technical = [gettext("Technical details"), gettext("Commitment")]
        text = f"{technical[0]}: {technical[1]} {donation.donor_commitment}"
        if donation.commitment_salt:
            text += f" · {gettext('Salt (hex)')} {donation.commitment_salt}"
        pdf.multi_cell(0, 4, text, new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())
