"""Pull connectors: fetch an outside list over HTTP (JSON or CSV), and apply it: a listing as a
snapshot (graph/exchange/feeds.py), case documents to their cases (graph/cases/court_documents.py).

The fetch sends the last ``ETag`` back (``If-None-Match``), so an unchanged list costs one
304; bodies are capped in size, decoded with the feed's encoding (a UTF-8 byte-order mark is
dropped) and parsed into records. What a run did is kept in Redis for ``hub feeds list`` and the
next run's ``ETag``; the listings themselves carry their provenance in the graph.
"""

from __future__ import annotations

import csv
import io
import json
import time
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime
from functools import cache
from pathlib import Path
from typing import Any

import httpx
import redis.asyncio as aioredis
from redis.typing import EncodableT, FieldT

from connectors.config import configured
from graph.cases.court_documents import apply_court_documents
from graph.cases.court_rows import feed_rows, parse_court_rows
from graph.db import Store
from graph.exchange.feeds import FeedReport, apply_snapshot, parse_rows
from policies.cases import default_cases
from policies.credit.feeds import CASE_DOCUMENTS, Feed, default_feeds, load_feeds
from policies.credit.measures import Catalogue

MAX_BYTES = 64 * 1024 * 1024
STATE = "hub:feed:{code}"  # Redis hash: etag, last run's outcome, next due time


def _text(value: bytes | str | None) -> str | None:
    return value.decode() if isinstance(value, bytes) else value


class FeedFetchError(RuntimeError):
    """The list could not be fetched or read; nothing was applied."""


def feeds() -> dict[str, Feed]:
    """The feeds this process was configured with (``HUB_FEEDS_FILE``, or policies/feeds.yaml)."""
    return read_feeds(configured().feeds_file)


@cache
def read_feeds(path: Path | None) -> dict[str, Feed]:
    """policies/feeds.yaml, or the file ``path``, validated once."""
    if path is None:
        return default_feeds()
    return load_feeds(path)


@dataclass(frozen=True, slots=True)
class Fetched:
    status: int  # 200, or 304 when unchanged
    records: list[dict[str, Any]]
    etag: str | None


def records_of(feed: Feed, body: bytes) -> list[dict[str, Any]]:
    """The list's records: a JSON array (or ``{"data": [...]}``), or CSV with a header row."""
    try:
        text = body.decode(feed.encoding).removeprefix("\ufeff")
    except UnicodeDecodeError as exc:
        raise FeedFetchError(f"the list is not {feed.encoding}: {exc}") from None
    if feed.format == "csv":
        return [dict(row) for row in csv.DictReader(io.StringIO(text))]
    try:
        parsed = json.loads(text)
    except ValueError as exc:
        raise FeedFetchError(f"the list is not JSON: {exc}") from None
    if isinstance(parsed, dict) and isinstance(parsed.get("data"), list):
        parsed = parsed["data"]
    if not isinstance(parsed, list) or not all(isinstance(r, dict) for r in parsed):
        raise FeedFetchError("the list is not an array of objects")
    return parsed


async def fetch(http: httpx.AsyncClient, feed: Feed, etag: str | None) -> Fetched:
    headers = {"If-None-Match": etag} if etag else {}
    try:
        async with http.stream("GET", feed.url, headers=headers, timeout=60) as response:
            if response.status_code == 304:
                return Fetched(304, [], etag)
            if response.status_code != 200:
                raise FeedFetchError(f"{feed.url} answered HTTP {response.status_code}")
            chunks, size = [], 0
            async for chunk in response.aiter_bytes():
                size += len(chunk)
                if size > MAX_BYTES:
                    raise FeedFetchError(f"the list is over {MAX_BYTES} bytes")
                chunks.append(chunk)
            return Fetched(200, records_of(feed, b"".join(chunks)), response.headers.get("etag"))
    except httpx.HTTPError as exc:
        raise FeedFetchError(f"{feed.url}: {type(exc).__name__}: {exc}") from None


async def _documents(store: Store, feed: Feed, records: list[dict[str, Any]]) -> FeedReport:
    """A feed of case documents: each row attached to its case or queued for a person."""
    rules = default_cases()
    rows, rejected = parse_court_rows(feed_rows(feed, records), rules)
    done = await apply_court_documents(
        store, rows, rejected, f"FEED:{feed.code}", rules, datetime.now(UTC)
    )
    return FeedReport(
        feed.code,
        rows=done.rows,
        unchanged=done.unchanged,
        attached=done.attached,
        queued=done.queued,
        rejected=done.rejected,
    )


async def pull(
    store: Store,
    redis: aioredis.Redis,
    http: httpx.AsyncClient,
    catalogue: Catalogue,
    feed: Feed,
    today: date,
) -> FeedReport:
    """Fetch and apply one feed now; its state (ETag, outcome, next run) goes to Redis."""
    key = STATE.format(code=feed.code)
    etag = _text(await redis.hget(key, "etag"))
    started = time.time()
    state: dict[FieldT, EncodableT] = {"lastRun": started, "next": started + feed.every_seconds}
    try:
        fetched = await fetch(http, feed, etag)
    except FeedFetchError as exc:
        await redis.hset(key, mapping={**state, "outcome": f"failed: {exc}"})
        raise
    if fetched.status == 304:
        report = FeedReport(feed.code, note="not modified")
    else:
        if feed.carries == CASE_DOCUMENTS:
            report = await _documents(store, feed, fetched.records)
        else:
            rows, rejected = parse_rows(feed, fetched.records)
            report = await apply_snapshot(store, catalogue, feed, rows, rejected, today)
        if fetched.etag:
            state["etag"] = fetched.etag
    summary = {k: v for k, v in asdict(report).items() if k not in ("events", "rejected")}
    summary["rejected"] = len(report.rejected)
    await redis.hset(key, mapping={**state, "outcome": json.dumps(summary, ensure_ascii=False)})
    return report


async def feeds_due(redis: aioredis.Redis, now: float) -> list[Feed]:
    """Enabled feeds whose next run has come."""
    ready = []
    for feed in feeds().values():
        if not feed.enabled:
            continue
        following = _text(await redis.hget(STATE.format(code=feed.code), "next"))
        if following is None or float(following) <= now:
            ready.append(feed)
    return ready
