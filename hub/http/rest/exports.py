"""``GET /exports/network``: an investigator takes a subject's network away as a file.

The same traversal as the GraphQL ``network`` field (limits, fan-out, exposure rules, the
caller's read scope), answered as JSON, CSV (for Excel) or GraphML (for Gephi, yEd, networkx).
Only the roles access.yaml lists for ``network`` may export; refusals are GraphQL-shaped JSON
errors, and every export is audited before the data leaves: if Redis refuses, it does not leave.
"""

from __future__ import annotations

import csv
import io
import re
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from redis.exceptions import RedisError
from starlette.datastructures import QueryParams
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from graph.investigate.network import RELATION_KINDS, Network, network
from hub.api.context import bounded, parse_code, to_date
from hub.api.guards import Refusal
from hub.api.investigate.network import FANOUT
from hub.api.rate import spend
from hub.errors import Code, HubError, backing_services, refusal_response
from hub.http.rest.endpoint import Rest
from policies.access import read_scope
from policies.credit.exposure import default_rules
from policies.principal import Principal

FIELD = "GET /exports/network"
FORMATS = ("json", "csv", "graphml")
PARAMS = frozenset({"creditCode", "depth", "format", "relations", "asOf", "limit"})
MAX_DEPTH, MAX_LIMIT = 4, 500
CSV_COLUMNS = (
    "record",
    "id",
    "kind",
    "key",
    "label",
    "status",
    "grade",
    "sanctioned",
    "hub",
    "source",
    "target",
    "since",
    "until",
    "share",
    "role",
)
GRAPHML_NS = "http://graphml.graphdrawing.org/xmlns"
# (key id, for, attribute name, GraphML type): what each node and edge carries.
GRAPHML_KEYS = (
    ("n_kind", "node", "kind", "string"),
    ("n_key", "node", "key", "string"),
    ("n_label", "node", "label", "string"),
    ("n_status", "node", "status", "string"),
    ("n_grade", "node", "grade", "string"),
    ("n_sanctioned", "node", "sanctioned", "boolean"),
    ("n_hub", "node", "hub", "boolean"),
    ("e_kind", "edge", "kind", "string"),
    ("e_since", "edge", "since", "string"),
    ("e_until", "edge", "until", "string"),
    ("e_share", "edge", "share", "double"),
    ("e_role", "edge", "role", "string"),
)
_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
# Characters XML 1.0 cannot carry even escaped; imported text could hold them.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_FORMULA = ("=", "+", "-", "@", "\t", "\r")  # a cell Excel would run as a formula


@dataclass(frozen=True, slots=True)
class ExportRequest:
    code: str
    depth: int
    kinds: list[str]
    as_of: date
    limit: int
    fmt: str


# --- parameters ------------------------------------------------------------------------------


def _single(params: QueryParams, name: str) -> str | None:
    values = params.getlist(name)
    if len(values) > 1:
        raise HubError(Code.BAD_USER_INPUT, f"give {name} once")
    return values[0] if values else None


def _integer(params: QueryParams, name: str, default: int, high: int) -> int:
    """Not a number is a bad request; a number out of range is a limit, as in GraphQL."""
    raw = _single(params, name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise HubError(Code.BAD_USER_INPUT, f"{name} must be an integer") from None
    return bounded(name, value, 1, high)


def _kinds(raw: str | None) -> list[str]:
    """Comma-separated relationship kinds; none given means every kind."""
    chosen = list(dict.fromkeys(k.strip() for k in (raw or "").split(",") if k.strip()))
    unknown = [k for k in chosen if k not in RELATION_KINDS]
    if unknown:
        raise HubError(
            Code.BAD_USER_INPUT,
            f"unknown relation kind(s) {', '.join(unknown)}; known: {', '.join(RELATION_KINDS)}",
        )
    return chosen or list(RELATION_KINDS)


def _as_of(raw: str | None) -> date:
    if raw is None:
        return date.today()
    try:
        if not _DAY.match(raw):
            raise ValueError(raw)
        return date.fromisoformat(raw)
    except ValueError:
        raise HubError(Code.BAD_USER_INPUT, "asOf must be a date YYYY-MM-DD") from None


def _format(raw: str | None) -> str:
    fmt = (raw or "json").lower()
    if fmt not in FORMATS:
        raise HubError(Code.BAD_USER_INPUT, f"format is one of {', '.join(FORMATS)}")
    return fmt


def parse_request(params: QueryParams) -> ExportRequest:
    """Every parameter checked before the graph is touched; a misspelt one is refused rather
    than silently ignored (an ignored ``asof`` would export today's network)."""
    unknown = sorted(set(params.keys()) - PARAMS)
    if unknown:
        raise HubError(Code.BAD_USER_INPUT, f"unknown parameter(s) {', '.join(unknown)}")
    raw_code = _single(params, "creditCode")
    if raw_code is None:
        raise HubError(Code.BAD_USER_INPUT, "creditCode is required")
    return ExportRequest(
        code=parse_code(raw_code),
        depth=_integer(params, "depth", 2, MAX_DEPTH),
        kinds=_kinds(_single(params, "relations")),
        as_of=_as_of(_single(params, "asOf")),
        limit=_integer(params, "limit", 200, MAX_LIMIT),
        fmt=_format(_single(params, "format")),
    )


# --- the network as plain data ------------------------------------------------------------------


def _day(value: str | None) -> str | None:
    day = to_date(value)
    return day.isoformat() if day else None


def _node(n: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": n["id"],
        "kind": n["kind"],
        "key": n["key"],
        "label": n.get("label"),
        "status": n.get("status"),
        "grade": n.get("grade"),
        "sanctioned": bool(n.get("sanctioned")),
        "hub": bool(n.get("hub")),
    }


def _edge(e: dict[str, Any], ids: dict[str, str]) -> dict[str, Any]:
    share = e.get("share")
    return {
        "kind": e["kind"],
        "source": ids[e["from"]],
        "target": ids[e["to"]],
        "since": _day(e.get("since")),
        "until": _day(e.get("until")),
        "share": None if share is None else float(share),
        "role": e.get("role"),
    }


def network_answer(code: str, net: Network) -> dict[str, Any]:
    """The GraphQL field's answer as plain data, plus the subject it was asked for."""
    ids = net.ids()
    return {
        "subject": code,
        "nodes": [_node(n) for n in net.nodes.values()],
        "edges": [_edge(e, ids) for e in net.edges.values()],
        "truncated": net.truncated,
        "capped": sorted(ids[eid] for eid in net.capped),
    }


# --- files ---------------------------------------------------------------------------------


def _cell(value: Any) -> str:
    """Text as Excel should show it: a leading quote keeps ``=…`` from running as a formula."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    text = str(value)
    return "'" + text if isinstance(value, str) and text.startswith(_FORMULA) else text


def to_csv(answer: dict[str, Any]) -> bytes:
    """Nodes then edges in one sheet; the BOM makes Excel read the Chinese as UTF-8."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    for node in answer["nodes"]:
        writer.writerow({"record": "node", **{k: _cell(v) for k, v in node.items()}})
    for edge in answer["edges"]:
        writer.writerow({"record": "edge", **{k: _cell(v) for k, v in edge.items()}})
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def _xml(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return _NOT_XML.sub("", str(value))


def _data(element: ET.Element, of: str, values: dict[str, Any]) -> None:
    for key_id, target, name, _ in GRAPHML_KEYS:
        if target == of and values.get(name) is not None:
            ET.SubElement(element, "data", key=key_id).text = _xml(values[name])


def _keys(root: ET.Element) -> None:
    for key_id, target, name, kind in GRAPHML_KEYS:
        attributes = {"id": key_id, "for": target, "attr.name": name, "attr.type": kind}
        ET.SubElement(root, "key", attributes)


def _elements(
    graph: ET.Element, nodes: Iterable[dict[str, Any]], edges: Iterable[dict[str, Any]]
) -> None:
    for node in nodes:
        _data(ET.SubElement(graph, "node", id=_xml(node["id"])), "node", node)
    for edge in edges:
        ends = {"source": _xml(edge["source"]), "target": _xml(edge["target"])}
        _data(ET.SubElement(graph, "edge", ends), "edge", edge)


def to_graphml(answer: dict[str, Any]) -> bytes:
    """A directed GraphML graph; ElementTree escapes the text, node ids stay ``Kind:key``."""
    # Plain tags under a literal xmlns: ElementTree's default_namespace option refuses the
    # unqualified attributes (id, source, attr.name) GraphML requires.
    root = ET.Element("graphml", xmlns=GRAPHML_NS)
    _keys(root)
    graph = ET.SubElement(root, "graph", id=f"network-{answer['subject']}", edgedefault="directed")
    _elements(graph, answer["nodes"], answer["edges"])
    data: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return data


def _file(answer: dict[str, Any], fmt: str) -> Response:
    if fmt == "json":
        return JSONResponse(answer)
    name = f"network-{answer['subject']}.{fmt}"
    headers = {"Content-Disposition": f'attachment; filename="{name}"'}
    if fmt == "csv":
        return Response(to_csv(answer), media_type="text/csv; charset=utf-8", headers=headers)
    return Response(to_graphml(answer), media_type="application/graphml+xml", headers=headers)


# --- the endpoint ------------------------------------------------------------------------------


async def _load(request: Request, principal: Principal, asked: ExportRequest) -> Network:
    """The GraphQL field's traversal with the caller's scope; NOT_FOUND when not visible."""
    state = request.app.state
    with backing_services():
        net = await network(
            state.store,
            asked.code,
            depth=asked.depth,
            types=asked.kinds,
            as_of=asked.as_of,
            limit=asked.limit,
            fanout=FANOUT,
            rules=default_rules(),
            scope=read_scope(principal, state.policy).params(),
        )
    if net is None:
        raise HubError(Code.NOT_FOUND, "no such subject visible to you")
    return net


def _refusal(request: Request, principal: Principal) -> str | None:
    """Only the roles allowed the GraphQL ``network`` field export it."""
    if request.app.state.policy.may_call(principal, "network"):
        return None
    return "your role may not export networks"


EXPORT = Rest(FIELD, "read", _refusal)


@EXPORT.endpoint
async def export_network(request: Request, principal: Principal) -> Response:
    asked = parse_request(request.query_params)
    try:
        # The same per-client budget as GraphQL: an export costs a node per node it may hold.
        state = request.app.state
        await spend(state.redis, principal, asked.limit, state.limits, time.time())
    except Refusal as refusal:
        retry = refusal.extensions.get("retryAfter")
        headers = {"Retry-After": str(retry)} if retry else {}
        return refusal_response(
            HubError(refusal.code, str(refusal), **refusal.extensions), **headers
        )
    except RedisError:
        raise HubError(Code.UNAVAILABLE, "the rate-limit store is unavailable; retry") from None
    net = await _load(request, principal, asked)
    answer = network_answer(asked.code, net)
    released = tuple(sorted(n["id"] for n in answer["nodes"]))
    await EXPORT.audit(request, principal, "ALLOW", subject=asked.code, released=released)
    return _file(answer, asked.fmt)
