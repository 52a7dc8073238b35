"""retention.yaml: the shipped periods and export name, and each wrong edit refused by name."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from policies.loader import PolicyError
from policies.retention import RETENTION_FILE, default_retention, parse_retention
from tests.policies.edited import edited


def test_the_shipped_rules() -> None:
    rules = default_retention()
    assert rules.periods.outbox_events == timedelta(days=365)
    assert rules.periods.deliveries < rules.periods.dead_deliveries
    assert rules.directory == "retention"
    first = datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)
    name = rules.file_name("deliveries", first, first + timedelta(days=1), first + timedelta(2))
    assert name == "deliveries-20250102T030405Z-20250103T030405Z-run20250104T030405Z.jsonl.gz"


@pytest.mark.parametrize(
    ("old", "new", "problem"),
    [
        ("outbox_events: 365", "outbox_events: 0", "periods.outbox_events: a whole number from 1"),
        ("deliveries: 180", "deliveries: 180.5", "periods.deliveries: a whole number"),
        ("  import_reports: 365\n", "", "periods: missing key import_reports"),
        ("dead_deliveries: 365", "dead_letters: 365", "periods: unknown key dead_letters"),
        ("directory: retention", "directory: /var/exports", "export.directory: a folder of"),
        ("directory: retention", "directory: ../elsewhere", "export.directory: a folder of"),
        ("directory: retention", "directory: my exports", "export.directory: a folder of"),
        ("-run{run}.jsonl.gz", ".jsonl.gz", "export.name: must hold {run}"),
        ("{kind}-{first}", "{first}", "export.name: must hold {kind}"),
        ("{kind}-", "{kind}-{day}-", "export.name: unknown placeholder day"),
        ('.jsonl.gz"', '.jsonl"', "export.name: must end with .jsonl.gz"),
        ('name: "{kind}', 'name: "sub/{kind}', "export.name: letters, digits"),
        ("batch: 1000", "batch: 1", "batch: a whole number from 10 to 10000"),
        ("max_rows: 200000", "max_rows: -5", "max_rows: a whole number from 100"),
        ("version: 1", "version: 2", "version must be 1"),
    ],
)
def test_a_wrong_edit_is_refused_with_its_place(old: str, new: str, problem: str) -> None:
    with pytest.raises(PolicyError) as refused:
        parse_retention(edited(RETENTION_FILE, old, new), "retention.yaml")
    assert problem in str(refused.value)
    assert str(refused.value).startswith("retention.yaml: ")
