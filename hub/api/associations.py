"""Industry associations over GraphQL: an admin records membership (``setMembership``,
``endMembership``); an association reads its own members (``members``, ``member``: what a SHARED
partner reads, null for anyone else) and files self-discipline actions against them
(``recordSelfDiscipline``, ``selfDisciplineActions``), which go to review as dishonest records.

An association's own fields take its code from its token, never from an argument.
"""

from __future__ import annotations

from datetime import date
from enum import Enum
from typing import Any

import strawberry

from graph.associations.discipline import (
    action_of,
    actions_of,
    record_action,
)
from graph.associations.members import MEMBER_PARTS, member, members
from graph.associations.membership import AssociationRefused, end_membership, set_membership
from hub.api.context import (
    RootPolicy,
    audit,
    ctx,
    decode_cursor,
    encode_cursor,
    page_size,
    parse_code,
    resolver,
    selection,
)
from hub.api.rating import Grade, Rating, rating_view
from hub.api.records.types import CreditRecord, record_view, released_ids
from hub.api.subjects.rows import division_view, sanction_view
from hub.api.subjects.types import Division, PageInfo, Sanction, SubjectKind
from hub.errors import Code, HubError
from policies.associations import Association, default_associations, member_scope
from policies.principal import Principal

_MEMBER_CURSOR = "m1:"
_ACTION_CURSOR = "sd1:"


@strawberry.enum(description="A self-discipline action (行业自律惩戒) an association takes.")
class SelfDisciplineKind(Enum):
    WARNING = "WARNING"  # 警告
    CRITICISM = "CRITICISM"  # 行业内通报批评
    EXPULSION = "EXPULSION"  # 取消会员资格: ends the membership once its record is published


@strawberry.input(description="A self-discipline action against one of your members.")
class SelfDisciplineInput:
    action: SelfDisciplineKind
    decided_on: date
    document: str = strawberry.field(description="The number of the association's decision.")
    reasons: str = strawberry.field(description="What the member did, 4-400 characters.")


@strawberry.type(description="A membership as the department records it.")
class Membership:
    association: str
    credit_code: str
    since: date
    until: date | None = strawberry.field(description="Null while it lasts.")


@strawberry.type(description="A member of your association, as a SHARED partner sees it.")
class Member:
    credit_code: str
    name: str
    kind: SubjectKind
    division: Division
    status: str
    since: date = strawberry.field(description="Member since (as the department records it).")
    grade: Grade | None
    rating: Rating | None
    sanctions: list[Sanction] = strawberry.field(description="Its listings in force.")
    records: list[CreditRecord] = strawberry.field(
        description="Its published records of class PUBLIC or SHARED."
    )


@strawberry.type
class MemberEdge:
    cursor: str
    node: Member


@strawberry.type
class MemberConnection:
    edges: list[MemberEdge]
    page_info: PageInfo


@strawberry.type(description="A self-discipline action you filed, with its record's status.")
class SelfDisciplineAction:
    id: str
    credit_code: str
    subject_name: str | None
    action: SelfDisciplineKind
    decided_on: date
    document: str
    reasons: str
    record: str = strawberry.field(description="The dishonest record it was filed as.")
    status: str | None = strawberry.field(
        description="The record's: PENDING or RETURNED in review, PUBLISHED once approved."
    )
    filed_at: str


@strawberry.type
class SelfDisciplineEdge:
    cursor: str
    node: SelfDisciplineAction


@strawberry.type
class SelfDisciplineConnection:
    edges: list[SelfDisciplineEdge]
    page_info: PageInfo


def own_association(principal: Principal) -> Association:
    """The association the caller speaks for; FORBIDDEN for anyone else."""
    found = default_associations().get(principal.own_association() or "")
    if found is None:
        raise HubError(Code.FORBIDDEN, "only an industry association, for itself")
    return found


def _association(code: str) -> Association:
    found = default_associations().get(code)
    if found is None:
        raise HubError(Code.BAD_USER_INPUT, f"no association {code!r} in associations.yaml")
    return found


def _member_view(row: dict[str, Any]) -> Member:
    rating = row.get("rating")
    return Member(
        credit_code=row["creditCode"],
        name=row["name"],
        kind=SubjectKind(row["kind"]),
        division=division_view(row["division"]),
        status=row["status"],
        since=date.fromisoformat(row["since"]),
        grade=Grade(row["grade"]) if row.get("grade") else None,
        rating=rating_view(rating, member_scope(), row["division"], date.today())
        if rating
        else None,
        sanctions=[sanction_view(x) for x in row.get("sanctions") or [] if x["status"] == "ACTIVE"],
        records=[record_view(r) for r in row.get("records") or []],
    )


def _released(row: dict[str, Any]) -> list[str]:
    """What a member's row handed out, for the audit."""
    sanctions = [x["id"] for x in row.get("sanctions") or [] if x["status"] == "ACTIVE"]
    return [
        row["creditCode"],
        *sanctions,
        *(i for r in row.get("records") or [] for i in released_ids(r)),
    ]


def _parts(info: strawberry.Info, *path: str) -> frozenset[str]:
    """The nested parts of a member the query selects: the graph reads only those."""
    selected = selection(info)
    for name in path:  # down through edges { node { ... } }
        selected = selected.get(name, {})
    return MEMBER_PARTS.intersection(selected)


def _action_view(row: dict[str, Any]) -> SelfDisciplineAction:
    return SelfDisciplineAction(
        id=row["id"],
        credit_code=row["creditCode"],
        subject_name=row.get("subjectName"),
        action=SelfDisciplineKind(row["action"]),
        decided_on=date.fromisoformat(row["decidedOn"]),
        document=row["document"],
        reasons=row["reasons"],
        record=row["record"],
        status=row.get("status"),
        filed_at=row["filedAt"],
    )


@strawberry.type
class AssociationQueries:
    @strawberry.field(
        description="Your association's current members in credit-code order, each with its "
        "rating, listings in force and published records as a SHARED partner sees them.",
        permission_classes=[RootPolicy],
    )
    @resolver
    async def members(
        self, info: strawberry.Info, first: int = 20, after: str | None = None
    ) -> MemberConnection:
        context = ctx(info)
        association = own_association(context.principal)
        size = page_size(first)
        start = decode_cursor(after, _MEMBER_CURSOR) if after else ""
        rows = await members(
            context.store, association.code, member_scope().params(),
            _parts(info, "edges", "node"), start, size + 1,
        )  # fmt: skip
        page = rows[:size]
        audit(info, None, (i for row in page for i in _released(row)))
        edges = [
            MemberEdge(cursor=encode_cursor(r["creditCode"], _MEMBER_CURSOR), node=_member_view(r))
            for r in page
        ]
        return MemberConnection(
            edges=edges,
            page_info=PageInfo(
                has_next_page=len(rows) > size, end_cursor=edges[-1].cursor if edges else None
            ),
        )

    @strawberry.field(
        description="One of your members by credit code; null for anyone who is not (exactly "
        "as for an unknown code).",
        permission_classes=[RootPolicy],
    )
    @resolver
    async def member(self, info: strawberry.Info, credit_code: str) -> Member | None:
        context = ctx(info)
        association = own_association(context.principal)
        code = parse_code(credit_code)
        row = await member(
            context.store, association.code, code, member_scope().params(), _parts(info)
        )
        if row is None:
            audit(info, None, ())  # a non-member is not named in the trail as one asked about
            return None
        audit(info, code, _released(row))
        return _member_view(row)

    @strawberry.field(
        description="The self-discipline actions your association filed, newest first, each "
        "with the status of its record in review.",
        permission_classes=[RootPolicy],
    )
    @resolver
    async def self_discipline_actions(
        self, info: strawberry.Info, first: int = 20, after: str | None = None
    ) -> SelfDisciplineConnection:
        context = ctx(info)
        association = own_association(context.principal)
        size = page_size(first)
        before = decode_cursor(after, _ACTION_CURSOR) if after else "~"  # "~" sorts after ids
        rows = await actions_of(context.store, association.code, before, size + 1)
        page = rows[:size]
        audit(info, None, (r["id"] for r in page))
        edges = [
            SelfDisciplineEdge(cursor=encode_cursor(r["id"], _ACTION_CURSOR), node=_action_view(r))
            for r in page
        ]
        return SelfDisciplineConnection(
            edges=edges,
            page_info=PageInfo(
                has_next_page=len(rows) > size, end_cursor=edges[-1].cursor if edges else None
            ),
        )


def _refused(exc: AssociationRefused) -> HubError:
    return HubError(Code(exc.code), str(exc), reason=exc.reason)


@strawberry.type
class AssociationMutations:
    @strawberry.mutation(
        description="Record that a subject is a member of an association since a day (a "
        "current membership gets the day given).",
        permission_classes=[RootPolicy],
    )
    @resolver
    async def set_membership(
        self, info: strawberry.Info, association: str, credit_code: str, since: date
    ) -> Membership:
        context = ctx(info)
        found, code = _association(association), parse_code(credit_code)
        try:
            saved = await set_membership(
                context.store, found, code, since=since, by=context.principal.subject,
                today=date.today(),
            )  # fmt: skip
        except AssociationRefused as exc:
            audit(info, code, (association,), "DENY", "write")
            raise _refused(exc) from None
        audit(info, code, (association,), action="write")
        return Membership(association=found.code, credit_code=code, since=saved.since, until=None)

    @strawberry.mutation(
        description="End a subject's current membership of an association on a day (today "
        "when left out).",
        permission_classes=[RootPolicy],
    )
    @resolver
    async def end_membership(
        self, info: strawberry.Info, association: str, credit_code: str, until: date | None = None
    ) -> Membership:
        context = ctx(info)
        found, code = _association(association), parse_code(credit_code)
        try:
            ended = await end_membership(
                context.store, found.code, code, until=until or date.today(),
                by=context.principal.subject, today=date.today(),
            )  # fmt: skip
        except AssociationRefused as exc:
            audit(info, code, (association,), "DENY", "write")
            raise _refused(exc) from None
        audit(info, code, (association,), action="write")
        return Membership(
            association=found.code, credit_code=code, since=ended.since, until=ended.until
        )

    @strawberry.mutation(
        description="File a self-discipline action against one of your members: a dishonest "
        "record (ASSOCIATION_DISCIPLINE) goes to the reviewers of the member's unit; it is "
        "published only once they approve. NOT_FOUND for anyone who is not your member.",
        permission_classes=[RootPolicy],
    )
    @resolver
    async def record_self_discipline(
        self, info: strawberry.Info, credit_code: str, input: SelfDisciplineInput
    ) -> SelfDisciplineAction:
        context = ctx(info)
        association = own_association(context.principal)
        code = parse_code(credit_code)
        action = default_associations().actions[input.action.value]
        try:
            filed = await record_action(
                context.store, association, action, code, decided_on=input.decided_on,
                document=input.document, reasons=input.reasons, by=context.principal.subject,
                today=date.today(),
            )  # fmt: skip
        except AssociationRefused as exc:
            audit(info, None, (), "DENY", "write")
            raise _refused(exc) from None
        audit(info, code, (filed.id, filed.record), action="write")
        row = await action_of(context.store, association.code, filed.id)
        assert row is not None  # written in the transaction that just committed
        return _action_view(row)
