"""Name search for investigators (full text over Chinese names, pinyin, initials) and the
resident-ID lookup of people by their keyed hash.

Chinese input goes to the full-text index (CJK analyzer) as a phrase over the name and its
normalised form; Latin input is pinyin and goes to the pinyin and initials indexes. Subjects the
caller may not read are left out, as everywhere.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, LiteralString

from graph.db import Store
from graph.investigate.patterns import node_visible
from policies.names import is_pinyin, name_keys, normalise

_HIT = """CASE WHEN n:Subject
  THEN {kind: 'Subject', key: n.creditCode, name: n.name, division: n.division}
  ELSE {kind: 'Person', key: n.personId, name: n.name, division: null} END"""

FULLTEXT = f"""
CALL db.index.fulltext.queryNodes('name_fulltext', $lucene, {{limit: $limit * 5}})
YIELD node AS n, score
WHERE (n:Subject OR n:Person) AND (n:Subject OR $people) AND (n:Person OR $subjects)
  AND {node_visible("n")}
RETURN {_HIT} AS hit, score
ORDER BY score DESC, hit.key
LIMIT $limit
"""

PINYIN = f"""
CALL () {{
  MATCH (n:Subject) WHERE $subjects AND (n.nameInitials = $q OR n.namePinyin CONTAINS $q)
  RETURN n
  UNION
  MATCH (n:Person) WHERE $people AND (n.nameInitials = $q OR n.namePinyin CONTAINS $q)
  RETURN n
}}
WITH n WHERE {node_visible("n")}
WITH n, CASE WHEN n.nameInitials = $q OR n.namePinyin = $q THEN 2.0
             WHEN n.namePinyin STARTS WITH $q THEN 1.5 ELSE 1.0 END AS score
RETURN {_HIT} AS hit, score
ORDER BY score DESC, size(n.name), hit.key
LIMIT $limit
"""

PERSON = f"""
MATCH (p:Person {{personId: $key}})
RETURN p.personId AS key, p.name AS name, p.idMasked AS idMasked,
  COLLECT {{
    MATCH (p)-[r]->(s:Subject) WHERE {node_visible("s")}
    RETURN {{kind: type(r), creditCode: s.creditCode, name: s.name, since: toString(r.since),
            until: toString(r.until), share: r.share, role: r.role}}
    ORDER BY s.creditCode, type(r)
  }} AS ties
"""

_LUCENE_SPECIAL = set('+-&|!(){}[]^"~*?:\\/')


def lucene_phrase(text: str) -> str:
    """A phrase query for the text, with every Lucene operator escaped."""
    escaped = "".join(f"\\{c}" if c in _LUCENE_SPECIAL else c for c in text)
    return f'"{escaped}"'


async def search_names(
    store: Store,
    text: str,
    *,
    subjects: bool,
    people: bool,
    limit: int,
    scope: dict[str, Any],
) -> tuple[str, list[dict[str, Any]]]:
    """(how it matched: fulltext or pinyin, hits with their score)."""
    core = normalise(text)
    common = {"subjects": subjects, "people": people, "limit": limit, **scope}
    if is_pinyin(text):
        records = await store.read(PINYIN, q=core, **common)
        how = "pinyin"
    else:
        records = await store.read(FULLTEXT, lucene=lucene_phrase(core), **common)
        how = "fulltext"
    return how, [{**r["hit"], "score": r["score"]} for r in records]


async def person_by_key(store: Store, key: str, scope: dict[str, Any]) -> dict[str, Any] | None:
    records = await store.read(PERSON, key=key, **scope)
    return dict(records[0]) if records else None


# --- search keys -------------------------------------------------------------------------------

# Graphs imported before migration 7, or after the normalisation rules changed, lack the keys or
# hold stale ones. Pages walk each label's unique key in order, so a pass resumes nowhere twice.
_KEYED: dict[str, LiteralString] = {
    "Subject": """
MATCH (n:Subject) WHERE n.creditCode > $after AND ($everything OR n.nameNormalised IS NULL)
RETURN n.creditCode AS key, n.name AS name ORDER BY key LIMIT $size""",
    "Person": """
MATCH (n:Person) WHERE n.personId > $after AND ($everything OR n.nameNormalised IS NULL)
RETURN n.personId AS key, n.name AS name ORDER BY key LIMIT $size""",
}
_WRITE_KEYS: dict[str, LiteralString] = {
    "Subject": """
UNWIND $rows AS row MATCH (n:Subject {creditCode: row.key})
SET n.nameNormalised = row.normalised, n.namePinyin = row.pinyin, n.nameInitials = row.initials""",
    "Person": """
UNWIND $rows AS row MATCH (n:Person {personId: row.key})
SET n.nameNormalised = row.normalised, n.namePinyin = row.pinyin, n.nameInitials = row.initials""",
}


async def reindex_names(
    store: Store,
    *,
    everything: bool,
    batch_size: int = 5000,
    progress: Callable[[str, int], None] = lambda label, done: None,
) -> dict[str, int]:
    """Write the search keys (normalised name, pinyin, initials) of subjects and people that lack
    them, or of all with ``everything``; returns how many of each were written."""
    written: dict[str, int] = {}
    for label, page in _KEYED.items():
        after, done = "", 0
        while True:
            records = await store.execute(
                page, after=after, everything=everything, size=batch_size, read=True
            )
            if not records:
                break
            rows = []
            for r in records:
                keys = name_keys(r["name"] or "")
                rows.append(
                    {
                        "key": r["key"],
                        "normalised": keys.normalised,
                        "pinyin": keys.pinyin,
                        "initials": keys.initials,
                    }
                )
            await store.execute(_WRITE_KEYS[label], rows=rows)
            after, done = records[-1]["key"], done + len(rows)
            progress(label, done)
        written[label] = done
    return written
