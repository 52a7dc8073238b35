"""Streaming reader of the historical credit archives units upload as JSON Lines, CSV or XLSX.

Files can hold a million rows, so every format is read row by row and nothing holds the whole
file. Each row comes with the line number the unit sees in its own file, and a row that cannot be
decoded becomes a :class:`RowError` for that row only; :class:`ArchiveFormatError` is kept for
files that cannot be read at all, and its message says what to do about it.
"""

from __future__ import annotations

import codecs
import csv
import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import date, datetime
from pathlib import Path, PurePath
from typing import Any, BinaryIO, TextIO

from openpyxl import load_workbook
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._read_only import ReadOnlyWorksheet

from graph.archive.row_fields import RowError
from graph.archive.xlsx_guard import DEFAULT_LIMITS, UnsafeWorkbook, XlsxLimits, check_workbook

FORMATS = ("jsonl", "csv", "xlsx")

# Canonical field names of an archive row (a credit record).
FIELDS = ("item", "subject", "tier", "title", "decidedOn", "document", "legalBasis", "disclosure")

# Column headings the units use in CSV and XLSX files, besides the canonical names.
ALIASES: dict[str, str] = {
    "事项": "item",
    "事项代码": "item",
    "信息事项": "item",
    "creditCode": "subject",  # the API's name for the subject's code
    "统一社会信用代码": "subject",
    "信用代码": "subject",
    "严重程度": "tier",
    "等级": "tier",
    "标题": "title",
    "名称": "title",
    "事由": "title",
    "决定日期": "decidedOn",
    "作出决定日期": "decidedOn",
    "文书号": "document",
    "决定文书号": "document",
    "文号": "document",
    "法律依据": "legalBasis",
    "依据": "legalBasis",
    "公开属性": "disclosure",
    "公开类别": "disclosure",
}

_COLUMNS = {name.casefold(): name for name in FIELDS} | {
    alias.casefold(): name for alias, name in ALIASES.items()
}

_EXTENSIONS = {
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "jsonl",
    ".csv": "csv",
    ".xlsx": "xlsx",
}
_LEGACY_EXTENSIONS = (".xls", ".et")
_ZIP = b"PK\x03\x04"
_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # .xls, and .xlsx protected by a password
_SNIFF = 8192
_PREFIX = 1 << 20  # bytes read to choose the text encoding
_CHUNK = 1 << 16
_SAVE_AS = "open it in Excel or WPS and save it as .xlsx or as CSV UTF-8"


class ArchiveFormatError(ValueError):
    """The whole file cannot be read; the message tells the unit what to do."""


Record = tuple[int, dict[str, Any] | RowError]


def detect_format(name: str, head: bytes) -> str:
    """The format of a file from its name, else from its first bytes; a name that contradicts
    the content is refused, because reading a workbook as CSV would only produce nonsense."""
    suffix = PurePath(name).suffix.lower()
    by_name = _EXTENSIONS.get(suffix)
    text = head.removeprefix(codecs.BOM_UTF8).lstrip()
    if head.startswith(_ZIP):
        by_content: str | None = "xlsx"
    elif head.startswith(_OLE) or suffix in _LEGACY_EXTENSIONS:
        raise ArchiveFormatError(
            f"{name} is an old-style (.xls) or password-protected workbook: {_SAVE_AS}, "
            "without a password"
        )
    elif head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) or b"\0" in head:
        raise ArchiveFormatError(f"{name} is UTF-16 text or a binary file: {_SAVE_AS}")
    elif not text:
        by_content = None
    elif text.startswith(b"{"):
        by_content = "jsonl"
    else:
        by_content = "csv"
    if by_name is None:
        if by_content is None:
            raise ArchiveFormatError(f"{name} is empty: upload a file with a header and rows")
        return by_content
    if by_name == "xlsx" and by_content not in (None, "xlsx"):
        raise ArchiveFormatError(f"{name} is not an XLSX workbook: {_SAVE_AS}")
    if by_name != "xlsx" and by_content == "xlsx":
        raise ArchiveFormatError(f"{name} is an Excel workbook: rename it to .xlsx")
    if by_name == "jsonl" and text.startswith(b"["):
        raise ArchiveFormatError(
            f"{name} is a JSON array: write one JSON object per line (JSON Lines) instead"
        )
    return by_name


def read_archive(
    path: Path, fmt: str | None = None, limits: XlsxLimits = DEFAULT_LIMITS
) -> Iterator[Record]:
    """(line number, row) for every non-blank row of the file, read lazily.

    A row is a dict of canonical field names, or a :class:`RowError` when it cannot be decoded.
    Errors about the whole file surface as :class:`ArchiveFormatError` on the first ``next``.
    A workbook is checked against ``limits`` here, where it is read, whoever handed it over
    (upload, command line, a queued task): the upload's own check is not the only guard.
    """
    if fmt is None:
        with path.open("rb") as file:
            fmt = detect_format(path.name, file.read(_SNIFF))
    reader = _READERS.get(fmt)
    if reader is None:
        raise ArchiveFormatError(f"format {fmt!r} is not one of {', '.join(FORMATS)}")
    if fmt == "xlsx":
        try:
            check_workbook(path, path.name, limits)
        except UnsafeWorkbook as exc:
            raise ArchiveFormatError(str(exc)) from exc
    yield from reader(path)


def _detect_encoding(file: BinaryIO) -> str:
    """UTF-8 unless the first MiB is not: then GB18030, which Excel writes on Chinese Windows.
    Only a prefix is decoded (in chunks, output dropped), so a huge file costs no more; the
    incremental decoder keeps a character cut by a chunk or by the prefix limit for later."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    left = _PREFIX
    try:
        while left > 0:
            chunk = file.read(min(left, _CHUNK))
            if not chunk:
                decoder.decode(b"", final=True)  # a character cut off by the end of the file
                break
            decoder.decode(chunk)
            left -= len(chunk)
    except UnicodeDecodeError:
        return "gb18030"
    return "utf-8"


def _open_text(path: Path) -> TextIO:
    """The file as text without a byte-order mark. Bytes the encoding cannot decode become
    U+FFFD, so the row holding them is refused instead of the whole file."""
    with path.open("rb") as raw:
        encoding = _detect_encoding(raw)
    file = path.open(encoding=encoding, errors="replace", newline="")
    if file.read(1) != "\ufeff":
        file.seek(0)
    return file


def _bad_encoding(encoding: str) -> RowError:
    return RowError(
        "bad-encoding",
        f"holds bytes that are not {encoding} text like the rest of the file: "
        "save the whole file in one encoding, preferably UTF-8",
    )


def _json_row(text: str, encoding: str) -> dict[str, Any] | RowError:
    if "\ufffd" in text:
        return _bad_encoding(encoding)
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        return RowError("bad-json", f"not valid JSON: {exc.msg} at column {exc.colno}")
    if not isinstance(value, dict):
        return RowError("bad-json", "not a JSON object: each line must be one {...} row")
    return value


def _jsonl_rows(path: Path) -> Iterator[Record]:
    """JSON Lines rows keep their names and values as written (the validator judges them)."""
    with _open_text(path) as file:
        for number, line in enumerate(file, start=1):
            if line.strip():
                yield number, _json_row(line, file.encoding)


def _csv_records(file: TextIO) -> Iterator[tuple[int, list[str] | RowError]]:
    """Cells of each CSV record with the line it starts on: ``line_num`` counts physical lines,
    so a quoted value spanning lines does not shift later numbers. Strict quoting turns a
    malformed quote into an error for its record; reading goes on at the next line."""
    reader = csv.reader(file, strict=True)
    while True:
        start = reader.line_num + 1
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            yield start, RowError("bad-row", f"cannot be read as CSV ({exc}): check its quotes")
            continue
        if "\ufffd" in "".join(cells):
            yield start, _bad_encoding(file.encoding)
            continue
        # A value spanning lines reads the same whatever the file's line endings.
        cells = [c.strip().replace("\r\n", "\n") if "\r" in c else c.strip() for c in cells]
        yield start, cells


def _csv_rows(path: Path) -> Iterator[Record]:
    with _open_text(path) as file:
        yield from _table(_csv_records(file))


def _cell_text(value: object) -> str:
    """An XLSX cell as the text the unit sees: dates as YYYY-MM-DD, whole numbers without .0."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _sheet_records(rows: Iterator[Sequence[object]]) -> Iterator[tuple[int, list[str]]]:
    """Cells of each sheet row with its row number. Trailing empty cells are dropped: they are
    invisible in Excel and often only formatted."""
    number = 0
    while True:
        try:
            values = next(rows)
        except StopIteration:
            return
        except Exception as exc:  # openpyxl raises whatever its parsers raise
            raise ArchiveFormatError(
                f"row {number + 1} of the worksheet cannot be read ({exc}): {_SAVE_AS}"
            ) from exc
        number += 1
        cells = [_cell_text(value) for value in values]
        while cells and not cells[-1]:
            cells.pop()
        yield number, cells


def _xlsx_rows(path: Path) -> Iterator[Record]:
    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # a damaged zip, a missing part, bad XML...
        raise ArchiveFormatError(f"{path.name} cannot be read as XLSX ({exc}): {_SAVE_AS}") from exc
    try:
        if not workbook.worksheets:
            raise ArchiveFormatError(f"{path.name} has no worksheet: put the rows on the first")
        sheet = workbook.worksheets[0]
        if isinstance(sheet, ReadOnlyWorksheet):
            # Some exporters declare a wrong size, which would cut the rows short.
            sheet.reset_dimensions()
        yield from _table(_sheet_records(sheet.iter_rows(values_only=True)))
    finally:
        workbook.close()


def _header(cells: Sequence[str]) -> tuple[str | None, ...]:
    """Canonical field per column; ``None`` for the unnamed columns Excel leaves at the end."""
    width = len(cells)
    while not cells[width - 1]:
        width -= 1
    fields: list[str | None] = []
    seen: dict[str, str] = {}
    for index, text in enumerate(cells[:width]):
        column = f"column {get_column_letter(index + 1)}"
        if not text:
            raise ArchiveFormatError(f"{column} of the header is empty: name it or delete it")
        name = _COLUMNS.get(text.casefold())
        if name is None:
            raise ArchiveFormatError(
                f"{column} of the header, {text!r}, is not a known field: use one of "
                f"{', '.join(FIELDS)} or a Chinese name such as 统一社会信用代码, "
                "or delete the column"
            )
        if name in seen:
            raise ArchiveFormatError(
                f"{seen[name]} and {column} ({text!r}) of the header both mean {name!r}: "
                "delete one of them"
            )
        seen[name] = f"{column} ({text!r})"
        fields.append(name)
    return (*fields, *[None] * (len(cells) - width))


def _row(header: tuple[str | None, ...], cells: Sequence[str]) -> dict[str, Any] | RowError:
    """Empty cells are left out, so a missing value is told apart from anything written."""
    if len(cells) > len(header):
        return RowError(
            "bad-row",
            f"has {len(cells)} cells but the header has {len(header)} columns: put a value "
            f"holding a comma in double quotes, or clear what is right of column "
            f"{get_column_letter(len(header))}",
        )
    row: dict[str, Any] = {}
    for index, (name, value) in enumerate(zip(header, cells, strict=False)):
        if not value:
            continue
        if name is None:
            return RowError(
                "bad-row",
                f"column {get_column_letter(index + 1)} has a value but no header: "
                "name the column or clear the cell",
            )
        row[name] = value
    return row


def _table(records: Iterable[tuple[int, list[str] | RowError]]) -> Iterator[Record]:
    """Rows of a table whose first non-blank row is the header."""
    header: tuple[str | None, ...] | None = None
    for number, cells in records:
        if isinstance(cells, RowError):
            if header is None:
                raise ArchiveFormatError(f"the header on line {number} {cells}")
            yield number, cells
        elif not any(cells):
            continue
        elif header is None:
            header = _header(cells)
        else:
            yield number, _row(header, cells)
    if header is None:
        raise ArchiveFormatError(
            "the file has no header row: the first row must name the columns, "
            "e.g. 事项,统一社会信用代码,严重程度,标题,决定日期"
        )


_READERS: dict[str, Callable[[Path], Iterator[Record]]] = {
    "jsonl": _jsonl_rows,
    "csv": _csv_rows,
    "xlsx": _xlsx_rows,
}
