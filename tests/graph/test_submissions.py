"""Submitting credit records: the pure validation in graph/records/submissions.py, and the
publication periods of policies/credit/catalogue.py. No database: `submit` is not called here."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

import pytest

from graph.archive.row_fields import RowError
from graph.records.submissions import natural_key, parse_submission, record_id
from policies.credit.catalogue import Window, add_months, default_catalogue, publication_window
from policies.workdays import add_working_days

TODAY = date(2025, 10, 20)
SUBJECT = "91152201078371135X"  # Ulanhot, Xing'an League
OTHER_SUBJECT = "91110000600037341L"
BAD_SUBJECT = "91110000600037341N"  # wrong check character


def penalty(**changes: Any) -> dict[str, Any]:
    raw: dict[str, Any] = {
        "item": "ADMIN_PENALTY",
        "subject": SUBJECT,
        "tier": "GENERAL",
        "title": "未按规定履行土地出让合同",
        "decidedOn": "2025-09-26",
        "document": "兴自然资罚〔2025〕7号",
        "legalBasis": "《土地管理法》第七十七条",
    }
    raw.update(changes)
    return {k: v for k, v in raw.items() if v is not None}


def refusal(raw: dict[str, Any], today: date = TODAY) -> RowError:
    with pytest.raises(RowError) as exc:
        parse_submission(raw, today)
    return exc.value


# --- a valid record ---------------------------------------------------------------------------


def test_valid_admin_penalty() -> None:
    sub = parse_submission(penalty(), TODAY)
    assert sub.subject == SUBJECT
    assert sub.natural_key == f"ADMIN_PENALTY|{SUBJECT}|兴自然资罚〔2025〕7号"
    assert sub.id == record_id(sub.natural_key)
    assert re.fullmatch(r"CR-[0-9A-F]{20}", sub.id)
    assert re.fullmatch(r"[0-9a-f]{64}", sub.content_hash)
    assert sub.props == {
        "item": "ADMIN_PENALTY",
        "category": "DISHONEST",
        "tier": "GENERAL",
        "title": "未按规定履行土地出让合同",
        "decidedOn": date(2025, 9, 26),
        "document": "兴自然资罚〔2025〕7号",
        "legalBasis": "《土地管理法》第七十七条",
        "disclosure": "PUBLIC",
        # 7 working days after Fri 2025-09-26 across National Day: Mon 2025-10-13
        # (worked out day by day in tests/policies/test_workdays.py).
        "publishDeadline": date(2025, 10, 13),
    }
    assert sub.props["publishDeadline"] == add_working_days(date(2025, 9, 26), 7)


def test_params_carry_the_line_and_the_submission() -> None:
    sub = parse_submission(penalty(), TODAY)
    assert sub.params(12) == {
        "line": 12,
        "id": sub.id,
        "subject": SUBJECT,
        "naturalKey": sub.natural_key,
        "contentHash": sub.content_hash,
        "props": sub.props,
    }


def test_items_without_a_deadline_have_none() -> None:
    raw = {
        "item": "COMMENDATION",
        "subject": SUBJECT,
        "title": "守信激励",
        "decidedOn": "2025-01-10",
        "document": "兴政发〔2025〕1号",
    }
    sub = parse_submission(raw, TODAY)
    assert sub.props["category"] == "TRUSTWORTHY"
    assert sub.props["tier"] is None
    assert sub.props["legalBasis"] is None
    assert sub.props["publishDeadline"] is None


@pytest.mark.parametrize(
    ("given", "tier"),
    [("严重", "SERIOUS"), ("一般", "GENERAL"), ("轻微", "MINOR"), ("serious", "SERIOUS")],
)
def test_tier_aliases(given: str, tier: str) -> None:
    assert parse_submission(penalty(tier=given), TODAY).props["tier"] == tier


def test_item_code_is_case_insensitive() -> None:
    sub = parse_submission(penalty(item="admin_penalty"), TODAY)
    assert sub.props["item"] == "ADMIN_PENALTY"
    assert sub == parse_submission(penalty(), TODAY)


def test_credit_code_is_normalised() -> None:
    sub = parse_submission(penalty(subject="91152201-0783 71135x"), TODAY)
    assert sub.subject == SUBJECT
    assert sub.id == parse_submission(penalty(), TODAY).id


def test_whitespace_is_collapsed_in_text_fields() -> None:
    sub = parse_submission(penalty(title="  Late \n land\tpayment   fee  "), TODAY)
    assert sub.props["title"] == "Late land payment fee"


def test_decided_today_is_accepted_and_the_earliest_date_too() -> None:
    assert parse_submission(penalty(decidedOn="2025-10-20"), TODAY).props["decidedOn"] == TODAY
    early = parse_submission(penalty(decidedOn="2000-01-01"), TODAY)
    assert early.props["decidedOn"] == date(2000, 1, 1)


# --- refusals ---------------------------------------------------------------------------------


def test_unknown_item() -> None:
    error = refusal(penalty(item="PARKING_TICKET"))
    assert error.reason == "unknown-item"
    assert "PARKING_TICKET" in str(error)


def test_missing_item() -> None:
    assert refusal(penalty(item="   ")).reason == "missing-field"


def test_missing_subject() -> None:
    raw = penalty()
    del raw["subject"]
    assert refusal(raw).reason == "missing-field"


@pytest.mark.parametrize("code", [BAD_SUBJECT, "9111000060003IOZSV", "9115220107837113"])
def test_invalid_credit_code(code: str) -> None:
    error = refusal(penalty(subject=code))
    assert error.reason == "invalid-credit-code"
    assert str(error).startswith("subject: ")


def test_penalty_without_document_and_legal_basis_names_both() -> None:
    error = refusal(penalty(document=None, legalBasis=None))
    assert error.reason == "missing-field"
    assert "document" in str(error)
    assert "legalBasis" in str(error)


def test_blank_required_field_counts_as_missing() -> None:
    error = refusal(penalty(document="   "))
    assert error.reason == "missing-field"
    assert "document" in str(error)


def test_tier_on_a_commendation_is_refused() -> None:
    raw = {
        "item": "COMMENDATION",
        "subject": SUBJECT,
        "tier": "SERIOUS",
        "title": "守信激励",
        "decidedOn": "2025-01-10",
        "document": "兴政发〔2025〕1号",
    }
    error = refusal(raw)
    assert error.reason == "invalid-value"
    assert "no tier" in str(error)


@pytest.mark.parametrize("tier", [None, "FATAL"])
def test_dishonest_item_needs_one_of_its_tiers(tier: str | None) -> None:
    assert refusal(penalty(tier=tier)).reason == "invalid-value"


def test_tier_the_item_does_not_have() -> None:
    # Land contract breaches are GENERAL or SERIOUS only.
    raw = penalty(item="LAND_CONTRACT_BREACH", tier="MINOR", legalBasis=None)
    assert refusal(raw).reason == "invalid-value"


def test_missing_field_together_with_a_bad_tier_is_invalid_value() -> None:
    error = refusal(penalty(tier="FATAL", document=None))
    assert error.reason == "invalid-value"
    assert "requires document" in str(error)
    assert "tier" in str(error)


@pytest.mark.parametrize(
    "decided",
    ["2025-10-21", "2030-01-01", "1999-12-31", "1980-05-01", "2025-02-30", "26/09/2025"],
)
def test_decision_dates_out_of_range_or_malformed(decided: str) -> None:
    assert refusal(penalty(decidedOn=decided)).reason == "invalid-date"


def test_disclosure_defaults_to_the_catalogue() -> None:
    assert parse_submission(penalty(), TODAY).props["disclosure"] == "PUBLIC"
    breach = penalty(item="LAND_CONTRACT_BREACH", legalBasis=None)
    assert parse_submission(breach, TODAY).props["disclosure"] == "SHARED"


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ("SHARED", "SHARED"),
        ("restricted", "RESTRICTED"),
        ("共享", "SHARED"),
        ("保密", "CONFIDENTIAL"),
    ],
)
def test_disclosure_at_or_above_the_catalogue_is_accepted(given: str, stored: str) -> None:
    assert parse_submission(penalty(disclosure=given), TODAY).props["disclosure"] == stored


@pytest.mark.parametrize("given", ["PUBLIC", "公开"])
def test_disclosure_below_the_catalogue_is_refused(given: str) -> None:
    # LAND_CONTRACT_BREACH is SHARED in the catalogue.
    assert default_catalogue()["LAND_CONTRACT_BREACH"].disclosure.name == "SHARED"
    raw = penalty(item="LAND_CONTRACT_BREACH", legalBasis=None, disclosure=given)
    error = refusal(raw)
    assert error.reason == "invalid-value"
    assert "below the catalogue's SHARED" in str(error)


def test_unknown_disclosure_class() -> None:
    assert refusal(penalty(disclosure="SECRET")).reason == "invalid-value"


def test_unknown_fields_are_named() -> None:
    error = refusal(penalty(colour="red", amount="5000"))
    assert error.reason == "unknown-field"
    assert "amount, colour" in str(error)


@pytest.mark.parametrize(("field", "limit"), [("title", 500), ("document", 200)])
def test_overlong_text(field: str, limit: int) -> None:
    assert parse_submission(penalty(**{field: "x" * limit}), TODAY)
    error = refusal(penalty(**{field: "x" * (limit + 1)}))
    assert error.reason == "invalid-value"


def test_non_text_value() -> None:
    error = refusal(penalty(title=42))
    assert error.reason == "invalid-value"
    assert "title must be text" in str(error)


# --- natural key, id and content hash ---------------------------------------------------------


def test_natural_key_uses_the_document_when_there_is_one() -> None:
    key = natural_key("ADMIN_PENALTY", SUBJECT, "罚〔2025〕7号", date(2025, 9, 26), "t")
    assert key == f"ADMIN_PENALTY|{SUBJECT}|罚〔2025〕7号"


@pytest.mark.parametrize("document", [None, ""])
def test_natural_key_falls_back_to_date_and_title(document: str | None) -> None:
    key = natural_key("MINING_FILING_ABNORMAL", SUBJECT, document, date(2025, 3, 1), "未按期公示")
    assert key == f"MINING_FILING_ABNORMAL|{SUBJECT}|~2025-03-01|未按期公示"


def test_submission_without_document_keys_on_date_and_title() -> None:
    raw = {
        "item": "MINING_FILING_ABNORMAL",
        "subject": SUBJECT,
        "tier": "GENERAL",
        "title": " 未按期  公示 ",
        "decidedOn": "2025-03-01",
    }
    sub = parse_submission(raw, TODAY)
    assert sub.natural_key == f"MINING_FILING_ABNORMAL|{SUBJECT}|~2025-03-01|未按期 公示"
    assert sub.props["document"] is None
    assert sub.id == record_id(sub.natural_key)


def test_record_id_is_stable_and_distinct() -> None:
    key = f"ADMIN_PENALTY|{SUBJECT}|罚1"
    assert record_id(key) == "CR-EED15E44CC7AFA5690F0"  # the same in every process and release
    assert record_id(key) != record_id(f"ADMIN_PENALTY|{SUBJECT}|罚2")
    assert record_id(key) != record_id(f"ADMIN_PENALTY|{OTHER_SUBJECT}|罚1")


def test_same_content_gives_the_same_id_and_hash() -> None:
    first = parse_submission(penalty(), TODAY)
    again = parse_submission(penalty(title=" 未按规定履行土地出让合同 "), date(2026, 1, 1))
    assert (again.id, again.content_hash) == (first.id, first.content_hash)


def test_different_document_gives_a_different_id() -> None:
    first = parse_submission(penalty(), TODAY)
    other = parse_submission(penalty(document="兴自然资罚〔2025〕8号"), TODAY)
    assert other.id != first.id
    assert other.content_hash != first.content_hash


def test_changed_content_under_the_same_key_keeps_the_id_but_not_the_hash() -> None:
    # A correction of a returned record: same item, subject and document.
    first = parse_submission(penalty(), TODAY)
    fixed = parse_submission(penalty(tier="SERIOUS"), TODAY)
    assert fixed.id == first.id
    assert fixed.content_hash != first.content_hash


def test_different_subject_gives_a_different_id() -> None:
    first = parse_submission(penalty(), TODAY)
    other = parse_submission(penalty(subject=OTHER_SUBJECT), TODAY)
    assert other.id != first.id


# --- catalogue: months and publication windows ------------------------------------------------


@pytest.mark.parametrize(
    ("start", "months", "expected"),
    [
        (date(2024, 1, 31), 1, date(2024, 2, 29)),  # leap year
        (date(2023, 1, 31), 1, date(2023, 2, 28)),
        (date(2024, 11, 30), 3, date(2025, 2, 28)),  # across the year end
        (date(2024, 2, 29), 12, date(2025, 2, 28)),
        (date(2024, 3, 15), 36, date(2027, 3, 15)),
        (date(2024, 12, 31), 1, date(2025, 1, 31)),
        (date(2024, 3, 31), -1, date(2024, 2, 29)),
        (date(2024, 5, 17), 0, date(2024, 5, 17)),
    ],
)
def test_add_months(start: date, months: int, expected: date) -> None:
    assert add_months(start, months) == expected


def test_serious_penalty_window() -> None:
    item = default_catalogue()["ADMIN_PENALTY"]
    window = publication_window(item, "SERIOUS", date(2024, 3, 15))
    assert window == Window(until=date(2027, 3, 15), repairable_from=date(2025, 3, 15))


def test_general_and_minor_penalty_windows() -> None:
    item = default_catalogue()["ADMIN_PENALTY"]
    general = publication_window(item, "GENERAL", date(2024, 3, 15))
    assert general == Window(date(2025, 3, 15), date(2024, 6, 15))
    minor = publication_window(item, "MINOR", date(2024, 3, 15))
    assert minor == Window(date(2024, 6, 15), date(2024, 3, 15))


def test_items_without_tiers_have_no_window() -> None:
    item = default_catalogue()["COMMENDATION"]
    window = publication_window(item, None, date(2024, 3, 15))
    assert (window.until, window.repairable_from) == (None, None)


def test_tier_the_item_does_not_carry_gives_no_window() -> None:
    item = default_catalogue()["ADMIN_PENALTY"]
    assert publication_window(item, None, date(2024, 3, 15)) == Window(None, None)
