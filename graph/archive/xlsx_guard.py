"""An XLSX is a zip: before any XML parser touches one, its central directory must promise
a bounded amount of work.

A zip bomb is a small file whose entries inflate to gigabytes, or a directory of millions of
tiny entries. Python's zipfile never inflates an entry past the size the central directory
declares for it, so checking those declared sizes bounds what openpyxl can ever decompress.
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

MAX_UNCOMPRESSED = 200 * 1024 * 1024  # all entries together, inflated
MAX_ENTRIES = 10_000
MAX_RATIO = 100  # inflated / compressed, per entry; real workbooks stay far below
_RATIO_FLOOR = 1024 * 1024  # entries smaller than this are not judged by their ratio


class UnsafeWorkbook(ValueError):
    """A workbook that would cost more to read than the limits allow. ``reason`` is a stable
    code; the message says what the unit can do about it."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class XlsxLimits:
    max_uncompressed: int = MAX_UNCOMPRESSED
    max_entries: int = MAX_ENTRIES
    max_ratio: int = MAX_RATIO


DEFAULT_LIMITS = XlsxLimits()


def check_workbook(file: Path | BinaryIO, name: str, limits: XlsxLimits) -> None:
    """Raise :class:`UnsafeWorkbook` unless the zip's central directory stays within
    ``limits``. Reads only the directory: nothing is inflated."""
    try:
        with zipfile.ZipFile(file) as archive:
            entries = archive.infolist()
    except (zipfile.BadZipFile, OSError) as exc:
        raise UnsafeWorkbook(
            "not-a-workbook", f"{name} cannot be read as XLSX ({exc}): save it again"
        ) from None
    if len(entries) > limits.max_entries:
        raise UnsafeWorkbook(
            "too-many-entries",
            f"{name} holds {len(entries)} zip entries, more than {limits.max_entries}: "
            "a workbook has a few dozen; save it again from Excel or WPS, or send CSV",
        )
    total = sum(entry.file_size for entry in entries)
    if total > limits.max_uncompressed:
        raise UnsafeWorkbook(
            "too-large-uncompressed",
            f"{name} unpacks to {total // (1024 * 1024)} MB, more than "
            f"{limits.max_uncompressed // (1024 * 1024)} MB: split it into several files",
        )
    for entry in entries:
        if entry.file_size > _RATIO_FLOOR and (
            entry.file_size > limits.max_ratio * max(entry.compress_size, 1)
        ):
            raise UnsafeWorkbook(
                "compression-ratio",
                f"{name}: its part {entry.filename} is compressed more than "
                f"{limits.max_ratio} to 1, which no spreadsheet is: save it again from Excel "
                "or WPS, or send CSV",
            )
