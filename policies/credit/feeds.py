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

from policies.credit.listings import LISTINGS
from policies.loader import POLICY_DIR, Document, PolicyError, Shape, load, parse
from policies.values import whole

FEEDS_FILE = POLICY_DIR / "feeds.yaml"
SHAPE = Shape({"feeds"})
COLUMNS = ("id", "creditCode", "name", "startDate", "endDate", "document", "authority")
REQUIRED = ("id", "creditCode", "startDate")


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


def _feed(code: str, raw: Any) -> Feed:
    where = f"feeds.{code}"
    keys = {"name", "url", "format", "encoding", "listing", "every_seconds", "enabled", "columns"}
    if not isinstance(raw, dict) or set(raw) != keys:
        raise PolicyError(f"{where}: needs {sorted(keys)}")
    parts = urlsplit(str(raw["url"]))
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise PolicyError(f"{where}.url: an absolute http(s) URL")
    if raw["format"] not in ("json", "csv"):
        raise PolicyError(f"{where}.format: json or csv")
    try:
        codecs.lookup(str(raw["encoding"]))
    except LookupError:
        raise PolicyError(f"{where}.encoding: unknown encoding") from None
    if raw["listing"] not in LISTINGS:
        raise PolicyError(f"{where}.listing: one of {', '.join(LISTINGS)}")
    every = whole(raw["every_seconds"], f"{where}.every_seconds", 60, 7 * 86400)
    if not isinstance(raw["enabled"], bool):
        raise PolicyError(f"{where}.enabled: true or false")
    columns = raw["columns"]
    if not isinstance(columns, dict) or set(columns) != set(COLUMNS):
        raise PolicyError(f"{where}.columns: maps each of {', '.join(COLUMNS)}")
    for field in REQUIRED:
        if not isinstance(columns[field], str) or not columns[field]:
            raise PolicyError(f"{where}.columns.{field}: the column that holds it")
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


def _feeds(raw: Document) -> dict[str, Feed]:
    if not isinstance(raw["feeds"], dict):
        raise PolicyError("feeds maps codes to feeds")
    return {str(code): _feed(str(code), feed) for code, feed in raw["feeds"].items()}


def parse_feeds(text: str, source: str = "feeds.yaml") -> dict[str, Feed]:
    return parse(text, source, SHAPE, _feeds)


def load_feeds(path: Path = FEEDS_FILE) -> dict[str, Feed]:
    """The feeds in ``path``: the shipped file, or the one ``HUB_FEEDS_FILE`` names."""
    return load(path, SHAPE, _feeds)


@cache
def default_feeds() -> dict[str, Feed]:
    return load_feeds()
