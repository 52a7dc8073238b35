"""``subject``, ``subjectsByCode`` and ``subjects``: a subject by credit code, many by their codes
in one request, and subjects in pages by filter."""

from __future__ import annotations

import unicodedata
from typing import cast

import strawberry

from graph.subjects import (
    ALL_PARTS,
    GRADE_FIELDS,
    GRADE_ONLY,
    SubjectFilter,
    list_subjects,
    subject_by_code,
    subjects_by_codes,
)
from hub.api.context import (
    Context,
    RootPolicy,
    audit,
    decode_cursor,
    division_prefix,
    encode_cursor,
    parse_code,
    resolver,
    selection,
)
from hub.api.subjects.rows import released_by, subject_view, summary_view
from hub.api.subjects.types import (
    PageInfo,
    Subject,
    SubjectConnection,
    SubjectEdge,
    SubjectFilterInput,
)
from hub.errors import Code, HubError
from policies.limits import default_limits

# The rating fields the graph answers without the rating's stored JSON (GRADE_ONLY).
_GRADE_FIELDS = GRADE_FIELDS | {"__typename"}


def _parts(info: strawberry.Info) -> frozenset[str]:
    """The parts of a subject the query selects: the graph reads only those, and of the
    rating only its grade when nothing else of it is selected."""
    selected = selection(info)
    parts = ALL_PARTS.intersection(selected)
    if "rating" in parts and selected["rating"].keys() <= _GRADE_FIELDS:
        return parts | {GRADE_ONLY}
    return parts


def _graph_filter(flt: SubjectFilterInput | None) -> SubjectFilter:
    if flt is None:
        return SubjectFilter()
    name = None
    if flt.name is not None:
        name = unicodedata.normalize("NFKC", flt.name).strip()
        if not 1 <= len(name) <= 50:
            raise HubError(Code.BAD_USER_INPUT, "filter.name must be 1-50 characters")
    prefix = None
    if flt.division is not None:
        prefix = division_prefix(flt.division)
    return SubjectFilter(
        name=name,
        division_prefix=prefix,
        kind=flt.kind.value if flt.kind else None,
        grade=flt.grade.value if flt.grade else None,
    )


def _page_size(ctx: Context, first: int | None) -> int:
    """``first``, the limits' default when left out, at most the caller's roles allow."""
    limits = default_limits()
    size = limits.page_default if first is None else first
    if size < 1:
        raise HubError(Code.BAD_USER_INPUT, "first must be at least 1")
    ceiling = min(limits.page_max, ctx.policy.page_max(ctx.principal))
    if size > ceiling:
        raise HubError(Code.LIMIT_EXCEEDED, f"first may be at most {ceiling}", max=ceiling)
    return size


def _batch_code(text: str) -> str | HubError:
    """A batch's code normalised, or the error reported at its index (the rest still answered)."""
    try:
        return parse_code(text)
    except HubError as exc:
        reason = (exc.extensions or {}).get("reason")
        return HubError(Code.BAD_USER_INPUT, exc.message, reason=reason)


@strawberry.type
class SubjectQueries:
    @strawberry.field(
        description="A subject by credit code; null when unknown or not visible.",
        permission_classes=[RootPolicy],
    )
    @resolver
    async def subject(self, info: strawberry.Info, credit_code: str) -> Subject | None:
        ctx: Context = info.context
        code = parse_code(credit_code)
        row = await subject_by_code(
            ctx.store,
            code,
            ctx.scope,
            _parts(info),
        )
        if row is None:
            return None
        audit(info, code, released_by(row))
        return subject_view(row, ctx.access)

    @strawberry.field(
        description="Subjects by credit code, at most 100, answered in the order asked: null for "
        "a code unknown or not visible, and for an invalid code, with a BAD_USER_INPUT error at "
        "its index.",
        permission_classes=[RootPolicy],
    )
    @resolver
    async def subjects_by_code(
        self, info: strawberry.Info, credit_codes: list[str]
    ) -> list[Subject | None]:
        ctx: Context = info.context
        most = default_limits().page_max
        if len(credit_codes) > most:
            raise HubError(Code.BAD_USER_INPUT, f"at most {most} credit codes a request", max=most)
        parsed = [_batch_code(text) for text in credit_codes]
        valid = [p for p in parsed if isinstance(p, str)]
        rows = await subjects_by_codes(ctx.store, valid, ctx.scope, _parts(info)) if valid else {}
        for code, row in rows.items():
            audit(info, code, released_by(row))
        views = {code: subject_view(row, ctx.access) for code, row in rows.items()}
        # graphql-core answers an Exception in a list as null at its index, with its error.
        return [views.get(p) if isinstance(p, str) else cast(None, p) for p in parsed]

    @strawberry.field(
        description="Subjects in credit-code order, in pages of at most 100.",
        permission_classes=[RootPolicy],
    )
    @resolver
    async def subjects(
        self,
        info: strawberry.Info,
        filter: SubjectFilterInput | None = None,
        first: int | None = None,
        after: str | None = None,
    ) -> SubjectConnection:
        ctx: Context = info.context
        size = _page_size(ctx, first)
        start = decode_cursor(after) if after else ""
        rows = await list_subjects(
            ctx.store,
            _graph_filter(filter),
            ctx.scope,
            start,
            size + 1,
        )
        page = rows[:size]
        audit(info, None, (r["creditCode"] for r in page))
        edges = [
            SubjectEdge(cursor=encode_cursor(r["creditCode"]), node=summary_view(r)) for r in page
        ]
        return SubjectConnection(
            edges=edges,
            page_info=PageInfo(
                has_next_page=len(rows) > size,
                end_cursor=edges[-1].cursor if edges else None,
            ),
        )
