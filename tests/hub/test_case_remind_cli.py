"""``hub cases remind`` sends the reminders due on the day it is given, as the beat's task does,
and nothing twice; a day it cannot read is refused before anything is sent."""

from __future__ import annotations

import subprocess
from datetime import date

from graph.db import Store
from tests.conftest import hub_command
from tests.subjects import fresh_subjects
from tests.transfers import add_document, open_transfer_case


def _remind(*args: str) -> subprocess.CompletedProcess[str]:
    return hub_command("cases", "remind", *args, check=False, timeout=120)


async def _reminded(store: Store, case_id: str) -> tuple[str | None, int | None]:
    rows = await store.read(
        "MATCH (c:Case {id: $id}) RETURN toString(c.remindedOn) AS on, c.reminders AS n",
        id=case_id,
    )
    return rows[0]["on"], rows[0]["n"]


async def test_the_command_reminds_once_on_the_day_given(store: Store, redis_server: str) -> None:
    [(code, record)] = fresh_subjects(1)
    case_id = await open_transfer_case(store, code, record, date(2026, 9, 28))
    # Approved Wednesday Sep 30: the transfer is due within one working day, Thu Oct 8.
    await add_document(
        store, case_id, "TRANSFER_APPROVAL", "乌自然资批〔2026〕31号", date(2026, 9, 30)
    )

    refused = _remind("--today", "2026-10-32")
    assert refused.returncode == 1 and "not a day" in refused.stderr
    assert await _reminded(store, case_id) == (None, None)

    assert _remind("--today", "2026-10-08").returncode == 0  # due that day: not late yet
    assert await _reminded(store, case_id) == (None, None)

    first = _remind("--today", "2026-10-09")
    assert first.returncode == 0, first.stderr
    assert "2026-10-09:" in first.stderr and "reminders sent" in first.stderr
    assert await _reminded(store, case_id) == ("2026-10-09", 1)
    again = _remind("--today", "2026-10-09")
    assert again.returncode == 0 and "2026-10-09: 0 reminders sent" in again.stderr
    assert await _reminded(store, case_id) == ("2026-10-09", 1)
