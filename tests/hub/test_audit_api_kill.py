"""An API process killed with SIGKILL loses no audit event for an answer it gave."""

from __future__ import annotations

import json
import os
import signal

from tests.conftest import GraphQLClient, free_port, hub_command, mint, start_api

QUERY = "query($code: String!) { subject(creditCode: $code) { name records { id } } }"


def test_every_answer_before_the_kill_is_audited(code: str) -> None:
    port = free_port()
    proc = start_api(port, "api-killed")
    client = GraphQLClient(f"http://127.0.0.1:{port}", mint(agency="BANK-KILL"))
    answered = 0
    try:
        for _ in range(25):
            assert client.data(QUERY, {"code": code})["subject"]
            answered += 1
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
    hub_command("audit", "drain")
    trail = hub_command("audit", "trail", "--agency", "BANK-KILL", "--limit", "1000").stdout
    events = [json.loads(line) for line in trail.splitlines()]
    assert len([e for e in events if e["field"] == "subject"]) == answered == 25
    assert hub_command("audit", "verify").returncode == 0
