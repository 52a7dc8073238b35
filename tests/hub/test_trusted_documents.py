"""Registered operations: partners restricted to them send a hash, nothing else runs."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from graph.trusted_documents import document_hash
from tests.conftest import (
    TEST_DATA,
    GraphQLClient,
    early_in_rate_window,
    free_port,
    hub_command,
    mint,
    start_api,
)

DOCUMENT = "query Me { me { agency roles } }\n"
STRICT_LIMITS = Path(__file__).resolve().parents[2] / "policies" / "limits.yaml"


@pytest.fixture(scope="module")
def registered(migrated: None, tmp_path_factory: pytest.TempPathFactory) -> str:
    file = tmp_path_factory.mktemp("ops") / "me.graphql"
    file.write_text(DOCUMENT, encoding="utf-8")
    result = hub_command("operations", "register", str(file))
    assert result.stdout.strip() == f"sha256:{document_hash(DOCUMENT)}"
    assert f"sha256:{document_hash(DOCUMENT)}  me" in hub_command("operations", "list").stdout
    return document_hash(DOCUMENT)


@pytest.fixture(scope="module")
def strict_api(api: str, registered: str) -> Iterator[str]:
    """An API whose limits restrict partners to registered operations and a small rate."""
    limits = STRICT_LIMITS.read_text(encoding="utf-8")
    limits = limits.replace("trusted_documents_only: []", "trusted_documents_only: [partner]")
    # A refusal costs 100 units and `me { agency roles }` 3: one of each fits, 60 calls do not.
    limits = limits.replace("    partner: 100000", "    partner: 150")
    file = TEST_DATA / "strict-limits.yaml"
    file.write_text(limits, encoding="utf-8")
    port = free_port()
    proc = start_api(port, "api-strict", HUB_LIMITS_FILE=str(file))
    yield f"http://127.0.0.1:{port}"
    proc.terminate()
    proc.wait(timeout=15)


def _post(base: str, payload: dict[str, object], token: str) -> httpx.Response:
    return httpx.post(
        f"{base}/graphql", json=payload, headers={"Authorization": f"Bearer {token}"}, timeout=15
    )


def test_a_registered_operation_runs_by_hash(api: str, registered: str) -> None:
    token = mint()
    by_id = _post(api, {"documentId": f"sha256:{registered}"}, token).json()
    assert by_id["data"]["me"]["agency"] == "BANK-TEST"
    apollo = {"extensions": {"persistedQuery": {"version": 1, "sha256Hash": registered}}}
    assert _post(api, apollo, token).json()["data"]["me"]["roles"] == ["partner"]
    unknown = _post(api, {"documentId": "sha256:" + "0" * 64}, token).json()
    assert unknown["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    mismatch = _post(
        api, {"documentId": f"sha256:{registered}", "query": "{ me { level } }"}, token
    ).json()
    assert mismatch["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


def test_restricted_partners_may_send_only_registered_operations(strict_api: str) -> None:
    partner = mint(agency="BANK-STRICT")
    refused = _post(strict_api, {"query": "{ me { level } }"}, partner).json()
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert _post(strict_api, {"query": DOCUMENT}, partner).json()["data"]["me"]
    investigator = GraphQLClient(strict_api, mint("investigator"))
    assert investigator.data("{ me { level } }") == {"me": {"level": "REGION"}}


def test_rate_limit_answers_429_with_retry_after(strict_api: str) -> None:
    partner = mint(agency="BANK-RATE")
    early_in_rate_window()
    statuses = [
        _post(strict_api, {"documentId": f"sha256:{document_hash(DOCUMENT)}"}, partner)
        for _ in range(60)
    ]
    limited = [r for r in statuses if r.status_code == 429]
    assert limited, [r.status_code for r in statuses]
    assert int(limited[0].headers["retry-after"]) >= 1
    assert limited[0].json()["errors"][0]["extensions"]["code"] == "LIMIT_EXCEEDED"
