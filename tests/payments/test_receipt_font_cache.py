"""The CJK font is parsed once per process (receipts.add_cjk_font): every document still
embeds its own subset, with exactly its own characters, as fpdf2's add_font does."""

from __future__ import annotations

import io

import pytest
from fpdf import FPDF
from pypdf import PdfReader

from charity.services import receipts


def _pdf(text: str, cached: bool) -> bytes:
    pdf = FPDF(format="A4")
    font = receipts.find_cjk_font(None)
    if cached:
        receipts.add_cjk_font(pdf, font)
    else:
        pdf.add_font("cjk", "", str(font))
    pdf.add_page()
    pdf.set_font("cjk", size=12)
    pdf.multi_cell(0, 7, text)
    try:
        return bytes(pdf.output())
    finally:
        for added in pdf.fonts.values():  # add_font leaves the font file open
            added.ttfont.close()


def _text(pdf: bytes) -> str:
    return PdfReader(io.BytesIO(pdf)).pages[0].extract_text()


def test_cached_font_documents_match_the_uncached_ones():
    try:
        receipts.find_cjk_font(None)
    except receipts.ReceiptFontMissingError:
        pytest.skip("no CJK font installed")
    receipts.clear_font_cache()
    first, second = "捐赠电子凭证 王小明 ¥50.00", "配捐 龍鳳 示例基金会 2026"
    texts = [first, second, first]
    cached = [_pdf(text, cached=True) for text in texts]
    assert len(receipts._parsed_fonts) == 1  # parsed once
    for text, pdf in zip(texts, cached, strict=True):
        assert _text(pdf) == text
        assert len(pdf) == len(_pdf(text, cached=False))  # the same subset embedded
    # the third embeds no glyph of the second: nothing leaks from one document to the next
    assert cached[0] != cached[1] and len(cached[0]) == len(cached[2])
