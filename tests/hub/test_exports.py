"""Network exports on the seeded graph: the three formats say the same as the GraphQL field,
only investigators may export, bad input is refused with a code, and exports are audited."""

from __future__ import annotations

import csv
import io
import json
import xml.etree.ElementTree as ET
from typing import Any

import httpx
import pytest

from demo.planted import PLANTED
from graph.identifiers import uscc_check_char
from hub.http.rest.exports import GRAPHML_NS, to_csv, to_graphml
from tests.audit import audit_trail
from tests.conftest import GraphQLClient, mint

NETWORK = """query($c: String!, $d: Int) {
  network(creditCode: $c, depth: $d) {
    nodes { id kind key label status grade sanctioned hub }
    edges { kind source target since until share role }
    truncated capped
  }
}"""
G = f"{{{GRAPHML_NS}}}"


@pytest.fixture
def token(api: str, seeded: int) -> str:
    return mint("investigator", agency="NMG150000", purpose="investigation:CASE-7")


def export(api: str, token: str | None, **params: str) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.get(f"{api}/exports/network", params=params, headers=headers, timeout=30)


def phoenix_export(api: str, token: str, fmt: str) -> httpx.Response:
    response = export(api, token, creditCode=PLANTED.phoenix.new_company, depth="2", format=fmt)
    assert response.status_code == 200, response.text
    return response


def _multiset(items: list[dict[str, Any]]) -> list[str]:
    return sorted(json.dumps(i, sort_keys=True, ensure_ascii=False) for i in items)


def test_json_equals_the_graphql_answer(api: str, token: str) -> None:
    phoenix = PLANTED.phoenix
    response = phoenix_export(api, token, "json")
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    nodes = {n["id"]: n for n in body["nodes"]}
    assert body["subject"] == phoenix.new_company
    assert nodes[f"Subject:{phoenix.sanctioned}"]["sanctioned"] is True
    graphql: dict[str, Any] = GraphQLClient(api, token).data(
        NETWORK, {"c": phoenix.new_company, "d": 2}
    )["network"]  # type: ignore[assignment]
    assert _multiset(body["nodes"]) == _multiset(graphql["nodes"])
    assert _multiset(body["edges"]) == _multiset(graphql["edges"])
    assert body["truncated"] == graphql["truncated"] and body["capped"] == graphql["capped"]


def test_csv_has_nodes_then_edges_between_them(api: str, token: str) -> None:
    response = phoenix_export(api, token, "csv")
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    name = f"network-{PLANTED.phoenix.new_company}.csv"
    assert name in response.headers["content-disposition"]
    assert response.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    records = [r["record"] for r in rows]
    assert records == sorted(records, key=lambda r: r != "node")  # nodes first
    nodes = {r["id"]: r for r in rows if r["record"] == "node"}
    edges = [r for r in rows if r["record"] == "edge"]
    assert nodes and edges
    assert nodes[f"Subject:{PLANTED.phoenix.sanctioned}"]["sanctioned"] == "true"
    for edge in edges:
        assert edge["source"] in nodes and edge["target"] in nodes


def test_graphml_matches_the_json(api: str, token: str) -> None:
    body = phoenix_export(api, token, "json").json()
    response = phoenix_export(api, token, "graphml")
    assert response.headers["content-type"].startswith("application/graphml+xml")
    root = ET.fromstring(response.content)
    assert root.tag == f"{G}graphml"
    keys = {k.get("id"): k.get("attr.type") for k in root.iter(f"{G}key")}
    assert keys["n_sanctioned"] == "boolean" and keys["e_share"] == "double"
    graph = root.find(f"{G}graph")
    assert graph is not None and graph.get("edgedefault") == "directed"
    ids = {n.get("id") for n in graph.iter(f"{G}node")}
    edges = list(graph.iter(f"{G}edge"))
    assert edges and len(ids) == len(body["nodes"]) and len(edges) == len(body["edges"])
    assert ids == {n["id"] for n in body["nodes"]}
    for edge in edges:
        assert edge.get("source") in ids and edge.get("target") in ids


def test_files_escape_what_would_break_them() -> None:
    answer = {
        "subject": "X",
        "nodes": [
            {"id": "Address:a", "kind": "Address", "key": "a", "label": '=HYPERLINK("x")'},
            {"id": "Person:b", "kind": "Person", "key": "b", "label": "<b>&\x01\"'"},
        ],
        "edges": [{"kind": "HAS_ADDRESS", "source": "Person:b", "target": "Address:a"}],
    }
    rows = list(csv.DictReader(io.StringIO(to_csv(answer).decode("utf-8-sig"))))
    assert rows[0]["label"] == '\'=HYPERLINK("x")'
    labels = [d.text for d in ET.fromstring(to_graphml(answer)).iter(f"{G}data")]
    assert "<b>&\"'" in labels


def test_refusals(api: str, token: str) -> None:
    code = PLANTED.phoenix.new_company
    cases: list[tuple[str | None, dict[str, str], int, str]] = [
        (None, {"creditCode": code}, 401, "UNAUTHENTICATED"),
        (mint("partner"), {"creditCode": code}, 403, "FORBIDDEN"),
        (token, {"creditCode": code, "format": "xlsx"}, 400, "BAD_USER_INPUT"),
        (token, {"creditCode": code, "relations": "KNOWS"}, 400, "BAD_USER_INPUT"),
        (token, {"creditCode": code, "asOf": "2024-13-01"}, 400, "BAD_USER_INPUT"),
        (token, {"creditCode": code, "depth": "5"}, 400, "LIMIT_EXCEEDED"),
        (token, {"creditCode": code, "limit": "501"}, 400, "LIMIT_EXCEEDED"),
        (token, {"creditCode": code[:17] + "?"}, 400, "INVALID_CREDIT_CODE"),
    ]
    for bearer, params, status, error in cases:
        response = export(api, bearer, **params)
        assert response.status_code == status, (params, response.text)
        assert response.json()["errors"][0]["extensions"]["code"] == error, params


def test_unknown_subject_is_not_found(api: str, token: str) -> None:
    unknown = "91152201MA0QQQQQQ"
    response = export(api, token, creditCode=unknown + uscc_check_char(unknown))
    assert response.status_code == 404
    assert response.json()["errors"][0]["extensions"]["code"] == "NOT_FOUND"


def test_exports_are_audited(api: str, token: str) -> None:
    code = PLANTED.phoenix.new_company
    phoenix_export(api, token, "csv")
    trail = audit_trail(api, code, "field purpose decision released")
    mine = [e for e in trail if e["field"] == "GET /exports/network"]
    assert mine and mine[-1]["decision"] == "ALLOW"
    assert mine[-1]["purpose"] == "investigation:CASE-7"
    assert f"Subject:{PLANTED.phoenix.sanctioned}" in mine[-1]["released"]
