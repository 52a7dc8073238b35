"""Reading one field of an exchange-file row, and the errors a bad field or row is reported as.

A field is present or not, from a known vocabulary, a date, an id, a division, a credit code, an
end inside its term (docs/data-format.md). A bad field is a :class:`RowError` whose ``reason`` is a
stable word and whose message says what to fix; the row it is on, a :class:`Rejection`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from graph.identifiers import InvalidIdentifier, validate_uscc

DISCLOSURE = ("PUBLIC", "SHARED", "RESTRICTED", "CONFIDENTIAL")
_DIVISION = re.compile(r"^15\d{4}$")
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:\-]{0,63}$")


class RowError(ValueError):
    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason

    def __reduce__(self) -> tuple[type[RowError], tuple[str, str]]:
        """Picklable with its reason (a bulk load's worker processes receive bad lines)."""
        return RowError, (self.reason, str(self))


@dataclass(frozen=True, slots=True)
class Rejection:
    """A row refused, by line: what an import, an ingest or a partner feed reports back."""

    line: int
    reason: str
    message: str


def text_field(
    row: Mapping[str, Any], name: str, *, required: bool = True, limit: int = 500
) -> str:
    value = row.get(name)
    if value is None or value == "":
        if required:
            raise RowError("missing-field", f"field {name!r} is required")
        return ""
    if not isinstance(value, str):
        raise RowError("invalid-value", f"field {name!r} must be a string")
    value = value.strip()
    if len(value) > limit:
        raise RowError("invalid-value", f"field {name!r} is longer than {limit} characters")
    return value


def choice_field(
    row: Mapping[str, Any], name: str, allowed: tuple[str, ...], default: str = ""
) -> str:
    value = text_field(row, name, required=not default) or default
    if value not in allowed:
        raise RowError("invalid-value", f"{name} {value!r} is not one of {', '.join(allowed)}")
    return value


def date_field(row: Mapping[str, Any], name: str, *, required: bool = False) -> date | None:
    value = text_field(row, name, required=required, limit=10)
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise RowError("invalid-date", f"{name} {value!r} is not a YYYY-MM-DD date") from None


def id_field(row: Mapping[str, Any], name: str) -> str:
    value = text_field(row, name, limit=64)
    if not _ID.match(value):
        raise RowError("invalid-value", f"{name} {value!r} must be 1-64 letters, digits, _.:-")
    return value


def division_field(row: Mapping[str, Any]) -> str:
    value = text_field(row, "division", limit=6)
    if not _DIVISION.match(value):
        raise RowError("invalid-value", f"division {value!r} is not a 6-digit code of region 15")
    return value


def code_field(value: Any, name: str) -> str:
    if not isinstance(value, str) or not value:
        raise RowError("missing-field", f"field {name!r} must be a credit code")
    try:
        return validate_uscc(value)
    except InvalidIdentifier as exc:
        raise RowError("invalid-credit-code", f"{name}: {exc}") from None


def strings_field(row: Mapping[str, Any], name: str, limit: int = 200) -> list[str]:
    value = row.get(name) or []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise RowError("invalid-value", f"field {name!r} must be a list of strings")
    cleaned = [v.strip() for v in value if v.strip()]
    if any(len(v) > limit for v in cleaned):
        raise RowError("invalid-value", f"an entry of {name!r} is longer than {limit} characters")
    return sorted(set(cleaned))


def provenance(row: Mapping[str, Any]) -> dict[str, Any]:
    source = row.get("source") or {}
    if not isinstance(source, dict):
        raise RowError("invalid-value", "source must be an object")
    decided = date_field(source, "decidedOn")
    return {
        "sourceAgency": text_field(source, "agency", required=False, limit=32) or None,
        "sourceDocument": text_field(source, "document", required=False, limit=200) or None,
        "sourceSystem": text_field(source, "system", required=False, limit=64) or None,
        "decidedOn": decided,
    }


def disclosure_field(row: Mapping[str, Any], default: str = "PUBLIC") -> str:
    return choice_field(row, "disclosure", DISCLOSURE, default)


def end_in_term(
    end_name: str, end: date, start_name: str, start: date, term: str, months: int, limit: date
) -> date:
    """``end`` when it falls from ``start`` to ``limit``, the end of a term of ``months``; else
    the row is refused, saying which term it overruns."""
    if not start <= end <= limit:
        raise RowError(
            "invalid-period",
            f"{end_name} {end} is outside the {start_name} {start} and the {term} maximum of "
            f"{months} months ({limit})",
        )
    return end
