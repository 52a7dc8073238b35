"""``sanctionFeed``: the delta feed for partners that poll instead of receiving webhooks.

Each entry is one outbox event, ADD (a listing published), MOD (changed) or DEL (ended: stop
applying it), or GRADE (a subject's grade changed what the partner must do: apply the
consequences of the new grade), in the order the hub wrote them. The cursor is the event's
feed version, kept in the graph, so a partner resumes where it stopped across restarts of either
side. A partner sees
only events of its agreement: its registered kind's measures, and disclosure classes up to the
lower of its token's clearance and its registered one.

``sanctionSnapshot`` is where a partner starts: the listings in force at one feed version, paged,
and the feed cursor to follow from that version (graph/exchange/snapshot.py),
so that snapshot and deltas
together hold every listing once.

Events past their retention period are removed (graph/retention.py): a cursor from before what
was removed is refused with ``reason: CURSOR_EXPIRED``, and the partner starts again from the
snapshot, which keeps every listing in force.
"""

from __future__ import annotations

from datetime import date
from enum import Enum

import strawberry

from graph.exchange.outbox import FeedEvent, feed
from graph.exchange.partners import find
from graph.exchange.snapshot import current_version, snapshot
from graph.retention import feed_horizon
from hub.api.context import (
    RootPolicy,
    audit,
    ctx,
    decode_cursor,
    decode_number_cursor,
    encode_cursor,
    foreign_cursor,
    page_size,
    resolver,
)
from hub.api.rating import Grade
from hub.errors import Code, HubError
from policies.principal import Clearance

_FEED_CURSOR = "f1:"
_SNAPSHOT_CURSOR = "n1:"
_OPS = {
    "sanction.listed": "ADD",
    "sanction.modified": "MOD",
    "sanction.ended": "DEL",
    "rating.changed": "GRADE",
}


@strawberry.enum(description="What a feed entry asks of the partner.")
class FeedOp(Enum):
    ADD = "ADD"
    MOD = "MOD"
    DEL = "DEL"
    GRADE = "GRADE"


@strawberry.type(description="A measure the partner applies while the listing is in force.")
class FeedMeasure:
    code: str
    name: str
    basis: str


@strawberry.type(description="A grade consequence the partner acts on (GRADE entries).")
class FeedConsequence:
    code: str
    name: str


@strawberry.type(description="One change to a listing (ADD, MOD, DEL) or to a grade (GRADE).")
class FeedEntry:
    cursor: str
    version: int = strawberry.field(description="The feed's own count, gap-free and rising.")
    op: FeedOp
    event_id: str = strawberry.field(description="The same id webhooks carry: drop repeats.")
    sanction_id: str | None = strawberry.field(description="Null for GRADE entries.")
    credit_code: str
    name: str
    listing: str | None = strawberry.field(description="Null for GRADE entries.")
    status: str | None = strawberry.field(description="The listing's; null for GRADE entries.")
    start_date: date | None = strawberry.field(
        description="When the measures apply; for GRADE, the day the new grade took effect."
    )
    end_date: date | None
    measures: list[FeedMeasure]
    grade: Grade | None = strawberry.field(description="GRADE: the new grade.")
    previous_grade: Grade | None = strawberry.field(description="GRADE: the grade before.")
    consequences: list[FeedConsequence] = strawberry.field(
        description="GRADE: the new grade's consequences the partner's kind acts on."
    )
    at: str


@strawberry.type
class SanctionFeed:
    entries: list[FeedEntry]
    end_cursor: str | None = strawberry.field(
        description="Pass it as `after` next time (the same cursor when nothing was new)."
    )
    has_next_page: bool


@strawberry.type(description="The listings in force at one feed version, a page at a time.")
class SanctionSnapshot:
    entries: list[FeedEntry] = strawberry.field(
        description="Each listing's last change at `asOfVersion` (ADD or MOD), by listing id."
    )
    as_of_version: int = strawberry.field(description="The feed version the snapshot holds.")
    end_cursor: str | None = strawberry.field(
        description="Pass it as `after` for the next page of this same snapshot."
    )
    has_next_page: bool
    feed_cursor: str = strawberry.field(
        description="When the last page is read, pass it as sanctionFeed's `after`: the deltas "
        "since `asOfVersion`, none missed and none repeated."
    )


def _day(value: object) -> date | None:
    return date.fromisoformat(value) if isinstance(value, str) else None


def _entry(e: FeedEvent, kind: str | None, cursor: str | None = None) -> FeedEntry:
    """A feed entry; in a snapshot (``cursor`` given) every entry is an ADD."""
    data = e.data
    if e.type == "rating.changed":
        return _grade_entry(e, kind)
    return FeedEntry(
        cursor=cursor or encode_cursor(str(e.version), _FEED_CURSOR),
        version=e.version,
        op=FeedOp.ADD if cursor else FeedOp(_OPS[e.type]),
        event_id=e.id,
        sanction_id=data["sanctionId"],
        credit_code=data["creditCode"],
        name=data["name"],
        listing=data["listing"],
        status=data["status"],
        start_date=_day(data.get("startDate")),
        end_date=_day(data.get("endDate")),
        measures=[
            FeedMeasure(code=m["code"], name=m["name"], basis=m["basis"])
            for m in data.get("measures", [])
            if kind is None or m["partnerKind"] == kind
        ],
        grade=None,
        previous_grade=None,
        consequences=[],
        at=e.at,
    )


def _grade_entry(e: FeedEvent, kind: str | None) -> FeedEntry:
    data = e.data
    return FeedEntry(
        cursor=encode_cursor(str(e.version), _FEED_CURSOR),
        version=e.version,
        op=FeedOp.GRADE,
        event_id=e.id,
        sanction_id=None,
        credit_code=data["creditCode"],
        name=data["name"],
        listing=None,
        status=None,
        start_date=_day(data.get("effectiveFrom")),
        end_date=None,
        measures=[],
        grade=Grade(data["grade"]),
        previous_grade=Grade(data["previousGrade"]),
        consequences=[
            FeedConsequence(code=c["code"], name=c["name"])
            for c in data.get("consequences", [])
            if c["partnerKinds"] and (kind is None or kind in c["partnerKinds"])
        ],
        at=e.at,
    )


def _expired(horizon: int) -> HubError:
    """The answer to a cursor from before events were removed (graph/retention.py): what it
    would have read is partly gone, so the partner starts again from the snapshot."""
    return HubError(
        Code.BAD_USER_INPUT,
        "events after this cursor have passed their retention period and were removed: page "
        "sanctionSnapshot from its start, then follow sanctionFeed from its feedCursor",
        reason="CURSOR_EXPIRED",
        horizon=horizon,
    )


async def _agreement(info: strawberry.Info) -> tuple[dict[str, object], str | None, str | None]:
    """The read scope, partner kind and association of the caller: a partner reads as its
    registration allows (refused when it has none; an association's partner only its
    members' listings), others by their token alone."""
    context = ctx(info)
    principal = context.principal
    scope: dict[str, object] = dict(context.scope)
    if principal.level != "PARTNER":
        return scope, None, None
    registered = await find(context.store, principal.agency)
    if registered is None or registered.status == "DISABLED":
        audit(info, None, (), "DENY")
        raise HubError(
            Code.FORBIDDEN,
            f"{principal.agency} is not a registered partner; ask the hub's operators",
        )
    # Its registered agreement caps what its token may read.
    agreed = Clearance[registered.clearance]
    scope["anywhere"] = [c for c in context.scope["anywhere"] if Clearance[c] <= agreed]
    return scope, registered.kind, registered.association


@strawberry.type
class FeedQueries:
    @strawberry.field(
        description="Listings added, changed and ended, oldest first, after a cursor: a "
        "versioned ADD/MOD/DEL delta feed whose cursor survives restarts.",
        permission_classes=[RootPolicy],
    )
    @resolver
    async def sanction_feed(
        self, info: strawberry.Info, after: str | None = None, first: int = 20
    ) -> SanctionFeed:
        context = ctx(info)
        size = page_size(first)
        since = decode_number_cursor(after, _FEED_CURSOR) if after else 0
        scope, kind, association = await _agreement(info)
        horizon = await feed_horizon(context.store, kind)
        if since < horizon.feed:
            raise _expired(horizon.feed)
        rows = await feed(context.store, since, size + 1, scope, kind, association)
        page = rows[:size]
        audit(info, None, sorted({e.data["creditCode"] for e in page}))
        return SanctionFeed(
            entries=[_entry(e, kind) for e in page],
            end_cursor=encode_cursor(str(page[-1].version), _FEED_CURSOR) if page else after,
            has_next_page=len(rows) > size,
        )

    @strawberry.field(
        description="The listings in force, as of one feed version, paged by listing: where a "
        "partner registered today starts before it follows sanctionFeed from `feedCursor`.",
        permission_classes=[RootPolicy],
    )
    @resolver
    async def sanction_snapshot(
        self, info: strawberry.Info, after: str | None = None, first: int = 20
    ) -> SanctionSnapshot:
        context = ctx(info)
        size = page_size(first)
        scope, kind, association = await _agreement(info)
        if after:
            version, _, key = decode_cursor(after, _SNAPSHOT_CURSOR).partition(":")
            if not version.isdigit() or not key:
                raise foreign_cursor()
            as_of = int(version)
            horizon = await feed_horizon(context.store, kind)
            if as_of < horizon.snapshots:
                raise _expired(horizon.snapshots)
        else:
            as_of, key = (
                await current_version(context.store),
                "",
            )
        rows = await snapshot(context.store, as_of, key, size + 1, scope, kind, association)
        page = rows[:size]
        audit(info, None, sorted({e.data["creditCode"] for _, e in page}))
        last = page[-1][0] if page else key
        return SanctionSnapshot(
            entries=[
                _entry(e, kind, encode_cursor(f"{as_of}:{k}", _SNAPSHOT_CURSOR)) for k, e in page
            ],
            as_of_version=as_of,
            end_cursor=encode_cursor(f"{as_of}:{last}", _SNAPSHOT_CURSOR) if last else after,
            has_next_page=len(rows) > size,
            feed_cursor=encode_cursor(str(as_of), _FEED_CURSOR),
        )
