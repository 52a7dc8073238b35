"""A bulk load's rows validated and encoded as CSV fields, in worker processes.

Validation (``parse_row``: pinyin keys, resident IDs, the catalogue's terms) and encoding are
most of a bulk load's Python, and each row needs nothing from the others: worker processes do
them, a chunk of rows at a time, while the loading process keeps what needs every row (keys
seen, contacts, newest ratings) and writes the files (graph/archive/bulk.py).
"""

from __future__ import annotations

import gc
import multiprocessing
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from datetime import date, datetime
from itertools import islice
from typing import Any, NamedTuple

from graph.archive.row_fields import Rejection, RowError
from graph.archive.rows import parse_row

ARRAY_DELIMITER = "\x1f"  # the unit separator: never in a validated value
CHUNK = 1000  # rows sent to a worker at a time
_AHEAD = 3  # chunks in flight per worker: enough to keep it busy, few enough to bound memory


class Prepared(NamedTuple):
    """A valid row: what the loader checks (its key, what it refers to) and its properties as
    importer columns (``name:type``) and CSV fields."""

    line: int
    kind: str
    refs: dict[str, Any]  # the row's parameters but its properties
    role: str | None  # a relation's role: part of which relation it is
    columns: tuple[str, ...]
    cells: str  # each field led by its comma: what follows the key on the CSV line
    empty: tuple[str, ...]  # properties that are empty lists (the importer cannot write them)
    rating: tuple[tuple[bool, datetime], tuple[str, ...], str] | None


def quoted(text: str) -> str:
    """A CSV field for a string: always quoted, so an empty string stays a value."""
    return '"' + text.replace('"', '""') + '"'


def _moment(value: datetime) -> tuple[str, str]:
    return ("localdatetime" if value.tzinfo is None else "datetime"), value.isoformat()


_SCALARS: dict[type, Callable[[Any], tuple[str, str]]] = {
    str: lambda v: ("string", quoted(v)),
    bool: lambda v: ("boolean", "true" if v else "false"),
    int: lambda v: ("long", str(v)),
    float: lambda v: ("double", repr(v)),
    date: lambda v: ("date", v.isoformat()),
    datetime: _moment,
    list: lambda v: ("string[]", quoted(ARRAY_DELIMITER.join(v))),
}


_columns: dict[tuple[str, ...], tuple[str, ...]] = {}


def encode(props: dict[str, Any]) -> tuple[tuple[str, ...], str, tuple[str, ...]]:
    """Importer columns and CSV fields (each led by its comma) of the non-null properties, and
    the empty lists. A worker's columns are one object per set of them: a chunk of results
    pickles each set once."""
    columns, cells, empty = [], [], []
    for name, value in props.items():
        if value is None:
            continue
        if value == []:
            empty.append(name)
            continue
        encoder = _SCALARS.get(type(value))
        if encoder is None or (type(value) is list and not all(type(v) is str for v in value)):
            raise TypeError(f"{name}: no importer type for {type(value).__name__}")
        kind, cell = encoder(value)
        columns.append(f"{name}:{kind}")
        cells.append("," + cell)
    named = tuple(columns)
    return _columns.setdefault(named, named), "".join(cells), tuple(empty)


def newest(moment: datetime) -> tuple[bool, datetime]:
    """A rating time's place in Cypher's ``ORDER BY computedAt DESC`` (how reads and ingest
    pick a subject's rating): a local date-time before any zoned one, then the latest."""
    return moment.tzinfo is None, moment


def prepare(line: int, raw: Any, secret: bytes) -> Prepared | Rejection:
    try:
        if isinstance(raw, RowError):
            raise raw
        row = parse_row(raw, secret)
    except RowError as exc:
        return Rejection(line, exc.reason, str(exc))
    refs = dict(row.params)
    props = refs.pop("props")
    if row.kind == "Sanction":
        props = {**props, "authority": refs["authority"]}
    rating = None
    if row.kind == "Rating":
        rated = {k: props[k] for k in ("grade", "score")} | {"ratedAt": props["computedAt"]}
        rating = (newest(props["computedAt"]), *encode(rated)[:2])
    columns, cells, empty = encode(props)
    return Prepared(line, row.kind, refs, props.get("role"), columns, cells, empty, rating)


_secret = b""  # a worker's PII key, set once when it starts


def _start_worker(secret: bytes) -> None:
    global _secret
    _secret = secret
    gc.disable()  # a worker makes no cycles, and lives for one load


def _prepare_chunk(chunk: list[tuple[int, Any]]) -> list[Prepared | Rejection]:
    return [prepare(line, raw, _secret) for line, raw in chunk]


def _chunks(rows: Iterable[Any]) -> Iterator[list[tuple[int, Any]]]:
    numbered = ((n, raw) for n, raw in enumerate(rows, start=1) if raw is not None)
    while chunk := list(islice(numbered, CHUNK)):
        yield chunk


def prepared(rows: Iterable[Any], secret: bytes, workers: int) -> Iterator[Prepared | Rejection]:
    """Each row (``None`` for a blank line) validated and encoded, in order, by ``workers``
    processes (in this one when ``workers`` is 1). Rows are read only a few chunks ahead."""
    if workers <= 1:
        for chunk in _chunks(rows):
            yield from (prepare(line, raw, secret) for line, raw in chunk)
        return
    # Spawned, not forked: the loading process has threads (its progress display).
    context = multiprocessing.get_context("spawn")
    with context.Pool(workers, initializer=_start_worker, initargs=(secret,)) as pool:
        pending: deque[Any] = deque()
        for chunk in _chunks(rows):
            pending.append(pool.apply_async(_prepare_chunk, (chunk,)))
            if len(pending) >= _AHEAD * workers:
                yield from pending.popleft().get()
        while pending:
            yield from pending.popleft().get()
