"""charity.core.money: the one place that parses typed yuan and formats fen."""

from __future__ import annotations

import pytest

from charity.core.money import AmountError, format_fen, format_yuan_short, parse_yuan


@pytest.mark.parametrize(
    ("fen", "text"),
    [
        (123450, "¥1,234.50"),
        (0, "¥0.00"),
        (1, "¥0.01"),
        (99, "¥0.99"),
        (100, "¥1.00"),
        (-123450, "-¥1,234.50"),
        (-1, "-¥0.01"),
        (10_000_000, "¥100,000.00"),
        (99_999_999_999_999, "¥999,999,999,999.99"),
        (10**20, "¥1,000,000,000,000,000,000.00"),
    ],
)
def test_format_fen(fen, text):
    assert format_fen(fen) == text


def test_format_fen_none_and_sign_and_currency():
    assert format_fen(None) == "—"
    assert format_fen(500, sign=True) == "+¥5.00"
    assert format_fen(-500, sign=True) == "-¥5.00"
    assert format_fen(0, sign=True) == "¥0.00"
    assert format_fen(123450, "USD") == "USD 1,234.50"


def test_format_yuan_short():
    assert format_yuan_short(123456) == "¥1,234"


@pytest.mark.parametrize(
    ("text", "fen"),
    [
        ("1234.5", 123450),
        ("1234.50", 123450),
        ("¥1,234.50", 123450),
        ("￥1,234.50", 123450),
        ("  88  ", 8800),
        ("0.01", 1),
        ("１２３４．５６", 123456),  # fullwidth digits and full stop
        ("１２３4。５", 123450),  # mixed widths, ideographic full stop
        ("１，０００", 100000),  # fullwidth comma
        ("999999999999.99", 99_999_999_999_999),  # the largest accepted
        ("007", 700),
    ],
)
def test_parse_yuan(text, fen):
    assert parse_yuan(text) == fen
    assert isinstance(parse_yuan(text), int)


@pytest.mark.parametrize(
    "text",
    [
        None,
        "",
        "   ",
        "0",
        "0.00",
        "-1",
        "-0.01",
        "+5",
        "1.234",  # more than two decimals
        "0.001",
        "1.",
        ".5",
        "1e3",
        "NaN",
        "Infinity",
        "1 000",
        "1_000",
        "1000000000000",  # 13 digits: beyond any gift
        "12元",
        "¥",
        "abc",
        "1\x000",
        "<b>1</b>",
        "9" * 5000,
    ],
)
def test_parse_yuan_refuses(text):
    with pytest.raises(AmountError):
        parse_yuan(text)


def test_round_trip():
    for fen in (1, 99, 100, 12345, 123456789):
        assert parse_yuan(format_fen(fen)) == fen


@pytest.mark.parametrize("typed", ["١٢٣", "1²", "①", "12e3", "0x10"])
def test_look_alike_digits_are_refused(typed):
    with pytest.raises(AmountError):
        parse_yuan(typed)
