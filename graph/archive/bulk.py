"""Files for Neo4j's bulk importer (``neo4j-admin database import full``) from exchange rows.

An empty store loads far faster this way than through the transactions and ``MERGE`` writes of
graph/archive/ingest.py, which keep indexes up to date row by row. The rows are the same
(docs/data-format.md), each validated by ``parse_row`` and refused with the same reasons, and
they give the same graph (tests/hub/test_bulk_load.py compares the two). Two rules are
stricter, since nothing is merged: each node and relation comes once (a file that updates
earlier rows goes through ``hub import``), and a row refers only to rows on earlier lines.
"""

from __future__ import annotations

import gc
import pickle
from collections.abc import Callable, Iterable
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import IO, Any

from neo4j import AsyncManagedTransaction

from graph.archive.bulk_rows import Prepared, prepared, quoted
from graph.archive.ingest import ENDPOINTS, ImportReport
from graph.archive.row_fields import Rejection
from graph.db import Store
from graph.migrations import KEYS as MIGRATION_KEYS

# The kinds of node a row defines, each with its key (the uniqueness constraints).
_DEFINED = ("Agency", "Project", "Subject", "Person", "Licence", "CreditRecord", "Sanction")
KEYS = {label: MIGRATION_KEYS[label] for label in (*_DEFINED, "Rating")}
CONTACTS = {
    "phones": ("Phone", "HAS_PHONE"),
    "addresses": ("Address", "HAS_ADDRESS"),
    "emails": ("Email", "HAS_EMAIL"),
}
# What a node that hangs off others needs: (parameter, label) of each anchor, as ingest's MATCH.
ANCHORS = {
    "Licence": (("holder", "Subject"), ("issuer", "Agency")),
    "CreditRecord": (("subject", "Subject"), ("agency", "Agency")),
    "Sanction": (("subject", "Subject"), ("authority", "Agency")),
    "Rating": (("subject", "Subject"),),
}
# Its links, as ingest writes them: (type, anchor parameter, its label, whether it starts it).
LINKS = {
    "Licence": (("HOLDS", "holder", "Subject", True), ("ISSUED", "issuer", "Agency", True)),
    "CreditRecord": (
        ("HAS_RECORD", "subject", "Subject", True),
        ("SUBMITTED", "agency", "Agency", True),
    ),
    "Sanction": (("SANCTIONED", "subject", "Subject", False),),
    "Rating": (("RATED", "subject", "Subject", False),),
}
_ENDPOINTS = {kind: label for kind, (label, _key) in ENDPOINTS.items()}
_SEEN = ("firstSeen:datetime", "lastSeen:datetime")


@dataclass(frozen=True, slots=True)
class Source:
    """One CSV file of the import: nodes of a label or relationships of a type."""

    option: str  # "nodes" or "relationships"
    name: str  # the label or the relationship type
    path: Path


@dataclass(slots=True)
class _Out:
    """One open CSV file and its lines not yet written (written a thousand at a time)."""

    handle: IO[str]
    path: Path
    lines: list[str] = field(default_factory=list)
    multiline: bool = False  # a value holds a line break

    def flush(self) -> None:
        text = "\n".join(self.lines) + "\n"
        if "\r" in text or text.count("\n") != len(self.lines):
            self.multiline = True
        self.handle.write(text)
        self.lines.clear()


@dataclass(slots=True)
class _Files:
    """CSV files opened on first use, one per label (or type and ends) and set of columns."""

    directory: Path
    stack: ExitStack
    seen: str  # the fields of firstSeen and lastSeen (when this load ran), each led by a comma
    sources: list[Source] = field(default_factory=list)
    outs: dict[tuple[Any, ...], _Out] = field(default_factory=dict)

    def write(
        self, key: tuple[Any, ...], source: tuple[str, str], header: tuple[str, ...], line: str
    ) -> None:
        out = self.outs.get(key)
        if out is None:
            path = self.directory / f"{len(self.outs):03d}-{source[1].lower()}.csv"
            out = _Out(self.stack.enter_context(path.open("w", encoding="utf-8", newline="")), path)
            out.handle.write(",".join(header) + "\n")
            self.outs[key] = out
            self.sources.append(Source(source[0], source[1], path))
        out.lines.append(line)
        if len(out.lines) >= 1000:
            out.flush()

    def close(self) -> frozenset[Path]:
        """Write what is left; the files with a line break in a value."""
        for out in self.outs.values():
            if out.lines:
                out.flush()
        return frozenset(out.path for out in self.outs.values() if out.multiline)

    def node(self, label: str, key: str, columns: tuple[str, ...], cells: str) -> None:
        """A node: its key, then its properties' fields (and when it was loaded)."""
        if label in KEYS:
            columns, cells = columns + _SEEN, cells + self.seen
        header = (f"{MIGRATION_KEYS[label]}:ID({label})", *columns)
        self.write(("node", label, columns), ("nodes", label), header, quoted(key) + cells)

    def relationship(
        self,
        rel_type: str,
        start: tuple[str, str],
        end: tuple[str, str],
        columns: tuple[str, ...] = (),
        cells: str = "",
    ) -> None:
        """A relationship from ``start`` to ``end``, each a (label, key)."""
        line = quoted(start[1]) + "," + quoted(end[1]) + cells
        header = (f":START_ID({start[0]})", f":END_ID({end[0]})", *columns)
        key = ("rel", rel_type, start[0], end[0], columns)
        self.write(key, ("relationships", rel_type), header, line)


@dataclass(frozen=True, slots=True)
class BulkFiles:
    """The files written, which of them hold a value with a line break (the importer reads
    those, and only those, the slower way that allows it), and the empty lists left out."""

    sources: tuple[Source, ...]
    multiline: frozenset[Path]
    empty_lists: tuple[tuple[str, str, str], ...]  # (label, key, property) to set to []

    def arguments(self) -> list[str]:
        """The importer's options for these files."""
        options = [f"--{s.option}={s.name}={s.path}" for s in self.sources]
        if self.multiline:
            paths = ",".join(sorted(str(p) for p in self.multiline))
            options += ["--multiline-fields-format=v2", f"--multiline-fields={paths}"]
        return options


@dataclass(slots=True)
class _State:
    """What the rows so far defined: keys by label, relations, contacts, newest ratings."""

    keys: dict[str, set[str]] = field(default_factory=lambda: {label: set() for label in KEYS})
    relations: set[tuple[str, str, str, Any]] = field(default_factory=set)
    contacts: dict[str, set[str]] = field(
        default_factory=lambda: {label: set() for label, _ in CONTACTS.values()}
    )
    rated: dict[str, Any] = field(default_factory=dict)  # subject → its newest rating's fields
    empty: list[tuple[str, str, str]] = field(default_factory=list)


def _unknown(line: int, label: str) -> Rejection:
    return Rejection(
        line,
        "unknown-reference",
        f"{label} refers to a subject, person, agency, project or record not defined on an "
        "earlier line",
    )


def _refused(state: _State, row: Prepared) -> Rejection | None:
    """Why a row that repeats a key or refers to what no earlier line defined is refused."""
    refs, kind = row.refs, row.kind
    if kind in KEYS:
        if refs["key"] in state.keys[kind]:
            return Rejection(
                row.line,
                "duplicate-key",
                f"{kind} {refs['key']} is already defined on an earlier line: a bulk load takes "
                "each once (load into a running store with `hub import` to update rows)",
            )
        if any(
            refs[parameter] not in state.keys[label] for parameter, label in ANCHORS.get(kind, ())
        ):
            return _unknown(row.line, kind)
        if kind == "Sanction" and not set(refs["basedOn"]) <= state.keys["CreditRecord"]:
            return _unknown(row.line, kind)
        return None
    rel_type, start, end = kind.split(":")
    if (
        refs["from"] not in state.keys[_ENDPOINTS[start]]
        or refs["to"] not in state.keys[_ENDPOINTS[end]]
    ):
        return _unknown(row.line, rel_type)
    if (kind, refs["from"], refs["to"], row.role) in state.relations:
        return Rejection(
            row.line, "duplicate-key", f"this {rel_type} is already defined on an earlier line"
        )
    return None


def _write(files: _Files, state: _State, row: Prepared, subjects: _SetAside) -> None:
    refs, kind = row.refs, row.kind
    if kind not in KEYS:
        rel_type, start, end = kind.split(":")
        state.relations.add((kind, refs["from"], refs["to"], row.role))
        files.relationship(
            rel_type,
            (_ENDPOINTS[start], refs["from"]),
            (_ENDPOINTS[end], refs["to"]),
            row.columns + _SEEN,
            row.cells + files.seen,
        )
        return
    key = refs["key"]
    state.keys[kind].add(key)
    state.empty.extend((kind, key, name) for name in row.empty)
    if kind == "Subject":
        # Written at the end, with its newest rating's grade and score (as ingest sets them).
        subjects.add((key, row.columns, row.cells))
    else:
        files.node(kind, key, row.columns, row.cells)
    for rel_type, parameter, anchor, outgoing in LINKS.get(kind, ()):
        other = (anchor, refs[parameter])
        ends = (other, (kind, key)) if outgoing else ((kind, key), other)
        files.relationship(rel_type, *ends)
    if kind == "Sanction":
        for record in refs["basedOn"]:
            files.relationship("BASED_ON", (kind, key), ("CreditRecord", record))
    if row.rating is not None:
        old = state.rated.get(refs["subject"])
        if old is None or row.rating[0] > old[0]:
            state.rated[refs["subject"]] = row.rating
    for name, (label, rel_type) in CONTACTS.items():
        for value in refs.get(name, ()):
            if value not in state.contacts[label]:
                state.contacts[label].add(value)
                files.node(label, value, (), "")
            files.relationship(rel_type, (kind, key), (label, value))


@dataclass(slots=True)
class _SetAside:
    """Subjects kept on disk until their newest rating is known, pickled a thousand at a time."""

    handle: IO[bytes]
    batch: list[Any] = field(default_factory=list)

    def add(self, subject: tuple[str, tuple[str, ...], str]) -> None:
        self.batch.append(subject)
        if len(self.batch) >= 1000:
            self.flush()

    def flush(self) -> None:
        pickle.dump(self.batch, self.handle, protocol=pickle.HIGHEST_PROTOCOL)
        self.batch = []


def _write_subjects(files: _Files, path: Path, rated: dict[str, Any]) -> None:
    """The subjects set aside while writing, each with its newest rating's grade and score."""
    with path.open("rb") as handle:
        while True:
            try:
                batch = pickle.load(handle)
            except EOFError:
                return
            for key, columns, cells in batch:
                if key in rated:
                    _order, more_columns, more_cells = rated[key]
                    columns, cells = columns + more_columns, cells + more_cells
                files.node("Subject", key, columns, cells)


def write_bulk_files(
    rows: Iterable[Any],
    secret: bytes,
    directory: Path,
    now: datetime,
    progress: Callable[[ImportReport], None] | None = None,
    *,
    workers: int = 1,
    every: int = 50_000,
) -> tuple[ImportReport, BulkFiles]:
    """Validate ``rows`` (decoded JSON values, ``None`` for a blank line) into CSV files under
    ``directory``, with ``workers`` processes validating; the report of every row, and the
    files for the importer."""
    directory.mkdir(parents=True, exist_ok=True)
    # The keys, relations and ratings kept grow to millions of objects, which the cycle
    # collector would walk again and again (the rate fell from 21k to 13k rows/s over 7.9 M
    # rows); nothing here makes a cycle.
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _write_all(rows, secret, directory, now, progress, workers, every)
    finally:
        if collecting:
            gc.enable()


def _write_all(
    rows: Iterable[Any],
    secret: bytes,
    directory: Path,
    now: datetime,
    progress: Callable[[ImportReport], None] | None,
    workers: int,
    every: int,
) -> tuple[ImportReport, BulkFiles]:
    report, state = ImportReport(), _State()
    set_aside = directory / "subjects.pickle"
    with ExitStack() as stack:
        files = _Files(directory, stack, f",{now.isoformat()}" * 2)
        subjects = _SetAside(stack.enter_context(set_aside.open("wb")))
        for row in prepared(rows, secret, workers):
            report.read += 1
            refused = row if isinstance(row, Rejection) else _refused(state, row)
            if refused is not None:
                report.rejected.append(refused)
            else:
                assert isinstance(row, Prepared)
                _write(files, state, row, subjects)
                report.accepted += 1
                label = row.kind.split(":", 1)[0]
                report.by_kind[label] = report.by_kind.get(label, 0) + 1
            if progress is not None and report.read % every == 0:
                progress(report)
        subjects.flush()
        subjects.handle.close()
        _write_subjects(files, set_aside, state.rated)
        multiline = files.close()
    set_aside.unlink()
    if progress is not None:
        progress(report)
    report.rejected.sort(key=lambda r: r.line)
    loaded = BulkFiles(tuple(files.sources), multiline, tuple(state.empty))
    return report, loaded


# What the importer cannot write, set on the imported nodes (once the key indexes exist).
SET_PROPERTIES = {
    label: f"UNWIND $rows AS row MATCH (n:{label} {{{key}: row.key}}) SET n += row.props"
    for label, key in KEYS.items()
}
_FINISH_BATCH = 5000


async def finish(store: Store, files: BulkFiles) -> int:
    """Set the empty lists the import left out; how many values it set."""
    by_label: dict[str, list[dict[str, Any]]] = {}
    for label, key, prop in files.empty_lists:
        by_label.setdefault(label, []).append({"key": key, "props": {prop: []}})

    async def work(tx: AsyncManagedTransaction, label: str, rows: list[dict[str, Any]]) -> None:
        await (await tx.run(SET_PROPERTIES[label], rows=rows)).consume()

    for label, rows in by_label.items():
        for start in range(0, len(rows), _FINISH_BATCH):
            await store.write(work, label, rows[start : start + _FINISH_BATCH])
    return len(files.empty_lists)
