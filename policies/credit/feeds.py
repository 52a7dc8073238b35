"""The outside lists the hub pulls (feeds.yaml): where, in which format, which listing they
carry, how often, and which of their columns hold what. Validated at load, so a feed with a
missing column map or an unknown listing stops the start with the entry named."""

from __future__ import annotations

import codecs
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

from policies.credit.listings import LISTINGS

FEEDS_FILE = Path(__file__).resolve().parent.parent / "feeds.yaml"
COLUMNS = ("id", "creditCode", "name", "startDate", "endDate", "document", "authority")
REQUIRED = ("id", "creditCode", "startDate")


class FeedsConfigError(ValueError):
    """The feeds file is wrong; the message names the entry."""


@dataclass(frozen=True, slots=True)
class Feed:
    code: str
    name: str
    url: str
    format: str  # json or csv
    encoding: str
    listing: str
    every_seconds: int
    enabled: bool
    columns: dict[str, str | None]  # our field → their column (None: not given)


def _feed(code: str, raw: Any, source: str) -> Feed:
    where = f"{source}: feeds.{code}"
    keys = {"name", "url", "format", "encoding", "listing", "every_seconds", "enabled", "columns"}
    if not isinstance(raw, dict) or set(raw) != keys:
        raise FeedsConfigError(f"{where}: needs {sorted(keys)}")
    parts = urlsplit(str(raw["url"]))
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise FeedsConfigError(f"{where}.url: an absolute http(s) URL")
    if raw["format"] not in ("json", "csv"):
        raise FeedsConfigError(f"{where}.format: json or csv")
    try:
        codecs.lookup(str(raw["encoding"]))
    except LookupError:
        raise FeedsConfigError(f"{where}.encoding: unknown encoding") from None
    if raw["listing"] not in LISTINGS:
        raise FeedsConfigError(f"{where}.listing: one of {', '.join(LISTINGS)}")
    every = raw["every_seconds"]
    if not isinstance(every, int) or isinstance(every, bool) or not 60 <= every <= 7 * 86400:
        raise FeedsConfigError(f"{where}.every_seconds: 60 to 604800")
    if not isinstance(raw["enabled"], bool):
        raise FeedsConfigError(f"{where}.enabled: true or false")
    columns = raw["columns"]
    if not isinstance(columns, dict) or set(columns) != set(COLUMNS):
        raise FeedsConfigError(f"{where}.columns: maps each of {', '.join(COLUMNS)}")
    for field in REQUIRED:
        if not isinstance(columns[field], str) or not columns[field]:
            raise FeedsConfigError(f"{where}.columns.{field}: the column that holds it")
    return Feed(
        code,
        str(raw["name"]),
        str(raw["url"]),
        raw["format"],
        str(raw["encoding"]),
        raw["listing"],
        every,
        raw["enabled"],
        {k: (str(v) if v is not None else None) for k, v in columns.items()},
    )


def parse_feeds(text: str, source: str = "feeds.yaml") -> dict[str, Feed]:
    raw = yaml.safe_load(text)
    if not isinstance(raw, dict) or raw.get("version") != 1 or set(raw) != {"version", "feeds"}:
        raise FeedsConfigError(f"{source}: expected version: 1 and feeds")
    if not isinstance(raw["feeds"], dict):
        raise FeedsConfigError(f"{source}: feeds maps codes to feeds")
    return {str(code): _feed(str(code), feed, source) for code, feed in raw["feeds"].items()}


@cache
def default_feeds() -> dict[str, Feed]:
    return parse_feeds(FEEDS_FILE.read_text(encoding="utf-8"), str(FEEDS_FILE))
