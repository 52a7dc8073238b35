"""Retention rules (retention.yaml): how long outbox events, deliveries and import reports stay,
and where their export goes before they are removed.

Pure and validated at load: a period out of range, a directory that is no folder of the hub's
file storage, or a file name that could make two kinds' exports collide stops the start.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from pathlib import Path

from policies.loader import POLICY_DIR, Document, PolicyError, Shape, load, mapping, parse
from policies.values import nonempty_text, whole

RETENTION_FILE = POLICY_DIR / "retention.yaml"
SHAPE = Shape({"periods", "export", "batch", "max_rows"})
# What a run exports, one file per kind, in the order it removes them.
KINDS = ("deliveries", "outbox-events", "import-reports", "import-rejections")
MAX_DAYS = 36500
_PERIODS = ("outbox_events", "deliveries", "dead_deliveries", "import_reports")
_FIELDS = {"kind", "first", "last", "run"}
_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")
_SAFE = re.compile(r"^[A-Za-z0-9_.{}-]+$")
_FOLDER = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*(/[A-Za-z0-9][A-Za-z0-9._-]*)*")


@dataclass(frozen=True, slots=True)
class Periods:
    outbox_events: timedelta
    deliveries: timedelta
    dead_deliveries: timedelta
    import_reports: timedelta


@dataclass(frozen=True, slots=True)
class Retention:
    periods: Periods
    directory: str  # a folder of the hub's file storage (HUB_DATA_DIR or the bucket)
    name: str  # the file name pattern, with {kind}, {first}, {last} and {run}
    batch: int  # rows per transaction
    max_rows: int  # rows of one kind per run

    def file_name(self, kind: str, first: datetime, last: datetime, run: datetime) -> str:
        """The export's file name: by kind, the time range of its rows, and the run."""
        return self.name.format(kind=kind, first=stamp(first), last=stamp(last), run=stamp(run))


def stamp(moment: datetime) -> str:
    """A moment as it appears in file names: UTC, to the second, no separators to escape."""
    return moment.strftime("%Y%m%dT%H%M%SZ")


def _directory(value: object) -> str:
    """A folder of the hub's file storage: '/'-separated parts of letters, digits, '.', '_'
    and '-', each starting with a letter or digit (what a storage key may be made of)."""
    text = nonempty_text(value, "export.directory")
    if not _FOLDER.fullmatch(text):
        raise PolicyError(
            "export.directory: a folder of the hub's storage, such as retention"
            " ('/'-separated parts of letters, digits, '.', '_', '-')"
        )
    return text


def _name(value: object) -> str:
    text = nonempty_text(value, "export.name")
    where = "export.name"
    if not _SAFE.match(text):
        raise PolicyError(f"{where}: letters, digits, '-', '_', '.' and placeholders only")
    used = _PLACEHOLDER.findall(text)
    if unknown := sorted(set(used) - _FIELDS):
        raise PolicyError(f"{where}: unknown placeholder {', '.join(unknown)}")
    if missing := sorted(_FIELDS - set(used)):
        # Without each of them two exports could share a name and one overwrite the other.
        raise PolicyError(f"{where}: must hold {{{'}, {'.join(missing)}}}")
    if not text.endswith(".jsonl.gz"):
        raise PolicyError(f"{where}: must end with .jsonl.gz (the files are gzipped JSON Lines)")
    return text


def validate(raw: Document) -> Retention:
    periods = mapping(raw["periods"], "periods", _PERIODS)
    export = mapping(raw["export"], "export", ("directory", "name"))
    days = {k: whole(periods[k], f"periods.{k}", 1, MAX_DAYS) for k in _PERIODS}
    return Retention(
        periods=Periods(**{k: timedelta(days=v) for k, v in days.items()}),
        directory=_directory(export["directory"]),
        name=_name(export["name"]),
        batch=whole(raw["batch"], "batch", 10, 10_000),
        max_rows=whole(raw["max_rows"], "max_rows", 100, 10_000_000),
    )


def parse_retention(text: str, source: str = "retention.yaml") -> Retention:
    return parse(text, source, SHAPE, validate)


def load_retention(path: Path = RETENTION_FILE) -> Retention:
    return load(path, SHAPE, validate)


@cache
def default_retention() -> Retention:
    return load_retention()
