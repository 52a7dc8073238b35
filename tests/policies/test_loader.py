"""The one loader of the rule files (policies/loader.py): every problem names the file, then
the place in the document; operator paths go through it like the shipped files."""

from __future__ import annotations

from pathlib import Path

import pytest

from policies.credit.feeds import load_feeds
from policies.credit.measures import MEASURES_FILE, load_measures
from policies.limits import LIMITS_FILE, load_limits, parse_limits
from policies.loader import PolicyError, Shape, parse
from tests.policies.edited import edited

SHAPE = Shape({"items"}, {"note"})


def _items(document: dict[str, object]) -> list[object]:
    items = document["items"]
    if not isinstance(items, list):
        raise PolicyError("items: a list")
    return items


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("- a list\n", "rules.yaml: expected a mapping with version: 1 at the top"),
        ("version: 2\nitems: []\n", "rules.yaml: version must be 1 (version: 1), not 2"),
        ("items: []\n", "rules.yaml: version must be 1 (version: 1), not None"),
        ("version: 1\n", "rules.yaml: missing key items"),
        (
            "version: 1\nitems: []\ncolour: red\n",
            "rules.yaml: unknown key colour (expected keys items, note, version)",
        ),
        ("version: 1\nitems: 3\n", "rules.yaml: items: a list"),
        ("version: 1\nitems: [\n", "rules.yaml: not valid YAML: "),
    ],
)
def test_every_problem_names_the_file_then_the_place(text: str, message: str) -> None:
    with pytest.raises(PolicyError) as caught:
        parse(text, "rules.yaml", SHAPE, _items)
    assert str(caught.value).startswith(message), str(caught.value)
    assert caught.value.source == "rules.yaml"


def test_a_valid_document_reaches_the_modules_validation() -> None:
    assert parse("version: 1\nitems: [a, b]\n", "rules.yaml", SHAPE, _items) == ["a", "b"]


def test_an_empty_file_is_allowed_only_where_the_shape_says_so() -> None:
    assert parse("", "issuers.yaml", Shape({"issuers"}, version=None, empty=True), dict) == {}
    with pytest.raises(PolicyError, match="expected a mapping"):
        parse("", "rules.yaml", SHAPE, _items)


def test_a_validator_meeting_an_unexpected_shape_still_raises_a_policy_error() -> None:
    with pytest.raises(PolicyError, match=r"^limits\.yaml: missing or malformed entry"):
        parse_limits(edited(LIMITS_FILE, "  window_seconds: 60", "  seconds: 60"))


def test_the_answer_cache_lists_field_names_and_a_positive_size() -> None:
    shipped = parse_limits(LIMITS_FILE.read_text(encoding="utf-8")).cache
    assert shipped.fields == {"subject", "subjectsByCode"} and shipped.entries > 0
    assert shipped.megabytes > 0
    bad_size = edited(LIMITS_FILE, "  entries: 50000", "  entries: 0")
    with pytest.raises(PolicyError, match=r"cache\.entries"):
        parse_limits(bad_size)
    bad_name = edited(LIMITS_FILE, "fields: [subject, subjectsByCode]", "fields: [subject, 'a b']")
    with pytest.raises(PolicyError, match=r"cache\.fields"):
        parse_limits(bad_name)


def test_an_operators_file_is_read_and_named_like_a_shipped_one(tmp_path: Path) -> None:
    file = tmp_path / "measures.yaml"
    file.write_text(edited(MEASURES_FILE, "max_attempts: 8", "max_attempts: 3"), "utf-8")
    assert load_measures(file).delivery.max_attempts == 3
    file.write_text(edited(MEASURES_FILE, "max_attempts: 8", "max_attempts: 0"), "utf-8")
    with pytest.raises(PolicyError, match=f"^{file}: delivery.max_attempts: "):
        load_measures(file)


def test_a_missing_file_is_a_policy_error_naming_it(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.yaml"
    for load in (load_feeds, load_limits, load_measures):
        with pytest.raises(PolicyError, match=f"^{missing}: cannot read the file"):
            load(missing)
