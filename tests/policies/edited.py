"""A shipped rule file with one edit, for the tests that see a bad edit refused by name."""

from __future__ import annotations

from pathlib import Path


def edited(path: Path, old: str, new: str) -> str:
    """The file's text with its first ``old`` replaced by ``new``. ``old`` must be in the file:
    an edit that matched nothing would test the shipped file, which passes."""
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} is not in {path.name}"
    return text.replace(old, new, 1)
