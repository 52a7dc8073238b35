"""``creditRecord``: one record by id, whatever its status, as far as the caller may read it."""

from __future__ import annotations

import strawberry

from graph.subjects import record_by_id
from hub.api.context import RootPolicy, audit, ctx, resolver
from hub.api.records.types import CreditRecord, record_view, released_ids


@strawberry.type
class LookupQueries:
    @strawberry.field(
        description="One record by id with its earlier versions and any proposed change, "
        "whatever its status (withdrawn and expired ones too); null when you may not read it.",
        permission_classes=[RootPolicy],
    )
    @resolver
    async def credit_record(self, info: strawberry.Info, id: str) -> CreditRecord | None:
        context = ctx(info)
        found = await record_by_id(context.store, id, context.scope)
        if found is None:
            return None
        row, subject = found
        audit(info, subject, released_ids(row))
        return record_view(row)
