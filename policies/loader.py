"""Reads a rule file: YAML parsed safely, the top level checked, the rest validated by its module.

Every rule an operator may change is a YAML file in this folder (or one an operator names
instead, such as ``HUB_MEASURES_FILE``); each module says what its file must hold and validates
the inside itself. This module does what they all share, once: read the text, parse it with
``yaml.safe_load`` (no Python objects), check the top-level mapping, its keys and its format
number, and turn any problem into a :class:`PolicyError` that names the file and the place in
the document, so a bad file stops the start with a message the operator can act on.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import yaml

POLICY_DIR = Path(__file__).resolve().parent  # where the shipped rule files live

Document = dict[str, Any]
T = TypeVar("T")


class PolicyError(ValueError):
    """A rule file is wrong: the message names the file and the place in the document.

    Validators raise it with the place only (``roles.admin.page_max: must be 1-100``); the
    loader adds the file it was reading, so a module never has to carry the file name around.
    """

    def __init__(self, problem: str, source: str | None = None) -> None:
        super().__init__(f"{source}: {problem}" if source else problem)
        self.problem = problem
        self.source = source


@dataclass(frozen=True, slots=True)
class Shape:
    """What a rule file's top level must be: a mapping with the ``required`` keys, perhaps some
    ``optional`` ones and no others, with ``<version>: 1`` when the format is numbered, and
    with ``empty`` an empty file allowed (read as an empty mapping)."""

    required: Collection[str]
    optional: Collection[str] = ()
    version: str | None = "version"  # the key holding the format's number
    empty: bool = False

    def check(self, document: Any) -> Document:
        if document is None and self.empty:
            return {}
        if not isinstance(document, dict):
            wanted = f" with {self.version}: 1" if self.version else ""
            raise PolicyError(f"expected a mapping{wanted} at the top")
        if self.version is not None and document.get(self.version) != 1:
            found = document.get(self.version)
            raise PolicyError(f"{self.version} must be 1 ({self.version}: 1), not {found!r}")
        version = (self.version,) if self.version else ()
        return mapping(document, "", self.required, (*self.optional, *version))


def mapping(
    raw: Any,
    where: str,
    required: Collection[str],
    optional: Collection[str] = (),
    noun: str = "key",
) -> Document:
    """``raw`` when it maps the ``required`` names and perhaps some ``optional`` ones, and no
    others; the problem otherwise, at ``where`` in the document (the top when empty)."""
    at = f"{where}: " if where else ""
    if not isinstance(raw, dict):
        raise PolicyError(f"{at}expected a mapping")
    known = sorted({*required, *optional})
    if unknown := sorted(map(str, set(raw) - set(known))):
        nouns = noun + ("es" if noun.endswith("s") else "s")
        raise PolicyError(
            f"{at}unknown {noun} {', '.join(unknown)} (expected {nouns} {', '.join(known)})"
        )
    if missing := sorted(set(required) - set(raw)):
        raise PolicyError(f"{at}missing {noun} {', '.join(missing)}")
    return raw


def parse(text: str, source: str, shape: Shape, validate: Callable[[Document], T]) -> T:
    """The rules in ``text`` (read from ``source``), or a :class:`PolicyError` naming both."""
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise PolicyError(f"not valid YAML: {exc}", source) from None
    try:
        return validate(shape.check(document))
    except PolicyError as exc:
        raise PolicyError(exc.problem, exc.source or source) from None
    except (KeyError, TypeError, ValueError) as exc:  # a validator met a shape it did not expect
        raise PolicyError(f"missing or malformed entry {exc}", source) from None


def load(path: Path, shape: Shape, validate: Callable[[Document], T]) -> T:
    """The rules in the file at ``path``; a file that cannot be read is a :class:`PolicyError`
    too, since the shipped files always exist and an operator's must."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise PolicyError(f"cannot read the file: {exc}", str(path)) from None
    return parse(text, str(path), shape, validate)
