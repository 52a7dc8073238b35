"""The generator: ``generate(subjects, seed)`` streams the rows of a demo graph.

Rows are in the format of docs/data-format.md, the same rows in the same order for the same
arguments. Order: agencies, projects, the planted cases, then one block per subject (the people
it brings in first, then the subject, its relations, licences, records, sanctions and rating),
and finally project participation. Every row refers only to rows yielded before it.
"""

from __future__ import annotations

from collections.abc import Iterator

from demo.odds import MIN_PROJECTS, PROJECTS_PER_SUBJECT
from demo.people import people_relations
from demo.planted import planted_project, planted_rows
from demo.pools import Pools
from demo.projects import new_project, participation
from demo.records import licences, records
from demo.rows import Row, capped_score, rating_row
from demo.subjects import lineage, new_draft, remember, subject_row
from policies.units import units


def _rows(pools: Pools) -> Iterator[Row]:
    """Every row of the run, in the order the module docstring gives."""
    yield from _agencies()
    if pools.planted:
        yield planted_project()
    project_count = max(MIN_PROJECTS, round(pools.count * PROJECTS_PER_SUBJECT))
    for _ in range(project_count):
        yield new_project(pools)
    if pools.planted:
        yield from planted_rows()
    for serial in range(pools.count):
        yield from _subject(pools, serial)
    for project in pools.projects:
        yield from participation(pools, project)


def _agencies() -> Iterator[Row]:
    for unit in units():
        yield {
            "kind": "Agency",
            "code": unit.code,
            "name": unit.name,
            "level": unit.level.value,
            "division": unit.division,
        }


def _subject(pools: Pools, serial: int) -> list[Row]:
    """All rows of one subject: new people, the subject, relations, licences, records."""
    draft = new_draft(pools, serial)
    subject = subject_row(pools, draft)
    people: list[Row] = []
    relations = people_relations(pools, draft, people)
    rows = [*people, subject, *relations, *lineage(pools, draft), *licences(pools, draft)]
    score, serious_active, abnormal_active = records(pools, rows, draft)
    rows.append(rating_row(draft.code, capped_score(score, serious_active, abnormal_active)))
    remember(pools, draft, subject)
    return rows


def generate(subjects: int, seed: int) -> Iterator[Row]:
    """Stream the rows of a graph of ``subjects`` subjects; same arguments, same rows."""
    if subjects < 0:
        raise ValueError("subjects must not be negative")
    yield from _rows(Pools(subjects, seed))
