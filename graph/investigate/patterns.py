"""The Cypher fragments every traversal shares: links followed, nodes shown, links in force.

Which relationships are followed, when a node may be shown or crossed (visible to the caller, not
a hub), when a link is in force, and how a node is returned.
"""

from __future__ import annotations

from policies.access import cypher_node

LINKS = (
    "LEGAL_REPRESENTATIVE_OF|CONTROLS|SHAREHOLDER_OF|SUCCEEDED_BY|BRANCH_OF|OFFICER_OF"
    "|HAS_PHONE|HAS_EMAIL|HAS_ADDRESS"
)


def node_visible(n: str) -> str:
    """A node on a traversal is shown only when the caller may read it (policies/access.py)."""
    return cypher_node(n)


NOT_HUB = "(NOT (n:Phone OR n:Address OR n:Email) OR COUNT { (n)--() } <= $hubDegree)"
IN_FORCE = "(r.until IS NULL OR r.until >= $today)"
ACTIVE_LISTING = f"""(sn:Sanction)-[:SANCTIONED]->(x)
WHERE sn.listing IN $listings AND sn.status = 'ACTIVE'
  AND (sn.endDate IS NULL OR sn.endDate >= $today) AND {node_visible("sn")}"""
# A node on a path, as the caller may see it.
PATH_NODE = """CASE
  WHEN n:Subject THEN {kind: 'Subject', key: n.creditCode, name: n.name,
                        registeredOn: toString(n.registeredOn)}
  WHEN n:Person THEN {kind: 'Person', key: n.personId, name: n.name}
  WHEN n:Phone THEN {kind: 'Phone', key: n.number, name: n.number}
  WHEN n:Address THEN {kind: 'Address', key: n.text, name: n.text}
  ELSE {kind: 'Email', key: n.address, name: n.address}
END"""


# Every node and relationship of a path: no hub crossed, no hidden subject, in force today.
ON_PATH = f"""all(n IN nodes(path) WHERE {NOT_HUB} AND {node_visible("n")})
  AND all(r IN relationships(path) WHERE {IN_FORCE})"""


def checked_depth(depth: int) -> int:
    """A traversal depth, checked before it goes into a query template."""
    if not 1 <= depth <= 4:
        raise ValueError("depth is 1-4")
    return depth


# A node as the network shows it: a stable id (kind:key), what it is, and whether it is
# sanctioned (a subject with an active listing) or a hub (a value node not expanded).
NET_NODE = f"""CASE
  WHEN m:Subject THEN {{id: 'Subject:' + m.creditCode, kind: 'Subject', key: m.creditCode,
    label: m.name, status: m.status, grade: m.grade,
    sanctioned: EXISTS {{ MATCH (x:Sanction)-[:SANCTIONED]->(m) WHERE x.status = 'ACTIVE'
                         AND x.listing IN $listings AND (x.endDate IS NULL OR x.endDate >= $asOf)
                         AND {node_visible("x")} }}}}
  WHEN m:Person THEN {{id: 'Person:' + m.personId, kind: 'Person', key: m.personId, label: m.name}}
  WHEN m:Licence THEN {{id: 'Licence:' + m.id, kind: 'Licence', key: m.id, label: m.number}}
  WHEN m:Project THEN {{id: 'Project:' + m.id, kind: 'Project', key: m.id, label: m.name}}
  WHEN m:Sanction THEN {{id: 'Sanction:' + m.id, kind: 'Sanction', key: m.id, label: m.listing,
                        status: m.status}}
  WHEN m:Phone THEN {{id: 'Phone:' + m.number, kind: 'Phone', key: m.number, label: m.number,
                     hub: COUNT {{ (m)--() }} > $hubDegree}}
  WHEN m:Address THEN {{id: 'Address:' + m.text, kind: 'Address', key: m.text, label: m.text,
                       hub: COUNT {{ (m)--() }} > $hubDegree}}
  WHEN m:Email THEN {{id: 'Email:' + m.address, kind: 'Email', key: m.address, label: m.address,
                     hub: COUNT {{ (m)--() }} > $hubDegree}}
END"""
VALID_AS_OF = "(r.since IS NULL OR r.since <= $asOf) AND (r.until IS NULL OR r.until > $asOf)"
SHOWN_KINDS = (
    "(m:Subject OR m:Person OR m:Licence OR m:Project OR m:Sanction OR m:Phone"
    " OR m:Address OR m:Email)"
)

# A path an investigator may be shown: every node of a shown kind and visible, no hub on the
# way, every link in force.
PATH_SHOWN = f"""all(m IN nodes(p) WHERE {SHOWN_KINDS} AND {node_visible("m")}
      AND (NOT (m:Phone OR m:Address OR m:Email) OR COUNT {{ (m)--() }} <= $hubDegree))
  AND all(r IN relationships(p) WHERE {VALID_AS_OF})"""
