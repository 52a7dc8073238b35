"""The outside lists' file: shipped off, and refused with the entry named when wrong."""

from __future__ import annotations

import pytest

from policies.credit.feeds import FEEDS_FILE, default_feeds, parse_feeds
from policies.loader import PolicyError
from tests.policies.edited import edited


def test_shipped_feeds_are_off_until_an_operator_turns_them_on() -> None:
    feeds = default_feeds()
    assert set(feeds) == {"REGIONAL-CREDIT", "COURT-DEBTORS"}
    assert not any(f.enabled for f in feeds.values())
    assert feeds["COURT-DEBTORS"].encoding == "gb18030"
    assert feeds["COURT-DEBTORS"].columns["endDate"] is None


@pytest.mark.parametrize(
    ("old", "new", "named"),
    [
        ("    format: csv", "    format: xml", "COURT-DEBTORS.format"),
        ("    encoding: gb18030", "    encoding: klingon", "COURT-DEBTORS.encoding"),
        ("    listing: SERIOUS_DISHONESTY", "    listing: BLACKLIST", "REGIONAL-CREDIT.listing"),
        ("      creditCode: tyshxydm", "      creditCode: null", "columns.creditCode"),
        ("    every_seconds: 3600", "    every_seconds: 5", "every_seconds"),
    ],
)
def test_bad_feeds_are_refused_with_the_entry_named(old: str, new: str, named: str) -> None:
    with pytest.raises(PolicyError, match=named.replace(".", r"\.")):
        parse_feeds(edited(FEEDS_FILE, old, new))
