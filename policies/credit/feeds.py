"""The outside lists the hub pulls (feeds.yaml): where, in which format, what they carry (a
listing, or case documents from courts and the police), how often, and which of their columns
hold what. Validated at load, so a feed with a missing column map or an unknown listing stops
the start with the entry named."""

from __future__ import annotations

import codecs
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from policies.credit.listings import LISTINGS as LISTING_KINDS
from policies.loader import POLICY_DIR, Document, PolicyError, Shape, load, parse
from policies.values import whole

FEEDS_FILE = POLICY_DIR / "feeds.yaml"
SHAPE = Shape({"feeds"})
COLUMNS = ("id", "creditCode", "name", "startDate", "endDate", "document", "authority")
REQUIRED = ("id", "creditCode", "startDate")
# What a feed carries: entries of a listing (``listing:`` names it), or documents of cases
# (docs/cases.md), matched to their case by number and credit code.
LISTINGS, CASE_DOCUMENTS = "LISTINGS", "CASE_DOCUMENTS"
CASE_COLUMNS = ("creditCode", "kind", "number", "issuedOn", "authority", "summary", "refersTo")
CASE_REQUIRED = ("creditCode", "kind", "number", "issuedOn", "refersTo")


@dataclass(frozen=True, slots=True)
class Feed:
    code: str
    name: str
    url: str
    format: str  # json or csv
    encoding: str
    listing: str | None  # None for a feed of case documents
    every_seconds: int
    enabled: bool
    columns: dict[str, str | None]  # our field → their column (None: not given)
    carries: str = LISTINGS  # or CASE_DOCUMENTS


def _feed(code: str, raw: Any) -> Feed:
    where = f"feeds.{code}"
    common = {"name", "url", "format", "encoding", "every_seconds", "enabled", "columns"}
    if not isinstance(raw, dict):
        raise PolicyError(f"{where}: a mapping")
    carries = raw.get("carries", LISTINGS)
    if carries not in (LISTINGS, CASE_DOCUMENTS):
        raise PolicyError(f"{where}.carries: {LISTINGS} or {CASE_DOCUMENTS}")
    keys = common | ({"listing"} if carries == LISTINGS else {"carries"})
    if set(raw) - {"carries"} != keys - {"carries"}:
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
    if carries == LISTINGS and raw["listing"] not in LISTING_KINDS:
        raise PolicyError(f"{where}.listing: one of {', '.join(LISTING_KINDS)}")
    every = whole(raw["every_seconds"], f"{where}.every_seconds", 60, 7 * 86400)
    if not isinstance(raw["enabled"], bool):
        raise PolicyError(f"{where}.enabled: true or false")
    columns = raw["columns"]
    names, required = (COLUMNS, REQUIRED) if carries == LISTINGS else (CASE_COLUMNS, CASE_REQUIRED)
    if not isinstance(columns, dict) or set(columns) != set(names):
        raise PolicyError(f"{where}.columns: maps each of {', '.join(names)}")
    for field in required:
        if not isinstance(columns[field], str) or not columns[field]:
            raise PolicyError(f"{where}.columns.{field}: the column that holds it")
    return Feed(
        code,
        str(raw["name"]),
        str(raw["url"]),
        raw["format"],
        str(raw["encoding"]),
        raw.get("listing"),
        every,
        raw["enabled"],
        {k: (str(v) if v is not None else None) for k, v in columns.items()},
        carries,
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
