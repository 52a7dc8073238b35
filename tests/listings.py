"""Listings made for one test: a subject put on the serious-dishonesty list on one of its
records, today, by reviewer-1 of NMG152201, as the determination flow would decide it; and a
court's feed whose judgment debtors a test lists itself."""

from __future__ import annotations

from datetime import date, timedelta

from graph.records.listings import ListingDecision
from policies.credit.feeds import Feed


def serious_listing(
    sanction: str, subject: str, record: str, disclosure: str = "PUBLIC", days: int = 400
) -> ListingDecision:
    """The decision to list ``subject`` as ``sanction`` from today for ``days`` days."""
    today = date.today()
    return ListingDecision(
        sanction,
        subject,
        "SERIOUS_DISHONESTY",
        "NMG152201",
        (record,),
        today,
        today + timedelta(days=days),
        disclosure,
        "reviewer-1",
    )


def court_feed(code: str) -> Feed:
    """A court's list of dishonest judgment debtors, at an address nothing answers: tests
    apply its rows themselves (graph.exchange.feeds.apply_snapshot)."""
    return Feed(
        code=code,
        name="测试失信被执行人名单",
        url="http://127.0.0.1:9/list.csv",
        format="csv",
        encoding="utf-8",
        listing="DISHONEST_JUDGMENT_DEBTOR",
        every_seconds=3600,
        enabled=True,
        columns={"id": "案号", "creditCode": "代码", "startDate": "发布日期"},
    )
