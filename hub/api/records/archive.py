"""``archiveImport``: an archive import of the caller's unit, its progress and rejected rows."""

from __future__ import annotations

from datetime import datetime

import strawberry

from graph.archive.imports import find_import, rejections
from hub.api.context import RootPolicy, audit, ctx, page_size, resolver
from hub.api.records.units import unit_of
from policies.units import covers


@strawberry.type(description="A rejected row of an archive file.")
class ImportRejection:
    line: int
    reason: str
    message: str


@strawberry.type(description="An archive import: progress while it runs, the report after.")
class ArchiveImport:
    id: str
    agency: str
    status: str = strawberry.field(description="QUEUED, RUNNING, DONE or FAILED.")
    file_name: str | None
    format: str | None
    read: int
    created: int
    updated: int
    unchanged: int
    rejected: int
    error: str | None
    started_at: datetime | None
    finished_at: datetime | None

    @strawberry.field(description="Rejected rows in line order, 100 at most per page.")
    @resolver
    async def rejections(
        self, info: strawberry.Info, after_line: int = 0, first: int = 100
    ) -> list[ImportRejection]:
        page_size(first)
        context = ctx(info)
        found = await rejections(context.store, self.id, after_line, first)
        return [ImportRejection(line=r.line, reason=r.reason, message=r.message) for r in found]

    @strawberry.field
    def accepted(self) -> int:
        return self.created + self.updated


def _import_view(row: dict[str, object]) -> ArchiveImport:
    def count(key: str) -> int:
        value = row.get(key)
        return int(value) if isinstance(value, int) else 0

    def when(key: str) -> datetime | None:
        value = row.get(key)
        return datetime.fromisoformat(value) if isinstance(value, str) else None

    return ArchiveImport(
        id=str(row["id"]),
        agency=str(row["agency"]),
        status=str(row["status"]),
        file_name=row.get("fileName"),  # type: ignore[arg-type]
        format=row.get("format"),  # type: ignore[arg-type]
        read=count("read"),
        created=count("created"),
        updated=count("updated"),
        unchanged=count("unchanged"),
        rejected=count("rejected"),
        error=row.get("error"),  # type: ignore[arg-type]
        started_at=when("startedAt"),
        finished_at=when("finishedAt"),
    )


@strawberry.type
class ArchiveQueries:
    @strawberry.field(
        description="An archive import of your unit: progress, counts, rejected rows.",
        permission_classes=[RootPolicy],
    )
    @resolver
    async def archive_import(self, info: strawberry.Info, id: str) -> ArchiveImport | None:
        context = ctx(info)
        own = unit_of(context.principal)
        row = await find_import(context.store, id)
        if row is None or not covers(own, str(row["agency"])):
            return None  # someone else's import reads as absent
        audit(info, None, (id,))
        return _import_view(row)
