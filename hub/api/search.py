"""Investigators' search: names (full text, pinyin, initials) and people by resident ID."""

from __future__ import annotations

import unicodedata
from datetime import date
from enum import Enum
from typing import Any

import strawberry

from graph.identifiers import InvalidIdentifier, resident_id
from graph.search import person_by_key, search_names
from hub.api.context import RootPolicy, audit, ctx, page_size, resolver, to_date
from hub.errors import Code, HubError
from hub.keys import pii_secret
from hub.settings import get_settings


@strawberry.enum
class SearchKind(Enum):
    ALL = "ALL"
    SUBJECT = "SUBJECT"
    PERSON = "PERSON"


@strawberry.type(description="A subject or person whose name matches.")
class SearchHit:
    kind: str
    key: str = strawberry.field(description="Credit code, or an opaque person key.")
    name: str
    division: str | None
    score: float
    matched_by: str = strawberry.field(description="fulltext or pinyin")


@strawberry.type(description="A person's tie to a subject.")
class PersonTie:
    kind: str
    credit_code: str
    name: str
    since: date | None
    until: date | None
    share: float | None
    role: str | None


@strawberry.type(description="A person found by resident ID (CONFIDENTIAL clearance).")
class PersonProfile:
    key: str
    name: str
    id_masked: str | None
    ties: list[PersonTie]


def _tie(t: dict[str, Any]) -> PersonTie:
    return PersonTie(
        kind=t["kind"],
        credit_code=t["creditCode"],
        name=t["name"],
        since=to_date(t.get("since")),
        until=to_date(t.get("until")),
        share=t.get("share"),
        role=t.get("role"),
    )


@strawberry.type
class SearchQueries:
    @strawberry.field(
        description="Subjects and people by name: Chinese text (legal form and full-width "
        "characters ignored) through the full-text index, or pinyin and initials.",
        permission_classes=[RootPolicy],
    )
    @resolver
    async def search(
        self, info: strawberry.Info, text: str, kind: SearchKind = SearchKind.ALL, first: int = 20
    ) -> list[SearchHit]:
        context = ctx(info)
        cleaned = unicodedata.normalize("NFKC", text).strip()
        if not 1 <= len(cleaned) <= 50:
            raise HubError(Code.BAD_USER_INPUT, "text must be 1-50 characters")
        page_size(first)
        how, hits = await search_names(
            context.store,
            cleaned,
            subjects=kind is not SearchKind.PERSON,
            people=kind is not SearchKind.SUBJECT,
            limit=first,
            scope=context.scope,
        )
        audit(info, None, (h["key"] for h in hits))
        return [
            SearchHit(
                kind=h["kind"],
                key=h["key"],
                name=h["name"],
                division=h.get("division"),
                score=round(float(h["score"]), 4),
                matched_by=how,
            )
            for h in hits
        ]

    @strawberry.field(
        description="A person by resident ID, matched through its keyed hash; needs "
        "CONFIDENTIAL clearance and an investigation purpose. Null when unknown.",
        permission_classes=[RootPolicy],
    )
    @resolver
    async def person_by_resident_id(
        self, info: strawberry.Info, id_number: str
    ) -> PersonProfile | None:
        context = ctx(info)
        if "CONFIDENTIAL" not in context.scope["anywhere"]:
            audit(info, None, (), "DENY")
            raise HubError(
                Code.FORBIDDEN,
                "a resident-ID lookup needs CONFIDENTIAL clearance and an investigation purpose",
            )
        try:
            key = resident_id(id_number, pii_secret(get_settings().keys_dir)).key
        except InvalidIdentifier as exc:
            raise HubError(Code.BAD_USER_INPUT, f"idNumber: {exc}") from None
        found = await person_by_key(context.store, key, context.scope)
        if found is None:
            audit(info, None, ())
            return None
        ties = [_tie(t) for t in found["ties"]]
        audit(info, None, (key, *(t.credit_code for t in ties)))
        return PersonProfile(
            key=found["key"], name=found["name"], id_masked=found.get("idMasked"), ties=ties
        )
