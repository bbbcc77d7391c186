"""Spreadsheet-safe exports: every CSV (and XLSX) cell goes through ``safe_cell``.

A cell that starts with ``=``, ``+``, ``-``, ``@`` (or a tab/carriage return, or their
fullwidth forms) is a formula to Excel, LibreOffice and WPS: a donor's message
``=HYPERLINK("http://evil", "click")`` would run on a regulator's machine. Such text is
prefixed with an apostrophe, which spreadsheets show as text (OWASP "CSV injection").
Numbers stay numbers.

The one CSV/XLSX writer (issue 19 point 5): ``write_csv`` (text), ``csv_bytes`` (UTF-8 with
a BOM, for a download), ``write_xlsx``, ``csv_response`` and ``table_download`` (CSV or
XLSX).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from urllib.parse import quote

from flask import Response
from openpyxl import Workbook

#: What makes a spreadsheet read a cell as a formula (ASCII and fullwidth forms).
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r", "\n", "＝", "＋", "－", "＠")

Cell = str | int | float | bool | date | datetime | None


def safe_cell(value: Cell) -> str | int | float:
    """The value as a spreadsheet will read it harmlessly."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return value
    if isinstance(value, datetime | date):
        return value.isoformat()
    text = str(value).replace("\x00", "")
    if text.lstrip(" ").startswith(FORMULA_PREFIXES):
        return "'" + text
    return text


def write_csv(header: Sequence[str], rows: Iterable[Sequence[Cell]]) -> str:
    """CSV text (RFC 4180, CRLF) with every cell, header included, made safe."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([safe_cell(h) for h in header])
    for row in rows:
        writer.writerow([safe_cell(cell) for cell in row])
    return buffer.getvalue()


def csv_bytes(header: Sequence[str], rows: Iterable[Sequence[Cell]]) -> bytes:
    """The CSV as UTF-8 with a BOM, so that Excel opens Chinese text correctly."""
    return ("\ufeff" + write_csv(header, rows)).encode("utf-8")


def write_xlsx(title: str, header: Sequence[str], rows: Iterable[Sequence[Cell]]) -> bytes:
    """An XLSX workbook of one sheet (its title cut to Excel's 31 characters), every cell
    made safe."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = title[:31]
    sheet.append([safe_cell(h) for h in header])
    for row in rows:
        sheet.append([safe_cell(cell) for cell in row])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def csv_response(filename: str, header: Sequence[str], rows: Iterable[Sequence[Cell]]) -> Response:
    """A download: UTF-8 with a BOM (so Excel reads Chinese), never rendered inline."""
    body = "\ufeff" + write_csv(header, rows)
    response = Response(body, mimetype="text/csv")
    response.charset = "utf-8"
    ascii_name = filename.encode("ascii", "replace").decode().replace("?", "_").replace('"', "")
    response.headers["Content-Disposition"] = (
        f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename)}"
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    return response


XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def table_download(
    filename: str, fmt: str, title: str, header: Sequence[str], rows: Iterable[Sequence[Cell]]
) -> Response:
    """A download of one table as ``fmt`` ``csv`` (UTF-8 with a BOM) or ``xlsx`` (one sheet
    called ``title``), never rendered inline. ``filename`` is ASCII (the caller's)."""
    if fmt == "csv":
        body, mime = csv_bytes(header, rows), "text/csv; charset=utf-8"
    else:
        body, mime = write_xlsx(title, header, rows), XLSX_MIMETYPE
    return Response(
        body,
        mimetype=mime,
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "X-Content-Type-Options": "nosniff",
        },
    )
