"""Personal data that must never appear in public texts: resident identity-card numbers
and phone numbers of individuals (Charity Law art. 82 and the Personal Information
Protection Law; issue 16 point 17). Used by disclosures (their texts and the text of
their PDF attachments) and major-transaction records."""

from __future__ import annotations

import io
import logging
import re

#: A resident ID number: six digits of region, a birth date, three digits, a check
#: character.
ID_NUMBER = re.compile(
    r"(?<![0-9A-Za-z])\d{6}(?:19|20)\d\d(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}[0-9Xx]"
    r"(?![0-9A-Za-z])"
)
#: A mainland mobile number (an individual's), with optional separators and +86.
MOBILE = re.compile(r"(?<!\d)(?:\+?86[- ]?)?1[3-9]\d[- ]?\d{4}[- ]?\d{4}(?!\d)")
#: A landline number with its area code.
LANDLINE = re.compile(r"(?<!\d)0\d{2,3}[- ]\d{7,8}(?!\d)")

log = logging.getLogger(__name__)


def personal_data_kind(text: str, landlines: bool = True) -> str | None:
    """ "id_number" or "phone" when the text holds one, else None. ``landlines=False``
    lets an organization's switchboard number through (its published contacts)."""
    if ID_NUMBER.search(text):
        return "id_number"
    if MOBILE.search(text) or (landlines and LANDLINE.search(text)):
        return "phone"
    return None


def pdf_text(content: bytes) -> str:
    """The text of a PDF's pages (pypdf; text drawn with a ToUnicode map, as every PDF
    writer does for its fonts). Scanned images carry no text and yield nothing."""
    from pypdf import PdfReader  # imported on use: a heavy module only uploads need

    try:
        reader = PdfReader(io.BytesIO(content))
        return "\n".join(page.extract_text() or "" for page in reader.pages)
    except Exception:
        log.info("could not read the text of an attachment", exc_info=True)
        return ""
