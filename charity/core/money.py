"""Money is integer fen (分) with a currency code. Parsing and formatting live here only."""

from __future__ import annotations

import re
import unicodedata
from decimal import Decimal, InvalidOperation

CURRENCY = "CNY"
_SYMBOLS = {"CNY": "¥"}
_AMOUNT_RE = re.compile(r"^[0-9]{1,12}(\.[0-9]{1,2})?$")
#: What a person may type: ASCII or fullwidth digits, a decimal point (also fullwidth or
#: the ideographic full stop), thousands commas, a yuan sign and spaces. Checked before
#: NFKC so that look-alikes (superscripts, other scripts' digits) are refused.
_TYPED_CHARS = frozenset("0123456789０１２３４５６７８９.．。,，¥￥ \u3000")


class AmountError(ValueError):
    """A user-typed amount that is not a positive yuan amount with at most two decimals."""


def format_fen(fen: int | None, currency: str = CURRENCY, *, sign: bool = False) -> str:
    """12345 -> '¥123.45'; always two decimals and thousands separators."""
    if fen is None:
        return "—"
    symbol = _SYMBOLS.get(currency, currency + " ")
    prefix = "-" if fen < 0 else ("+" if sign and fen > 0 else "")
    yuan, cents = divmod(abs(int(fen)), 100)
    return f"{prefix}{symbol}{yuan:,}.{cents:02d}"


def format_yuan_short(fen: int) -> str:
    """For chart labels: '¥1,234' without the fen."""
    return f"¥{int(fen) // 100:,}"


def parse_yuan(text: str | None) -> int:
    """Parse a yuan amount a person typed into fen.

    Fullwidth digits (１２３) and the ideographic full stop are normalised first
    (NFKC), a leading ¥ and thousands separators are accepted; anything else, more
    than two decimals, zero or a negative number raises AmountError.
    """
    if text is None:
        raise AmountError("empty")
    if not set(str(text)) <= _TYPED_CHARS:
        raise AmountError(str(text))
    cleaned = unicodedata.normalize("NFKC", str(text)).strip()
    cleaned = cleaned.replace("。", ".").lstrip("¥￥").replace(",", "").strip()
    if not _AMOUNT_RE.match(cleaned):
        raise AmountError(cleaned)
    try:
        value = Decimal(cleaned)
    except InvalidOperation as exc:  # pragma: no cover - the regex already excludes these
        raise AmountError(cleaned) from exc
    fen = int(value * 100)
    if fen <= 0:
        raise AmountError(cleaned)
    return fen
