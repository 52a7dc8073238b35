"""What an association reads of its members: each current member with its rating, listings and
published records, as a SHARED partner would read them (policies/associations.py
``member_scope``), every query anchored on a current membership of the caller's association.

A subject that is not its member reads exactly like an unknown one: no row, no count.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from graph.db import Store
from graph.subjects import NESTED_CAP, PARTS, visible

MEMBER_PARTS = frozenset({"rating", "records", "sanctions"})
_FIELDS = """.creditCode, .name, .kind, .division, .status, .grade, .score,
  since: toString(m.since)"""


@cache
def _query(parts: frozenset[str], one: bool) -> str:
    """A member (``one``) or a page of members, with the nested ``parts`` selected."""
    nested = "".join(f",\n  {PARTS[name]}" for name in sorted(parts & MEMBER_PARTS))
    anchor = (
        "MATCH (s:Subject {creditCode: $code})-[m:MEMBER_OF]->(:Association {code: $association})"
        if one
        else "MATCH (:Association {code: $association})<-[m:MEMBER_OF]-(s:Subject)"
    )
    page = (
        "" if one else "AND s.creditCode > $after\nWITH s, m ORDER BY s.creditCode LIMIT $limit\n"
    )
    return (
        f"{anchor}\nWHERE m.until IS NULL AND {visible('s', 's.sourceAgency')}\n{page}"
        f"RETURN s {{\n  {_FIELDS}{nested}\n}} AS member"
    )


async def member(
    store: Store, association: str, code: str, scope: dict[str, Any], parts: frozenset[str]
) -> dict[str, Any] | None:
    """The member ``code`` of ``association``, or None for anyone else."""
    rows = await store.read(
        _query(parts, True), association=association, code=code, cap=NESTED_CAP, **scope
    )
    return dict(rows[0]["member"]) if rows else None


async def members(
    store: Store,
    association: str,
    scope: dict[str, Any],
    parts: frozenset[str],
    after: str,
    limit: int,
) -> list[dict[str, Any]]:
    """Current members in credit-code order after ``after``."""
    rows = await store.read(
        _query(parts, False), association=association, after=after, limit=limit,
        cap=NESTED_CAP, **scope,
    )  # fmt: skip
    return [dict(r["member"]) for r in rows]
