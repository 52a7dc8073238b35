"""A unit's case writes, each with its subject re-rated in the same transaction.

A case counts once in the rating (graph/rating.py), so the records a case concerns change the
grade the moment they are tied to it: opening a case on two records, or adding a judgment that
concerns a newer one, re-rates the subject (and tells partners ``rating.changed`` when the
consequences change) in the transaction that ties them.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from neo4j import AsyncManagedTransaction

from graph.cases.model import Added, NewCase, NewDocument, add_document_in, open_case_in
from graph.db import Store
from graph.rating import rate_in
from policies.cases import CaseRules

_SUBJECT = "MATCH (c:Case {id: $id}) RETURN c.creditCode AS code"


async def open_case(store: Store, case: NewCase, prefix: str, today: date) -> str:
    """Open a case (graph/cases/model.py) and re-rate its subject; the new case's id."""

    async def work(tx: AsyncManagedTransaction) -> str:
        case_id = await open_case_in(tx, case, prefix, datetime.now(UTC))
        if case.records:
            await rate_in(tx, [case.code], today)
        return case_id

    return await store.write(work)


async def add_document(
    store: Store, case_id: str, document: NewDocument, prefix: str, rules: CaseRules, today: date
) -> Added:
    """Add a document to a case (graph/cases/model.py); one that ties records to the case
    re-rates its subject."""

    async def work(tx: AsyncManagedTransaction) -> Added:
        added = await add_document_in(tx, case_id, document, prefix, rules, datetime.now(UTC))
        if added.created and document.records:
            row = await (await tx.run(_SUBJECT, id=case_id)).single(strict=True)
            await rate_in(tx, [row["code"]], today)
        return added

    return await store.write(work)
