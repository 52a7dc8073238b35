"""The nine-grade rating model: hand-computed scores, caps, consequences, and a refused bad file.

Shipped defaults: base 60; status ACTIVE +10, REVOKED/CANCELLED -30; +1 per full year (max 10);
dishonest records MINOR -5, GENERAL -15, SERIOUS -40 halving every 24 months (min -70);
trustworthy records +5 halving every 36 months (max 15); +2 per licence (max 6); +1 per project
(max 5). Bands AAA 90, AA 80, A 70, BBB 60, BB 50, B 40, CCC 30, CC 20, C 0.
"""

from __future__ import annotations

import json
from datetime import date

import pytest

from policies.rating import (
    RATING_FILE,
    RatingInputs,
    RatingModelError,
    RecordFact,
    Source,
    default_model,
    explain,
    parse_model,
)

TODAY = date(2026, 6, 30)
CLASS_A = ["BIDDING_PRIORITY", "INSPECTION_EXEMPT_2Y", "GOOD_CREDIT_PUBLISHED"]
CLASS_B = ["ORDINARY_TERMS", "ROUTINE_INSPECTION", "CREDIT_ATTENTION"]
CLASS_C = ["BIDDING_RESTRICTED", "KEY_INSPECTION", "MAJOR_RISK_WARNING"]


def penalty(decided_on: date, tier: str = "SERIOUS") -> RecordFact:
    return RecordFact("ADMIN_PENALTY", "DISHONEST", tier, decided_on)


def commendation(decided_on: date) -> RecordFact:
    return RecordFact("COMMENDATION", "TRUSTWORTHY", None, decided_on)


def subject(
    *records: RecordFact,
    status: str = "ACTIVE",
    registered_on: date | None = date(2014, 5, 1),  # 12 full years before TODAY
    listings: tuple[str, ...] = (),
    licences: int = 3,
    projects: int = 2,
) -> RatingInputs:
    public = Source("PUBLIC", None)
    return RatingInputs(
        status, registered_on, records, listings, (public,) * licences, (public,) * projects
    )


def points(inputs: RatingInputs) -> dict[str, float]:
    return {c.code: c.points for c in default_model().rate(inputs, TODAY).contributions}


def test_shipped_model_loads_with_nine_bands() -> None:
    model = default_model()
    assert model is default_model()
    assert model.version == "2026.1"
    assert model.base == 60
    assert model.bands == (
        ("AAA", 90),
        ("AA", 80),
        ("A", 70),
        ("BBB", 60),
        ("BB", 50),
        ("B", 40),
        ("CCC", 30),
        ("CC", 20),
        ("C", 0),
    )
    assert [i.code for i in model.indicators] == [
        "REGISTRATION_STATUS",
        "YEARS_REGISTERED",
        "DISHONEST_RECORDS",
        "TRUSTWORTHY_RECORDS",
        "LICENCES",
        "PROJECTS",
    ]


@pytest.mark.parametrize(
    ("score", "grade"),
    [
        (100, "AAA"),
        (90, "AAA"),
        (89.99, "AA"),
        (70, "A"),
        (60, "BBB"),
        (40, "B"),
        (39.99, "CCC"),
        (20, "CC"),
        (19.99, "C"),
        (0, "C"),
    ],
)
def test_grade_for_uses_the_band_floors(score: float, grade: str) -> None:
    assert default_model().grade_for(score) == grade


def test_a_clean_company_scores_88_and_grade_aa() -> None:
    result = default_model().rate(subject(), TODAY)
    # 60 + 10 (ACTIVE) + 10 (12 years, max 10) + 0 + 0 + 6 (3 licences) + 2 (2 projects)
    assert result.score == 88.0
    assert (result.grade, result.uncapped_grade, result.caps) == ("AA", "AA", ())
    assert result.model_version == "2026.1"
    assert [(c.code, c.name, c.kind, c.input, c.points) for c in result.contributions] == [
        ("REGISTRATION_STATUS", "登记状态", "qualitative", "ACTIVE", 10.0),
        ("YEARS_REGISTERED", "成立年限", "quantitative", 12, 10.0),
        ("DISHONEST_RECORDS", "失信记录", "quantitative", {"records": 0, "weighted": 0.0}, 0.0),
        ("TRUSTWORTHY_RECORDS", "守信记录", "quantitative", {"records": 0, "weighted": 0.0}, 0.0),
        ("LICENCES", "持有许可", "quantitative", 3, 6.0),
        ("PROJECTS", "参与项目", "quantitative", 2, 2.0),
    ]
    assert result.measures() == CLASS_A
    assert result.consequences[1].name == "两年内免于常规检查（专项检查除外）"


def test_a_fresh_serious_penalty_costs_exactly_40_points() -> None:
    result = default_model().rate(subject(penalty(TODAY)), TODAY)
    assert result.score == 48.0  # 88 - 40
    assert result.grade == "B"
    assert result.contributions[2].input == {"records": 1, "weighted": -40.0}
    assert result.contributions[2].points == -40.0
    assert result.measures() == CLASS_B


def test_a_penalty_decided_after_today_counts_as_fresh() -> None:
    assert points(subject(penalty(date(2026, 7, 15))))["DISHONEST_RECORDS"] == -40.0


def test_a_penalty_halves_every_24_months() -> None:
    # 730 days = 23.98 months: -40 * 0.5 ** (730 / 30.4375 / 24) = -20.0095
    two_years = default_model().rate(subject(penalty(date(2024, 6, 30))), TODAY)
    assert two_years.contributions[2].points == -20.01
    assert (two_years.score, two_years.grade) == (67.99, "BBB")
    # 1461 days = 48 months exactly: a quarter of -40
    four_years = default_model().rate(subject(penalty(date(2022, 6, 30))), TODAY)
    assert four_years.contributions[2].points == -10.0
    assert (four_years.score, four_years.grade) == (78.0, "A")


def test_contributions_add_up_to_the_score_above_base() -> None:
    inputs = subject(
        penalty(date(2022, 6, 30), "GENERAL"),  # 48 months: -15 / 4 = -3.75
        commendation(date(2022, 6, 30)),  # 48 months, half-life 36: 5 * 2 ** (-4 / 3) = 1.98
        registered_on=date(2021, 7, 1),  # 4 full years
        licences=1,
        projects=3,
    )
    result = default_model().rate(inputs, TODAY)
    assert [c.points for c in result.contributions] == [10.0, 4.0, -3.75, 1.98, 2.0, 3.0]
    assert result.score == 77.23
    assert result.grade == "A"
    assert sum(c.points for c in result.contributions) == pytest.approx(result.score - 60)


def test_the_score_is_clamped_at_0() -> None:
    inputs = subject(
        penalty(TODAY),
        penalty(TODAY),
        status="REVOKED",
        registered_on=None,
        licences=0,
        projects=0,
    )
    result = default_model().rate(inputs, TODAY)
    # 60 - 30 + 0 - 70 (-80 bounded) = -40
    assert [c.points for c in result.contributions] == [-30.0, 0.0, -70.0, 0.0, 0.0, 0.0]
    assert result.contributions[1].input is None
    assert result.contributions[2].input == {"records": 2, "weighted": -80.0}
    assert (result.score, result.grade) == (0.0, "C")
    assert result.measures() == CLASS_C


def test_the_score_is_clamped_at_100_and_every_bound_holds() -> None:
    inputs = subject(
        *(commendation(TODAY) for _ in range(4)),  # 20, max 15
        registered_on=date(2011, 1, 1),  # 15 years, max 10
        licences=5,  # 10, max 6
        projects=9,  # 9, max 5
    )
    result = default_model().rate(inputs, TODAY)
    assert points(inputs) == {
        "REGISTRATION_STATUS": 10.0,
        "YEARS_REGISTERED": 10.0,
        "DISHONEST_RECORDS": 0.0,
        "TRUSTWORTHY_RECORDS": 15.0,
        "LICENCES": 6.0,
        "PROJECTS": 5.0,
    }
    assert result.contributions[3].input == {"records": 4, "weighted": 20.0}
    assert (result.score, result.grade) == (100.0, "AAA")  # 106 clamped


def test_a_serious_dishonesty_listing_caps_at_c_and_disqualifies() -> None:
    result = default_model().rate(subject(listings=("SERIOUS_DISHONESTY",)), TODAY)
    assert result.score == 88.0
    assert (result.uncapped_grade, result.grade) == ("AA", "C")
    assert result.caps == ("SERIOUS_DISHONESTY",)
    assert result.measures() == [*CLASS_C, "DISQUALIFIED"]
    assert result.consequences[-1].name == "取消承担项目资格"


def test_an_abnormal_operation_listing_caps_at_b() -> None:
    result = default_model().rate(subject(listings=("ABNORMAL_OPERATION",)), TODAY)
    assert (result.score, result.uncapped_grade, result.grade) == (88.0, "AA", "B")
    assert result.caps == ("ABNORMAL_OPERATION",)
    assert result.measures() == CLASS_B


def test_the_lowest_cap_wins_and_a_cap_above_the_grade_is_not_listed() -> None:
    both = default_model().rate(
        subject(listings=("ABNORMAL_OPERATION", "SERIOUS_DISHONESTY")), TODAY
    )
    assert both.grade == "C"
    assert both.caps == ("SERIOUS_DISHONESTY", "ABNORMAL_OPERATION")
    # 60 - 30 = 30: CCC is already worse than the B cap
    weak = subject(
        status="REVOKED",
        registered_on=None,
        listings=("ABNORMAL_OPERATION",),
        licences=0,
        projects=0,
    )
    result = default_model().rate(weak, TODAY)
    assert (result.score, result.grade, result.caps) == (30.0, "CCC", ())


@pytest.mark.parametrize(
    ("base", "grade", "measures"),
    [
        (85, "AAA", CLASS_A),
        (60, "A", CLASS_A),
        (55, "BBB", CLASS_B),
        (30, "B", CLASS_B),
        (20, "CCC", CLASS_C),
        (0, "C", CLASS_C),
    ],
)
def test_consequences_follow_the_grade_class(base: int, grade: str, measures: list[str]) -> None:
    text = RATING_FILE.read_text(encoding="utf-8").replace("base: 60", f"base: {base}")
    inputs = subject(registered_on=None, licences=0, projects=0)  # ACTIVE alone: +10
    result = parse_model(text).rate(inputs, TODAY)
    assert (result.score, result.grade) == (base + 10, grade)
    assert result.measures() == measures


def test_rating_is_deterministic() -> None:
    inputs = subject(penalty(date(2025, 1, 10), "GENERAL"), commendation(date(2024, 3, 3)))
    assert default_model().rate(inputs, TODAY) == default_model().rate(inputs, TODAY)


def test_a_dishonest_record_without_a_tier_is_refused() -> None:
    with pytest.raises(ValueError, match="DISHONEST_RECORDS: no points for None"):
        default_model().rate(subject(RecordFact("IDLE_LAND", "DISHONEST", None, TODAY)), TODAY)


def test_inputs_and_contributions_are_json_serialisable() -> None:
    inputs = subject(penalty(date(2025, 12, 1), "GENERAL"), listings=("ABNORMAL_OPERATION",))
    assert json.loads(json.dumps(inputs.as_dict())) == {
        "status": "ACTIVE",
        "registeredOn": "2014-05-01",
        "records": [
            {
                "item": "ADMIN_PENALTY",
                "category": "DISHONEST",
                "tier": "GENERAL",
                "decidedOn": "2025-12-01",
            }
        ],
        "listings": ["ABNORMAL_OPERATION"],
        "licences": 3,
        "projects": 2,
    }
    result = default_model().rate(inputs, TODAY)
    json.dumps([c.input for c in result.contributions])


def test_an_indicator_may_count_only_some_items() -> None:
    text = RATING_FILE.read_text(encoding="utf-8").replace(
        "category: DISHONEST\n", "category: DISHONEST\n    items: [IDLE_LAND]\n", 1
    )
    model = parse_model(text)
    inputs = subject(penalty(TODAY), RecordFact("IDLE_LAND", "DISHONEST", "GENERAL", TODAY))
    assert model.rate(inputs, TODAY).contributions[2].points == -15.0


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("    points: 2\n", "    points: 2\n    colour: red\n"), "LICENCES: unknown key colour"),
        (("  AA: 80", "  AA: 95"), "bands.AA: floor 95 must be below AAA's 90"),
        (("  CC: 20\n", ""), "bands: missing grade CC"),
        (("  C: 0", "  C: 5"), "with C at 0"),
        (("  CC: 20", "  CC: 20\n  D: 10"), "bands: unknown grade D"),
        (
            (
                "category: TRUSTWORTHY ",
                "items: [COMMENDATION, GOLD_STAR]\n    category: TRUSTWORTHY ",
            ),
            "TRUSTWORTHY_RECORDS: unknown catalogue item 'GOLD_STAR'",
        ),
        (
            ("category: TRUSTWORTHY ", "items: [IDLE_LAND]\n    category: TRUSTWORTHY "),
            "TRUSTWORTHY_RECORDS: item IDLE_LAND is DISHONEST, not TRUSTWORTHY",
        ),
        (("category: TRUSTWORTHY", "category: GOOD"), "TRUSTWORTHY_RECORDS: category must be"),
        (("MINOR: -5, ", ""), "DISHONEST_RECORDS.points: missing tier MINOR"),
        (("MINOR: -5", "TINY: -5"), "DISHONEST_RECORDS.points: unknown tier TINY"),
        (("CANCELLED: -30", "DORMANT: -30"), "REGISTRATION_STATUS.points: unknown status DORMANT"),
        (("half_life_months: 24", "half_life_months: 0"), "half_life_months: must be positive"),
        (("min: -70", "min: -70\n    max: -80"), "DISHONEST_RECORDS: min must not exceed max"),
        (("kind: qualitative", "kind: opinion"), "REGISTRATION_STATUS: kind must be"),
        (("reads: projects", "reads: employees"), "PROJECTS: reads must be one of"),
        (("points: 1\n    max: 5", "points: many\n    max: 5"), "PROJECTS.points: must be"),
        (("ABNORMAL_OPERATION: B", "ABNORMAL_OPERATION: D"), "caps.ABNORMAL_OPERATION: 'D'"),
        (("ABNORMAL_OPERATION: B", "WATCHLIST: B"), "caps: unknown listing WATCHLIST"),
        (
            ("    C:\n      BIDDING", "    D:\n      BIDDING"),
            "consequences.classes: unknown class D",
        ),
        (('version: "2026.1"', "version: 2026.1"), "quote it"),
        (("schema: 1", "schema: 2"), "schema must be 1"),
        (("base: 60", "base: 160"), "base: must lie within"),
        (("base: 60", "bass: 60"), "unknown key bass"),
    ],
)
def test_a_bad_model_is_refused(change: tuple[str, str], message: str) -> None:
    text = RATING_FILE.read_text(encoding="utf-8")
    assert change[0] in text
    with pytest.raises(RatingModelError, match=message):
        parse_model(text.replace(change[0], change[1], 1))


def test_the_breakdown_folds_what_the_caller_cannot_read_into_one_line() -> None:
    secret = Source("CONFIDENTIAL", "NMG150102")
    hidden = RecordFact("ADMIN_PENALTY", "DISHONEST", "SERIOUS", date(2026, 1, 5), secret)
    rating = default_model().rate(subject(hidden, penalty(date(2025, 3, 1))), TODAY)
    everything = explain(rating.contributions, lambda s: True)
    public_only = explain(rating.contributions, lambda s: s.disclosure == "PUBLIC")
    assert [c.code for c in everything] == [c.code for c in rating.contributions]
    codes = [c.code for c in public_only]
    assert "DISHONEST_RECORDS" not in codes and codes[-1] == "WITHHELD"
    withheld = public_only[-1]
    # Neither count, tier nor date: no input at all, and the points the public score implies.
    assert withheld.input is None
    assert sum(c.points for c in public_only) == pytest.approx(
        sum(c.points for c in rating.contributions)
    )
    assert "SERIOUS" not in repr(withheld) and "2026-01-05" not in repr(withheld)


def test_a_breakdown_with_nothing_hidden_has_no_withheld_line() -> None:
    rating = default_model().rate(subject(penalty(date(2025, 3, 1))), TODAY)
    assert rating.contributions
    assert all(c.code != "WITHHELD" for c in explain(rating.contributions, lambda s: True))
