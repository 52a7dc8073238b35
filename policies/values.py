"""Checks for the values inside rule files that several files share: counts, numbers, texts.

Each raises a :class:`~policies.loader.PolicyError` naming the place (``where``) and the range,
so every file states a bound the same way.
"""

from __future__ import annotations

from typing import Any

from policies.loader import PolicyError


def whole(value: Any, where: str, low: int, high: int) -> int:
    """A whole number from ``low`` to ``high`` (``true`` is not 1)."""
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise PolicyError(f"{where}: a whole number from {low} to {high}")
    return value


def number(value: Any, where: str, low: float, high: float) -> float:
    """A number, whole or not, from ``low`` to ``high``."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
        raise PolicyError(f"{where}: a number from {low} to {high}")
    return float(value)


def nonempty_text(value: Any, where: str) -> str:
    """A text with something in it."""
    if not isinstance(value, str) or not value.strip():
        raise PolicyError(f"{where}: a non-empty text")
    return value
