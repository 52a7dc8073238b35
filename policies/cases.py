"""Case rules (cases.yaml): the documents a case is made of, the duties each sets going with
their deadlines (Decree 310 and the department's own), the reminders, and the outcomes.

Pure and validated at load. A case's current duty is a function of its documents alone
(:func:`CaseRules.duty_of`), so the graph stores it for the overdue list but can always
recompute it, and a changed figure in the file is a changed deadline.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache
from typing import Any

from policies.credit.measures import default_measures
from policies.loader import POLICY_DIR, Document, PolicyError, Shape, load, mapping, parse
from policies.rights import Attachments, Deadline, parse_attachments, parse_deadline
from policies.values import nonempty_text

CASES_FILE = POLICY_DIR / "cases.yaml"
SHAPE = Shape({"documents", "duties", "reminders", "outcomes", "file"})
ISSUERS = ("DEPARTMENT", "POLICE", "PROCURATORATE", "COURT")


@dataclass(frozen=True, slots=True)
class DocumentKind:
    name: str  # Chinese, as the portal and the PDFs say it
    by: str  # who issues it: one of ISSUERS


@dataclass(frozen=True, slots=True)
class Duty:
    after: str  # the document kind that sets it going
    party: str  # who must act: one of ISSUERS
    expects: frozenset[str]  # the document kinds that end it
    deadline: Deadline


@dataclass(frozen=True, slots=True)
class Outcome:
    name: str
    counts: bool  # False: the case and its records leave the rating
    ends_listings: bool = False  # True: listings resting only on the case's records end


@dataclass(frozen=True, slots=True)
class Current:
    """A case's duty now: what is awaited, from whom, since when and until when."""

    duty: Duty
    since: date

    @property
    def due(self) -> date:
        return self.duty.deadline.due(self.since)


@dataclass(frozen=True, slots=True)
class CaseRules:
    documents: dict[str, DocumentKind]
    duties: dict[str, Duty]
    reminder_kinds: tuple[str, ...]
    remind_every: Deadline
    outcomes: dict[str, Outcome]
    file: Attachments

    def duty_of(self, documents: Iterable[tuple[str, date]]) -> Current | None:
        """The duty a case's documents (kind, issued on) leave open, in the order they were
        issued: a document with a duty of its own starts it, one the open duty expects ends it."""
        current: Current | None = None
        for kind, issued in sorted(documents, key=lambda d: d[1]):
            if kind in self.duties:
                current = Current(self.duties[kind], issued)
            elif current is not None and kind in current.duty.expects:
                current = None
        return current

    def reminder_on(self, due: date, last: date | None) -> date:
        """The day a duty due on ``due`` is next reminded (催办), ``last`` being the day it was
        last reminded (None: never): the day after it falls due, the day it turns overdue,
        then ``remind_every`` after the last reminder. A missed day is caught up once."""
        if last is None or last <= due:
            return due + timedelta(days=1)
        return self.remind_every.due(last)


def _documents(raw: Any) -> dict[str, DocumentKind]:
    if not isinstance(raw, dict) or not raw:
        raise PolicyError("documents: a non-empty mapping of document kinds")
    kinds = {}
    for kind, entry in raw.items():
        fields = mapping(entry, f"documents.{kind}", {"name", "by"})
        if fields["by"] not in ISSUERS:
            raise PolicyError(f"documents.{kind}.by: one of {', '.join(ISSUERS)}")
        kinds[str(kind)] = DocumentKind(nonempty_text(fields["name"], f"documents.{kind}.name"),
                                        fields["by"])  # fmt: skip
    return kinds


def _duties(raw: Any, documents: dict[str, DocumentKind]) -> dict[str, Duty]:
    duties = {}
    for kind, entry in mapping(raw, "duties", (), documents).items():
        where = f"duties.{kind}"
        fields = mapping(entry, where, {"party", "expects", "deadline"})
        if fields["party"] not in ISSUERS:
            raise PolicyError(f"{where}.party: one of {', '.join(ISSUERS)}")
        expects = fields["expects"]
        if not isinstance(expects, list) or not expects or not set(expects) <= set(documents):
            raise PolicyError(f"{where}.expects: a non-empty list of document kinds")
        deadline = parse_deadline(fields["deadline"], f"{where}.deadline")
        duties[str(kind)] = Duty(str(kind), fields["party"], frozenset(expects), deadline)
    return duties


def _outcomes(raw: Any) -> dict[str, Outcome]:
    outcomes = {}
    for name, entry in mapping(raw, "outcomes", ("UPHELD",), ("DISMISSED", "OVERTURNED")).items():
        fields = mapping(entry, f"outcomes.{name}", {"name", "counts"}, {"ends_listings"})
        ends = fields.get("ends_listings", False)
        if not isinstance(fields["counts"], bool) or not isinstance(ends, bool):
            raise PolicyError(f"outcomes.{name}.counts, ends_listings: true or false")
        if ends and fields["counts"]:
            raise PolicyError(f"outcomes.{name}.ends_listings: only where counts is false")
        outcomes[str(name)] = Outcome(
            nonempty_text(fields["name"], f"outcomes.{name}.name"), fields["counts"], ends
        )
    if not outcomes["UPHELD"].counts:
        raise PolicyError("outcomes.UPHELD.counts: an upheld case counts")
    return outcomes


def _rules(raw: Document, partner_kinds: Collection[str]) -> CaseRules:
    documents = _documents(raw["documents"])
    reminders = mapping(raw["reminders"], "reminders", {"kinds", "every"})
    kinds = reminders["kinds"]
    if not isinstance(kinds, list) or not kinds or not set(kinds) <= set(partner_kinds):
        known = ", ".join(sorted(partner_kinds))
        raise PolicyError(f"reminders.kinds: a non-empty list of partner kinds ({known})")
    rules = CaseRules(
        documents=documents,
        duties=_duties(raw["duties"], documents),
        reminder_kinds=tuple(kinds),
        remind_every=parse_deadline(reminders["every"], "reminders.every"),
        outcomes=_outcomes(raw["outcomes"]),
        file=parse_attachments(raw["file"], "file"),
    )
    if rules.file.max_count != 1:
        raise PolicyError("file.max_count: a case document has exactly one file")
    return rules


def parse_cases(text: str, partner_kinds: Collection[str], source: str = "cases.yaml") -> CaseRules:
    """Validate a cases document against the partner kinds of measures.yaml; raise
    :class:`PolicyError` naming what is wrong."""
    return parse(text, source, SHAPE, lambda raw: _rules(raw, partner_kinds))


@cache
def default_cases() -> CaseRules:
    kinds = default_measures().partner_kinds
    return load(CASES_FILE, SHAPE, lambda raw: _rules(raw, kinds))
