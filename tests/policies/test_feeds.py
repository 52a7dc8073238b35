"""The outside lists' file: shipped off, and refused with the entry named when wrong."""

from __future__ import annotations

import pytest

from policies.credit.feeds import (
    CASE_COLUMNS,
    CASE_DOCUMENTS,
    FEEDS_FILE,
    LISTINGS,
    default_feeds,
    parse_feeds,
)
from policies.loader import PolicyError
from tests.policies.edited import edited


def test_shipped_feeds_are_off_until_an_operator_turns_them_on() -> None:
    feeds = default_feeds()
    assert set(feeds) == {"REGIONAL-CREDIT", "COURT-DEBTORS", "COURT-DOCUMENTS"}
    assert not any(f.enabled for f in feeds.values())
    assert feeds["COURT-DEBTORS"].encoding == "gb18030"
    assert feeds["COURT-DEBTORS"].columns["endDate"] is None
    assert feeds["COURT-DEBTORS"].carries == LISTINGS


def test_a_feed_of_case_documents_carries_no_listing_and_maps_its_own_columns() -> None:
    documents = default_feeds()["COURT-DOCUMENTS"]
    assert documents.carries == CASE_DOCUMENTS and documents.listing is None
    assert set(documents.columns) == set(CASE_COLUMNS)


@pytest.mark.parametrize(
    ("old", "new", "named"),
    [
        ("    format: csv", "    format: xml", "COURT-DEBTORS.format"),
        ("    encoding: gb18030", "    encoding: klingon", "COURT-DEBTORS.encoding"),
        ("    listing: SERIOUS_DISHONESTY", "    listing: BLACKLIST", "REGIONAL-CREDIT.listing"),
        ("      creditCode: tyshxydm", "      creditCode: null", "columns.creditCode"),
        ("    every_seconds: 3600", "    every_seconds: 5", "every_seconds"),
        ("    carries: CASE_DOCUMENTS", "    carries: RUMOURS", "COURT-DOCUMENTS.carries"),
        ("      refersTo: glwsh", "      refersTo: null", "columns.refersTo"),
        ("      refersTo: glwsh", "", "COURT-DOCUMENTS.columns"),
        (
            "    carries: CASE_DOCUMENTS",
            "    listing: SERIOUS_DISHONESTY",
            "COURT-DOCUMENTS.columns",
        ),
    ],
)
def test_bad_feeds_are_refused_with_the_entry_named(old: str, new: str, named: str) -> None:
    with pytest.raises(PolicyError, match=named.replace(".", r"\.")):
        parse_feeds(edited(FEEDS_FILE, old, new))
