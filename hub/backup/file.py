"""The backup file: gzip-compressed JSON Lines, a header first and a manifest last.

::

    {"format": "hub-backup", "version": 1, "created": ..., "schema": {...}, "generation": 7}
    {"node": "4:…:0", "labels": ["Subject"], "props": {...}}          every node
    {"rel": "HOLDS", "from": "4:…:0", "to": "4:…:9", "props": {...}}  every relationship
    {"redis": "hub:audit", "entry": ["1700000000000-0", {...}]}     the kept Redis state
    {"end": {"nodes": 1, "relationships": 1, "labels": {...}, "types": {...}, "redis": {...}}}

A file is written under a ``.partial`` name and renamed once complete, so a file with the
final name is a whole backup. A restore reads it through once (:func:`check_file`) before it
touches the store: a damaged or truncated file is refused with the line at fault.
"""

from __future__ import annotations

import gzip
import json
import zlib
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from graph.backup.values import BadValue, decode_props

FORMAT, VERSION = "hub-backup", 1


class BadBackup(ValueError):
    """The file is not a whole backup this hub can read; the message says where and why."""


@dataclass(slots=True)
class Tally:
    """What a backup holds, counted while it is written and again while it is read."""

    nodes: int = 0
    relationships: int = 0
    labels: Counter[str] = field(default_factory=Counter)
    types: Counter[str] = field(default_factory=Counter)
    redis: Counter[str] = field(default_factory=Counter)

    def add(self, line: dict[str, Any]) -> None:
        if "node" in line:
            self.nodes += 1
            self.labels.update(line["labels"])
        elif "rel" in line:
            self.relationships += 1
            self.types[line["rel"]] += 1
        else:
            self.redis[line["redis"]] += 1

    def as_dict(self) -> dict[str, Any]:
        return {
            "nodes": self.nodes,
            "relationships": self.relationships,
            "labels": dict(sorted(self.labels.items())),
            "types": dict(sorted(self.types.items())),
            "redis": dict(sorted(self.redis.items())),
        }


class Writer:
    """Lines into ``path.partial``; :meth:`commit` adds the manifest and renames the file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.partial = path.with_name(path.name + ".partial")
        self.tally = Tally()
        # Open across calls: commit() or discard() closes it.
        self._out: IO[str] = gzip.open(  # noqa: SIM115
            self.partial, "wt", encoding="utf-8", compresslevel=3
        )

    def header(self, header: dict[str, Any]) -> None:
        self._write({"format": FORMAT, "version": VERSION, **header})

    def line(self, line: dict[str, Any]) -> None:
        self.tally.add(line)
        self._write(line)

    def _write(self, line: dict[str, Any]) -> None:
        self._out.write(json.dumps(line, ensure_ascii=False, separators=(",", ":")))
        self._out.write("\n")

    def commit(self) -> None:
        self._write({"end": self.tally.as_dict()})
        self._out.close()
        self.partial.rename(self.path)

    def discard(self) -> None:
        self._out.close()
        self.partial.unlink(missing_ok=True)


def lines(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """Every line of a backup with its number, as JSON; :class:`BadBackup` when unreadable."""
    number = 0
    try:
        with gzip.open(path, "rt", encoding="utf-8") as handle:
            for number, text in enumerate(handle, 1):
                value = json.loads(text)
                if not isinstance(value, dict):
                    raise BadBackup(f"{path}, line {number}: not a JSON object")
                yield number, value
    except (OSError, EOFError, zlib.error) as exc:
        raise BadBackup(f"{path}: not a readable gzip file after line {number} ({exc})") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise BadBackup(f"{path}, line {number + 1}: not JSON ({exc})") from None


def _check_line(line: dict[str, Any]) -> None:
    if "node" in line:
        ok = isinstance(line["node"], str) and isinstance(line.get("labels"), list)
        ok = ok and all(isinstance(label, str) and label for label in line["labels"])
        decode_props(line.get("props"))
    elif "rel" in line:
        ok = all(isinstance(line.get(k), str) and line[k] for k in ("rel", "from", "to"))
        decode_props(line.get("props"))
    elif "redis" in line:
        entry = line.get("entry")
        ok = isinstance(line["redis"], str) and (
            (isinstance(entry, list) and len(entry) == 2 and isinstance(entry[1], dict))
            or isinstance(line.get("hash"), dict)
            or isinstance(line.get("string"), str)
        )
    else:
        ok = False
    if not ok:
        raise BadValue("not a node, relationship or Redis line")


def check_file(path: Path) -> tuple[dict[str, Any], Tally]:
    """Read the whole file: its header and what it holds, the manifest checked against the
    lines. :class:`BadBackup` names the first line at fault."""
    if not path.is_file():
        raise BadBackup(f"{path} is not a file")
    header: dict[str, Any] | None = None
    tally, end = Tally(), None
    for number, line in lines(path):
        if header is None:
            if line.get("format") != FORMAT:
                raise BadBackup(f"{path} is not a hub backup (no header on line 1)")
            if line.get("version") != VERSION:
                raise BadBackup(f"{path}: backup format {line.get('version')}, this hub reads 1")
            header = line
        elif end is not None:
            raise BadBackup(f"{path}, line {number}: lines after the manifest")
        elif "end" in line:
            end = line["end"]
        else:
            try:
                _check_line(line)
            except BadValue as exc:
                raise BadBackup(f"{path}, line {number}: {exc}") from None
            tally.add(line)
    if header is None or end is None:
        raise BadBackup(f"{path} ends before its manifest: the backup is incomplete")
    if end != tally.as_dict():
        raise BadBackup(f"{path}: the manifest does not match the lines (a damaged file)")
    return header, tally
