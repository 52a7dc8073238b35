"""Streaming reader of uploaded archive files: formats, encodings, line numbers, errors, memory."""

from __future__ import annotations

import json
import tracemalloc
import zipfile
from collections.abc import Generator
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook, load_workbook
from openpyxl.workbook.workbook import Workbook as WorkbookType

import graph.archive.files as archive_files
from graph.archive.files import (
    ALIASES,
    FIELDS,
    ArchiveFormatError,
    detect_format,
    read_archive,
)
from graph.archive.row_fields import RowError

CODE = "91152201078371135X"
ROWS: list[dict[str, Any]] = [
    {
        "item": "LAND-01",
        "subject": CODE,
        "tier": "SERIOUS",
        "title": "非法占用耕地",
        "decidedOn": "2021-03-04",
        "document": "兴自然资罚〔2021〕12号",
        "legalBasis": "《土地管理法》第七十七条",
        "disclosure": "PUBLIC",
    },
    {"item": "MINE-02", "subject": CODE, "title": "越界开采", "decidedOn": "2020-11-30"},
]
CHINESE = ["事项", "统一社会信用代码", "严重程度", "标题", "决定日期", "文号", "依据", "公开属性"]


def _csv_text(header: list[str], rows: list[dict[str, Any]], newline: str = "\n") -> str:
    lines = [",".join(header)]
    lines += [",".join(str(row.get(name, "")) for name in FIELDS) for row in rows]
    return newline.join(lines) + newline


def _write_xlsx(path: Path, rows: list[list[Any]]) -> Path:
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet()
    for row in rows:
        sheet.append(row)
    workbook.save(path)
    return path


def _read(path: Path, fmt: str | None = None) -> list[tuple[int, Any]]:
    return [
        (line, (row.reason, str(row)) if isinstance(row, RowError) else row)
        for line, row in read_archive(path, fmt)
    ]


# Formats


def test_every_format_yields_the_same_rows(tmp_path: Path) -> None:
    jsonl = tmp_path / "a.jsonl"
    jsonl.write_text("".join(json.dumps(row, ensure_ascii=False) + "\n" for row in ROWS))
    csv_file = tmp_path / "a.csv"
    csv_file.write_text(_csv_text(list(FIELDS), ROWS), encoding="utf-8")
    xlsx = _write_xlsx(
        tmp_path / "a.xlsx",
        [list(FIELDS)] + [[row.get(name) for name in FIELDS] for row in ROWS],
    )

    assert _read(jsonl) == [(1, ROWS[0]), (2, ROWS[1])]
    assert _read(csv_file) == [(2, ROWS[0]), (3, ROWS[1])]
    assert _read(xlsx) == [(2, ROWS[0]), (3, ROWS[1])]


def test_format_can_be_given_and_must_be_known(tmp_path: Path) -> None:
    path = tmp_path / "upload.bin"
    path.write_text(_csv_text(list(FIELDS), ROWS[1:]), encoding="utf-8")
    assert _read(path, "csv") == [(2, ROWS[1])]
    with pytest.raises(ArchiveFormatError, match="not one of jsonl, csv, xlsx"):
        list(read_archive(path, "xml"))


# Headers


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030"])
def test_chinese_header_in_the_encodings_units_use(tmp_path: Path, encoding: str) -> None:
    path = tmp_path / "档案.csv"
    path.write_bytes(_csv_text(CHINESE, ROWS, "\r\n").encode(encoding))
    assert _read(path) == [(2, ROWS[0]), (3, ROWS[1])]


def test_every_alias_names_a_field() -> None:
    assert set(ALIASES.values()) == set(FIELDS)


def test_canonical_names_ignore_case_and_surrounding_space(tmp_path: Path) -> None:
    path = tmp_path / "a.csv"
    path.write_text(" ITEM ,Subject,\t决定日期 ,decidedon \nX,Y,,2021-01-01\n")
    with pytest.raises(ArchiveFormatError, match="both mean 'decidedOn'"):
        list(read_archive(path))
    path.write_text(" ITEM ,Subject,\tdecidedon \nX,Y,2021-01-01\n")
    assert _read(path) == [(2, {"item": "X", "subject": "Y", "decidedOn": "2021-01-01"})]


def test_unknown_header_column_is_named(tmp_path: Path) -> None:
    path = tmp_path / "a.csv"
    path.write_text("事项,统一社会信用代码,备注\nX,Y,Z\n", encoding="utf-8")
    with pytest.raises(ArchiveFormatError, match=r"column C of the header, '备注', is not"):
        list(read_archive(path))


def test_duplicate_header_columns_are_named(tmp_path: Path) -> None:
    path = tmp_path / "a.csv"
    path.write_text("subject,标题,信用代码\n", encoding="utf-8")
    with pytest.raises(ArchiveFormatError) as info:
        list(read_archive(path))
    assert "column A ('subject')" in str(info.value)
    assert "column C ('信用代码')" in str(info.value)


def test_empty_header_cell_between_names_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "a.csv"
    path.write_text("item,,subject\n")
    with pytest.raises(ArchiveFormatError, match="column B of the header is empty"):
        list(read_archive(path))


def test_trailing_unnamed_columns_must_stay_empty(tmp_path: Path) -> None:
    path = tmp_path / "a.csv"
    path.write_text("item,subject,,\nA,B,,\nA,B,,oops\n")
    assert _read(path) == [
        (2, {"item": "A", "subject": "B"}),
        (3, ("bad-row", "column D has a value but no header: name the column or clear the cell")),
    ]


@pytest.mark.parametrize("content", ["", "\n\n", " , ,\r\n"])
def test_file_without_header_is_refused(tmp_path: Path, content: str) -> None:
    path = tmp_path / "a.csv"
    path.write_text(content)
    with pytest.raises(ArchiveFormatError, match="no header row"):
        list(read_archive(path))


# Rows and line numbers


def test_empty_cells_are_left_out_and_short_rows_are_fine(tmp_path: Path) -> None:
    path = tmp_path / "a.csv"
    path.write_text("item,subject,title,document\n A ,,  t  \nB\n")
    assert _read(path) == [(2, {"item": "A", "title": "t"}), (3, {"item": "B"})]


def test_crlf_line_endings(tmp_path: Path) -> None:
    path = tmp_path / "a.csv"
    path.write_bytes(b"item,title\r\nA,one\r\nB,two\r\n")
    assert _read(path) == [(2, {"item": "A", "title": "one"}), (3, {"item": "B", "title": "two"})]


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_quoted_newline_keeps_later_line_numbers(tmp_path: Path, newline: str) -> None:
    lines = ["item,title", 'A,"first', "second", 'third"', "B,plain", '"C",x']
    path = tmp_path / "a.csv"
    path.write_bytes(newline.join(lines).encode() + newline.encode())
    assert _read(path) == [
        (2, {"item": "A", "title": "first\nsecond\nthird"}),
        (5, {"item": "B", "title": "plain"}),
        (6, {"item": "C", "title": "x"}),
    ]


def test_blank_lines_are_skipped_but_counted(tmp_path: Path) -> None:
    csv_file = tmp_path / "a.csv"
    csv_file.write_text("\nitem\n\nA\n  \n,\nB\n")
    assert _read(csv_file) == [(4, {"item": "A"}), (7, {"item": "B"})]
    jsonl = tmp_path / "a.jsonl"
    jsonl.write_text('\n{"item": "A"}\n  \t\r\n{"item": "B"}')
    assert _read(jsonl) == [(2, {"item": "A"}), (4, {"item": "B"})]


def test_row_with_too_many_cells_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "a.csv"
    path.write_text("item,title\nA,tilled, not ploughed\nB,fine\nC,x,\n")
    rows = _read(path)
    assert rows[0][0] == 2
    assert rows[0][1][0] == "bad-row"
    assert "3 cells but the header has 2 columns" in rows[0][1][1]
    assert rows[1] == (3, {"item": "B", "title": "fine"})
    assert rows[2][0] == 4
    assert rows[2][1][0] == "bad-row"


def test_malformed_quotes_refuse_one_row(tmp_path: Path) -> None:
    path = tmp_path / "a.csv"
    path.write_text('item,title\nA,"half" quoted\nB,fine\n')
    rows = _read(path)
    assert rows[0][0] == 2
    assert rows[0][1][0] == "bad-row"
    assert rows[1] == (3, {"item": "B", "title": "fine"})


def test_bad_json_lines(tmp_path: Path) -> None:
    path = tmp_path / "a.jsonl"
    path.write_text('{"item": "A"}\n{"item": \n\n[1, 2]\n{"item": "B", "extra": 1}\n')
    rows = _read(path)
    assert rows[0] == (1, {"item": "A"})
    assert rows[1][0] == 2
    assert rows[1][1][0] == "bad-json"
    assert rows[1][1][1].startswith("not valid JSON:")
    assert rows[2] == (4, ("bad-json", "not a JSON object: each line must be one {...} row"))
    assert rows[3] == (5, {"item": "B", "extra": 1})  # unknown keys are left to the validator


def test_jsonl_with_bom(tmp_path: Path) -> None:
    path = tmp_path / "a.jsonl"
    path.write_text('{"item": "A"}\r\n', encoding="utf-8-sig")
    assert _read(path) == [(1, {"item": "A"})]


# Encodings beyond the prefix that decides them


def test_utf8_character_cut_by_the_prefix_limit(tmp_path: Path) -> None:
    head = b"item,title\n" + b"A,x\n" * ((archive_files._PREFIX // 4) - 10)
    # Pad so that the three bytes of 耕 start one byte before the 1 MiB boundary.
    padding = b"A" * (archive_files._PREFIX - 1 - len(head) - len(b"\nB,")) + b"\n"
    data = head + padding + "B,耕地\n".encode()
    start = data.index("耕".encode())
    assert start < archive_files._PREFIX < start + 3
    path = tmp_path / "a.csv"
    path.write_bytes(data)
    rows = list(read_archive(path))
    assert rows[-1][1] == {"item": "B", "title": "耕地"}


def test_stray_bytes_after_the_prefix_refuse_their_row_only(tmp_path: Path) -> None:
    lines = archive_files._PREFIX // 4 + 10
    path = tmp_path / "a.csv"
    path.write_bytes(
        b"item,title\n" + b"A,x\n" * lines + "B,耕地\n".encode("gb18030") + "C,耕地\n".encode()
    )
    rows = list(read_archive(path))
    assert len(rows) == lines + 2
    line, error = rows[-2]
    assert line == lines + 2
    assert isinstance(error, RowError)
    assert error.reason == "bad-encoding"
    assert rows[-1] == (lines + 3, {"item": "C", "title": "耕地"})


# XLSX


def test_xlsx_values(tmp_path: Path) -> None:
    path = _write_xlsx(
        tmp_path / "a.xlsx",
        [
            [" 事项 ", "标题", "决定日期", "文号", "subject"],
            [],
            ["LAND-01", None, date(2021, 3, 4), 12, 3.0],
            ["  MINE-02 ", "  ", datetime(2020, 11, 30, 15, 30), 2.5, True],
        ],
    )
    assert _read(path) == [
        (3, {"item": "LAND-01", "decidedOn": "2021-03-04", "document": "12", "subject": "3"}),
        (
            4,
            {"item": "MINE-02", "decidedOn": "2020-11-30", "document": "2.5", "subject": "TRUE"},
        ),
    ]


def test_xlsx_with_a_wrongly_declared_size_is_read_whole(tmp_path: Path) -> None:
    written = _write_xlsx(tmp_path / "written.xlsx", [["item", "title"], ["A"], ["B", "b"]])
    path = tmp_path / "a.xlsx"
    with zipfile.ZipFile(written) as source, zipfile.ZipFile(path, "w") as target:
        for entry in source.namelist():
            data = source.read(entry)
            if entry == "xl/worksheets/sheet1.xml":  # as some exporters write it
                data = data.replace(b"<sheetViews>", b'<dimension ref="A1"/><sheetViews>')
            target.writestr(entry, data)
    assert _read(path) == [(2, {"item": "A"}), (3, {"item": "B", "title": "b"})]


def test_xlsx_value_beyond_the_header_is_refused(tmp_path: Path) -> None:
    path = _write_xlsx(tmp_path / "a.xlsx", [["item", None], ["A", None, None], ["B", None, "?"]])
    rows = _read(path)
    assert rows[0] == (2, {"item": "A"})
    assert rows[1][0] == 3
    assert rows[1][1][0] == "bad-row"


def test_xlsx_is_closed_when_the_reader_stops_early(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _write_xlsx(tmp_path / "a.xlsx", [["item"], ["A"], ["B"]])
    opened: list[WorkbookType] = []
    closed: list[bool] = []

    def spy(*args: Any, **kwargs: Any) -> WorkbookType:
        workbook = load_workbook(*args, **kwargs)
        close = workbook.close

        def record_close() -> None:
            closed.append(True)
            close()

        workbook.close = record_close  # type: ignore[method-assign]
        opened.append(workbook)
        return workbook

    monkeypatch.setattr(archive_files, "load_workbook", spy)
    rows = read_archive(path)
    assert isinstance(rows, Generator)
    assert next(rows) == (2, {"item": "A"})
    rows.close()  # what a consumer's `break` leads to
    assert len(opened) == 1
    assert closed == [True]


def test_unreadable_xlsx_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "a.xlsx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("hello.txt", "not a workbook")
    with pytest.raises(ArchiveFormatError, match="cannot be read as XLSX"):
        list(read_archive(path))


# Format detection

ZIP = b"PK\x03\x04\x14\x00"
OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1\x00\x00"


@pytest.mark.parametrize(
    ("name", "head", "fmt"),
    [
        ("a.jsonl", b'{"item": 1}', "jsonl"),
        ("a.NDJSON", b"", "jsonl"),
        ("a.json", b'\n {"item": 1}', "jsonl"),
        ("a.csv", b"item,title", "csv"),
        ("C:\\Users\\unit\\a.CSV", "事项".encode("gb18030"), "csv"),
        ("a.xlsx", ZIP, "xlsx"),
        ("upload", ZIP, "xlsx"),
        ("upload.txt", b'\xef\xbb\xbf \r\n{"item": 1}', "jsonl"),
        ("upload", "事项,标题".encode("gb18030"), "csv"),
        ("upload.dat", b"item,title", "csv"),
    ],
)
def test_detect_format(name: str, head: bytes, fmt: str) -> None:
    assert detect_format(name, head) == fmt


@pytest.mark.parametrize(
    ("name", "head", "message"),
    [
        ("a.xls", OLE, "old-style"),
        ("a.xls", b"<html>", "old-style"),
        ("a.xlsx", OLE, "password-protected"),
        ("upload", OLE, "old-style"),
        ("a.csv", b"\xff\xfei\x00t\x00", "UTF-16"),
        ("upload", b"", "is empty"),
        ("upload", b" \r\n", "is empty"),
        ("a.xlsx", b"item,title", "not an XLSX workbook"),
        ("a.csv", ZIP, "rename it to .xlsx"),
        ("a.json", b' [{"item": 1}]', "JSON array"),
    ],
)
def test_detect_format_refuses(name: str, head: bytes, message: str) -> None:
    with pytest.raises(ArchiveFormatError, match=message):
        detect_format(name, head)


def test_read_archive_detects_by_content(tmp_path: Path) -> None:
    path = tmp_path / "upload"
    path.write_text('{"item": "A"}\n')
    assert _read(path) == [(1, {"item": "A"})]


# Memory


def test_large_csv_is_streamed(tmp_path: Path) -> None:
    count = 200_000
    path = tmp_path / "big.csv"
    row = f"LAND-01,{CODE},SERIOUS,非法占用耕地案,2021-03-04,兴自然资罚〔2021〕12号,第77条,PUBLIC\n"
    with path.open("w", encoding="utf-8") as file:
        file.write(",".join(CHINESE) + "\n")
        for _ in range(count // 1000):
            file.write(row * 1000)
    size = path.stat().st_size
    assert size > 20_000_000

    tracemalloc.start()
    try:
        seen = last = 0
        for line, record in read_archive(path):
            seen += type(record) is dict
            last = line
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert (seen, last) == (count, count + 1)
    assert peak < 5_000_000, f"peak {peak} bytes for a {size}-byte file"
