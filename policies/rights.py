"""Subjects' rights rules (rights.yaml): the deadlines of objections, complaints and repair
applications, the proof a repair needs, and what a filing may attach. Pure and validated at load.

A deadline is data with its legal source, counted on the working-day calendar or the plain one,
so a changed rule is a changed figure in the file, and the date shown to a subject always says
which rule set it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache
from typing import Any, Literal

from policies.loader import POLICY_DIR, Document, PolicyError, Shape, load, mapping, parse
from policies.values import nonempty_text, whole
from policies.workdays import add_working_days

RIGHTS_FILE = POLICY_DIR / "rights.yaml"
SHAPE = Shape({"objection", "complaint", "repair", "commitment", "attachments"})
Calendar = Literal["working", "natural"]
PROOFS = ("FULFILMENT", "COMMITMENT", "TRAINING")
REPAIRABLE = ("SERIOUS_DISHONESTY", "ABNORMAL_OPERATION", "RECORD")
# What a file's first bytes say it is: the only types an attachment may have.
_MAGIC = {
    "application/pdf": (b"%PDF-",),
    "image/jpeg": (b"\xff\xd8\xff",),
    "image/png": (b"\x89PNG\r\n\x1a\n",),
}


@dataclass(frozen=True, slots=True)
class Deadline:
    days: int
    calendar: Calendar
    source: str  # the rule the figure comes from, shown next to the date

    def due(self, start: date) -> date:
        """The last day on which the step is on time (``start`` itself does not count)."""
        if self.calendar == "working":
            return add_working_days(start, self.days)
        return start + timedelta(days=self.days)

    def overdue(self, start: date, today: date) -> bool:
        return today > self.due(start)


@dataclass(frozen=True, slots=True)
class Length:
    min_chars: int
    max_chars: int

    def check(self, text: str) -> str | None:
        """Why ``text`` is refused, or None."""
        size = len(text.strip())
        if size < self.min_chars:
            return f"at least {self.min_chars} characters are needed"
        if size > self.max_chars:
            return f"at most {self.max_chars} characters are allowed"
        return None


@dataclass(frozen=True, slots=True)
class Attachments:
    max_count: int
    max_bytes: int
    max_total_bytes: int
    types: frozenset[str]

    def refusal(self, files: list[tuple[str, bytes]]) -> str | None:
        """Why a filing's attachments (name, content) are refused, or None."""
        if len(files) > self.max_count:
            return f"at most {self.max_count} attachments may be sent"
        for name, data in files:
            if not data:
                return f"attachment {name!r} is empty"
            if len(data) > self.max_bytes:
                return f"attachment {name!r} is over {self.max_bytes} bytes"
            if sniff(data) not in self.types:
                return f"attachment {name!r} is not one of {', '.join(sorted(self.types))}"
        if sum(len(data) for _, data in files) > self.max_total_bytes:
            return f"attachments together are over {self.max_total_bytes} bytes"
        return None


def sniff(data: bytes) -> str | None:
    """The type a file's first bytes show, among the few the intake knows; None otherwise."""
    for kind, signatures in _MAGIC.items():
        if data.startswith(signatures):
            return kind
    return None


@dataclass(frozen=True, slots=True)
class RateLimit:
    count: int
    seconds: int


@dataclass(frozen=True, slots=True)
class RightsRules:
    objection_accept: Deadline
    objection_decide: Deadline
    objection_reasons: Length
    complaint_accept: Deadline
    complaint_answer: Deadline
    complaint_escalate_again: Deadline
    complaint_text: Length
    complaint_per_address: RateLimit
    complaint_guesses: RateLimit
    repair_accept: Deadline
    repair_decide: Deadline
    repair_stop_publishing: Deadline
    repair_proofs: dict[str, frozenset[str]]  # SERIOUS_DISHONESTY, ABNORMAL_OPERATION, RECORD
    repair_statement: Length
    repair_reasons: Length
    commitment_max_months: int
    commitment_text: Length
    attachments: Attachments


def parse_deadline(raw: Any, where: str) -> Deadline:
    """A ``{days, calendar, source}`` mapping at ``where`` (rights.yaml, cases.yaml)."""
    fields = mapping(raw, where, {"days", "calendar", "source"})
    calendar = fields["calendar"]
    if calendar not in ("working", "natural"):
        raise PolicyError(f"{where}.calendar: working or natural")
    days = whole(fields["days"], f"{where}.days", 1, 366)
    return Deadline(days, calendar, nonempty_text(fields["source"], f"{where}.source"))


def _length(raw: Any, where: str) -> Length:
    fields = mapping(raw, where, {"min_chars", "max_chars"})
    low = whole(fields["min_chars"], f"{where}.min_chars", 1, 1000)
    return Length(low, whole(fields["max_chars"], f"{where}.max_chars", low, 20000))


def _proofs(raw: Any) -> dict[str, frozenset[str]]:
    kinds = mapping(raw, "repair.proofs", REPAIRABLE)
    proofs: dict[str, frozenset[str]] = {}
    for kind, listed in kinds.items():
        if not isinstance(listed, list) or not listed or not set(listed) <= set(PROOFS):
            raise PolicyError(f"repair.proofs.{kind}: a non-empty list among {', '.join(PROOFS)}")
        proofs[kind] = frozenset(listed)
    return proofs


def parse_attachments(raw: Any, where: str = "attachments") -> Attachments:
    """What a filing may attach, at ``where`` (rights.yaml, cases.yaml)."""
    fields = mapping(raw, where, {"max_count", "max_bytes", "max_total_bytes", "types"})
    size = whole(fields["max_bytes"], f"{where}.max_bytes", 1024, 50 * 2**20)
    total = whole(fields["max_total_bytes"], f"{where}.max_total_bytes", size, 200 * 2**20)
    types = fields["types"]
    if not isinstance(types, list) or not types or not set(types) <= set(_MAGIC):
        raise PolicyError(f"{where}.types: a non-empty list among {', '.join(_MAGIC)}")
    count = whole(fields["max_count"], f"{where}.max_count", 0, 20)
    return Attachments(count, size, total, frozenset(types))


def _rate(raw: Any, where: str) -> RateLimit:
    fields = mapping(raw, where, {"count", "seconds"})
    return RateLimit(
        whole(fields["count"], f"{where}.count", 1, 10000),
        whole(fields["seconds"], f"{where}.seconds", 1, 86400 * 7),
    )


def _rules(raw: Document) -> RightsRules:
    objection = mapping(raw["objection"], "objection", {"accept", "decide", "reasons"})
    complaint = mapping(
        raw["complaint"],
        "complaint",
        {"accept", "answer", "escalate_again", "text", "per_address", "guesses"},
    )
    repair = mapping(
        raw["repair"],
        "repair",
        {"accept", "decide", "proofs", "stop_publishing", "statement", "reasons", "fee"},
    )
    if repair["fee"] != 0:
        raise PolicyError("repair.fee: credit repair is free of charge; the fee must be 0")
    commitment = mapping(raw["commitment"], "commitment", {"max_months", "text"})
    return RightsRules(
        objection_accept=parse_deadline(objection["accept"], "objection.accept"),
        objection_decide=parse_deadline(objection["decide"], "objection.decide"),
        objection_reasons=_length(objection["reasons"], "objection.reasons"),
        complaint_accept=parse_deadline(complaint["accept"], "complaint.accept"),
        complaint_answer=parse_deadline(complaint["answer"], "complaint.answer"),
        complaint_escalate_again=parse_deadline(
            complaint["escalate_again"], "complaint.escalate_again"
        ),
        complaint_text=_length(complaint["text"], "complaint.text"),
        complaint_per_address=_rate(complaint["per_address"], "complaint.per_address"),
        complaint_guesses=_rate(complaint["guesses"], "complaint.guesses"),
        repair_accept=parse_deadline(repair["accept"], "repair.accept"),
        repair_decide=parse_deadline(repair["decide"], "repair.decide"),
        repair_stop_publishing=parse_deadline(repair["stop_publishing"], "repair.stop_publishing"),
        repair_proofs=_proofs(repair["proofs"]),
        repair_statement=_length(repair["statement"], "repair.statement"),
        repair_reasons=_length(repair["reasons"], "repair.reasons"),
        commitment_max_months=whole(commitment["max_months"], "commitment.max_months", 1, 120),
        commitment_text=_length(commitment["text"], "commitment.text"),
        attachments=parse_attachments(raw["attachments"]),
    )


def parse_rights(text: str, source: str = "rights.yaml") -> RightsRules:
    """Validate a rights document; raise :class:`PolicyError` naming what is wrong."""
    return parse(text, source, SHAPE, _rules)


@cache
def default_rights() -> RightsRules:
    return load(RIGHTS_FILE, SHAPE, _rules)
