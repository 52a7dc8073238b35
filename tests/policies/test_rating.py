"""The nine-grade rating model: hand-computed scores, caps, consequences, the grade history and
the two-year exemption, and a refused bad file.

Shipped defaults (2026.2): base 60 (BBB, the grade of a subject nothing is known about); status
ACTIVE 0, REVOKED/CANCELLED -30; +1 per full year without dishonesty (max 5); dishonest records
MINOR -5, GENERAL -15, SERIOUS -40 halving every 24 months (min -70); evidence, halving every 36
months: performance records +4 (max 12), commendations +6 (max 12), credit commitments +3
(max 6); +1 per licence (max 2); +1 per project (max 2). Bands AAA 90, AA 80, A 70, BBB 60,
BB 50, B 40, CCC 30, CC 20, C 0. Without evidence the best is 60 + 5 + 2 + 2 = 69: BBB.
"""

from __future__ import annotations

import json
from datetime import date

import pytest

from policies.credit.catalogue import add_months
from policies.credit.rating import (
    GradeChange,
    RatingInputs,
    RecordFact,
    Source,
    advance,
    class_since,
    explain,
    last_day,
)
from policies.credit.rating_file import RATING_FILE, default_model, parse_model
from policies.loader import PolicyError
from tests.policies.edited import edited

TODAY = date(2026, 6, 30)
CLASS_A = ["BIDDING_PRIORITY", "INSPECTION_EXEMPT", "GOOD_CREDIT_PUBLISHED"]
CLASS_B = ["ORDINARY_TERMS", "ROUTINE_INSPECTION", "CREDIT_ATTENTION"]
CLASS_C = ["BIDDING_RESTRICTED", "KEY_SUPERVISION_TARGET", "CREDIT_RISK_WARNING"]
DISHONEST = 2  # the index of DISHONEST_RECORDS among the contributions


def penalty(decided_on: date, tier: str = "SERIOUS") -> RecordFact:
    return RecordFact("ADMIN_PENALTY", "DISHONEST", tier, decided_on)


def commendation(decided_on: date) -> RecordFact:
    return RecordFact("COMMENDATION", "TRUSTWORTHY", None, decided_on)


def performance(decided_on: date) -> RecordFact:
    return RecordFact("PROJECT_PERFORMANCE", "TRUSTWORTHY", None, decided_on)


def commitment(decided_on: date) -> RecordFact:
    return RecordFact("CREDIT_COMMITMENT", "TRUSTWORTHY", None, decided_on)


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
    assert model.version == "2026.2"
    assert model.base == 60
    assert model.neutral_grade == "BBB"
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
    assert [(i.code, i.evidence) for i in model.indicators] == [
        ("REGISTRATION_STATUS", False),
        ("YEARS_WITHOUT_DISHONESTY", False),
        ("DISHONEST_RECORDS", False),
        ("PERFORMANCE_RECORDS", True),
        ("COMMENDATIONS", True),
        ("CREDIT_COMMITMENTS", True),
        ("LICENCES", False),
        ("PROJECTS", False),
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


def test_a_subject_registered_last_month_with_nothing_on_file_is_bbb() -> None:
    result = default_model().rate(
        subject(registered_on=date(2026, 5, 20), licences=0, projects=0), TODAY
    )
    assert (result.score, result.grade) == (60.0, "BBB")
    assert result.contributions
    assert all(c.points == 0 for c in result.contributions)
    assert result.consequence_codes() == CLASS_B
    assert [c.name for c in result.consequences] == [
        "招标投标活动中按一般条件对待、不予优先",
        "常规检查、加强监管",
        "轻微信用风险、信用关注",
    ]


def test_years_licences_and_projects_without_evidence_stay_below_class_a() -> None:
    result = default_model().rate(subject(), TODAY)
    # 60 + 0 (ACTIVE) + 5 (12 clean years, max 5) + 2 (3 licences, max 2) + 2 (2 projects)
    assert result.score == 69.0
    assert (result.grade, result.uncapped_grade, result.caps) == ("BBB", "BBB", ())
    assert result.model_version == "2026.2"
    assert [(c.code, c.name, c.kind, c.input, c.points) for c in result.contributions] == [
        ("REGISTRATION_STATUS", "登记状态", "qualitative", "ACTIVE", 0.0),
        ("YEARS_WITHOUT_DISHONESTY", "无失信年限", "quantitative", 12, 5.0),
        ("DISHONEST_RECORDS", "失信记录", "quantitative", {"records": 0, "weighted": 0.0}, 0.0),
        (
            "PERFORMANCE_RECORDS",
            "项目履约评价",
            "quantitative",
            {"records": 0, "weighted": 0.0},
            0.0,
        ),
        ("COMMENDATIONS", "表彰奖励", "quantitative", {"records": 0, "weighted": 0.0}, 0.0),
        ("CREDIT_COMMITMENTS", "信用承诺", "quantitative", {"records": 0, "weighted": 0.0}, 0.0),
        ("LICENCES", "持有许可", "quantitative", 3, 2.0),
        ("PROJECTS", "参与项目", "quantitative", 2, 2.0),
    ]


def test_one_commendation_earns_class_a_and_its_consequences() -> None:
    result = default_model().rate(subject(commendation(TODAY)), TODAY)
    assert (result.score, result.grade) == (75.0, "A")  # 69 + 6
    assert result.consequence_codes() == CLASS_A
    assert [c.name for c in result.consequences] == [
        "招标投标活动中优先",
        "二年内免予行政执法检查和专案检查",
        "公示良好信用",
    ]
    assert result.consequences[1].term_months == 24


def test_a_dishonest_record_restarts_the_clean_years() -> None:
    # registered 2014, a general penalty a year ago: one clean year, not twelve
    result = default_model().rate(subject(penalty(date(2025, 6, 30), "GENERAL")), TODAY)
    assert result.contributions[1].input == 1
    assert result.contributions[1].points == 1.0


def test_a_fresh_serious_penalty_costs_exactly_40_points() -> None:
    result = default_model().rate(subject(penalty(TODAY)), TODAY)
    assert result.score == 24.0  # 60 + 0 clean years - 40 + 2 + 2
    assert result.grade == "CC"
    assert result.contributions[DISHONEST].input == {"records": 1, "weighted": -40.0}
    assert result.contributions[DISHONEST].points == -40.0
    assert result.consequence_codes() == CLASS_C
    assert result.consequences[2].name == "较大信用风险的警示"


def test_a_penalty_decided_after_today_counts_as_fresh() -> None:
    assert points(subject(penalty(date(2026, 7, 15))))["DISHONEST_RECORDS"] == -40.0


def test_a_penalty_halves_every_24_months() -> None:
    # 730 days = 23.98 months: -40 * 0.5 ** (730 / 30.4375 / 24) = -20.0095; 2 clean years
    two_years = default_model().rate(subject(penalty(date(2024, 6, 30))), TODAY)
    assert two_years.contributions[DISHONEST].points == -20.01
    assert (two_years.score, two_years.grade) == (45.99, "B")
    # 1461 days = 48 months exactly: a quarter of -40; 4 clean years
    four_years = default_model().rate(subject(penalty(date(2022, 6, 30))), TODAY)
    assert four_years.contributions[DISHONEST].points == -10.0
    assert (four_years.score, four_years.grade) == (58.0, "BB")


def test_contributions_add_up_to_the_score_above_base() -> None:
    inputs = subject(
        penalty(date(2022, 6, 30), "GENERAL"),  # 48 months: -15 / 4 = -3.75
        commendation(date(2022, 6, 30)),  # 48 months, half-life 36: 6 * 2 ** (-4 / 3) = 2.38
        registered_on=date(2021, 7, 1),  # clean since the penalty: 4 full years
        licences=1,
        projects=3,
    )
    result = default_model().rate(inputs, TODAY)
    assert [c.points for c in result.contributions] == [0.0, 4.0, -3.75, 0.0, 2.38, 0.0, 1.0, 2.0]
    assert result.score == 65.63
    assert result.grade == "BBB"
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
    assert [c.points for c in result.contributions] == [-30.0, 0.0, -70.0, 0, 0, 0, 0, 0]
    assert result.contributions[DISHONEST].input == {"records": 2, "weighted": -80.0}
    assert (result.score, result.grade) == (0.0, "C")
    assert result.consequence_codes() == CLASS_C


def test_every_bound_holds_and_evidence_reaches_aaa() -> None:
    inputs = subject(
        *(performance(TODAY) for _ in range(4)),  # 16, max 12
        *(commendation(TODAY) for _ in range(3)),  # 18, max 12
        *(commitment(TODAY) for _ in range(3)),  # 9, max 6
        registered_on=date(2011, 1, 1),  # 15 years, max 5
        licences=5,  # 5, max 2
        projects=9,  # 9, max 2
    )
    assert points(inputs) == {
        "REGISTRATION_STATUS": 0.0,
        "YEARS_WITHOUT_DISHONESTY": 5.0,
        "DISHONEST_RECORDS": 0.0,
        "PERFORMANCE_RECORDS": 12.0,
        "COMMENDATIONS": 12.0,
        "CREDIT_COMMITMENTS": 6.0,
        "LICENCES": 2.0,
        "PROJECTS": 2.0,
    }
    result = default_model().rate(inputs, TODAY)
    assert result.contributions[3].input == {"records": 4, "weighted": 16.0}
    assert (result.score, result.grade) == (99.0, "AAA")


def test_the_score_is_clamped_at_100() -> None:
    loose = "points: 6\n    half_life_months: 36\n    max: 12"
    model = parse_model(edited(RATING_FILE, loose, loose.replace("max: 12", "max: 30")))
    inputs = subject(*(commendation(TODAY) for _ in range(5)), *(performance(TODAY),) * 3)
    assert (model.rate(inputs, TODAY).score, model.rate(inputs, TODAY).grade) == (100.0, "AAA")


def test_a_serious_dishonesty_listing_caps_at_c_and_disqualifies() -> None:
    result = default_model().rate(
        subject(commendation(TODAY), listings=("SERIOUS_DISHONESTY",)), TODAY
    )
    assert result.score == 75.0
    assert (result.uncapped_grade, result.grade) == ("A", "C")
    assert result.caps == ("SERIOUS_DISHONESTY",)
    assert result.consequence_codes() == [*CLASS_C, "DISQUALIFIED"]
    assert result.consequences[-1].name == "取消承担项目资格"


def test_an_abnormal_operation_listing_caps_at_b() -> None:
    result = default_model().rate(
        subject(commendation(TODAY), listings=("ABNORMAL_OPERATION",)), TODAY
    )
    assert (result.score, result.uncapped_grade, result.grade) == (75.0, "A", "B")
    assert result.caps == ("ABNORMAL_OPERATION",)
    assert result.consequence_codes() == CLASS_B


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
        (60, "BBB", CLASS_B),
        (45, "B", CLASS_B),
        (25, "CC", CLASS_C),
        (0, "C", CLASS_C),
    ],
)
def test_consequences_follow_the_grade_class(base: int, grade: str, measures: list[str]) -> None:
    inputs = subject(registered_on=None, licences=0, projects=0)  # nothing known: the base
    result = parse_model(edited(RATING_FILE, "base: 60", f"base: {base}")).rate(inputs, TODAY)
    assert (result.score, result.grade) == (base, grade)
    assert result.consequence_codes() == measures


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("base: 60", "base: 61"), "could score 70, class A from 70: class A must be earned"),
        (("ACTIVE: 0,", "ACTIVE: 10,"), "class A must be earned"),
        (("points: 1\n    max: 2\n  PROJECTS", "points: 1\n  PROJECTS"), "LICENCES: gives points"),
    ],
)
def test_a_model_that_gives_class_a_without_evidence_is_refused(
    change: tuple[str, str], message: str
) -> None:
    with pytest.raises(PolicyError, match=message):
        parse_model(edited(RATING_FILE, *change))


def test_partners_hear_of_a_change_of_what_they_act_on() -> None:
    model = default_model()
    assert model.partners_to_tell(CLASS_A, CLASS_B) == ("BIDDING",)
    assert model.partners_to_tell(CLASS_B, CLASS_B) == ()  # BBB to BB: nothing changes for them
    assert model.partners_to_tell(CLASS_C, [*CLASS_C, "DISQUALIFIED"]) == (
        "BIDDING",
        "PROCUREMENT",
    )


def change(grade: str, day: date) -> GradeChange:
    return GradeChange(grade, day, "2026.2")


def test_only_a_change_of_grade_adds_to_the_history() -> None:
    first = advance((), "BBB", "2026.2", date(2026, 1, 5))
    assert first == (change("BBB", date(2026, 1, 5)),)
    assert advance(first, "BBB", "2026.2", date(2026, 3, 1)) is first
    later = advance(first, "A", "2026.2", date(2026, 3, 1))
    assert later == (change("BBB", date(2026, 1, 5)), change("A", date(2026, 3, 1)))
    assert [GradeChange.from_dict(h.as_dict()) for h in later] == list(later)


def test_the_exemption_runs_two_years_from_the_start_of_the_unbroken_a_run() -> None:
    exemption = default_model().consequence("INSPECTION_EXEMPT")
    assert exemption is not None
    run = (
        change("BBB", date(2024, 1, 1)),
        change("A", date(2024, 2, 29)),  # first A of this run
        change("AA", date(2025, 5, 1)),  # still class A: the run goes on
    )
    assert class_since(run) == date(2024, 2, 29)
    assert last_day(exemption, run) == date(2026, 2, 27)  # 2026-02-28 is two years on
    # Lost and earned again: a new run, a new exemption from the new first day.
    again = (*run, change("BBB", date(2025, 9, 1)), change("A", date(2026, 4, 10)))
    assert class_since(again) == date(2026, 4, 10)
    assert last_day(exemption, again) == date(2028, 4, 9)
    # A consequence without a term has no last day.
    publicity = default_model().consequence("GOOD_CREDIT_PUBLISHED")
    assert publicity is not None and last_day(publicity, again) is None


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        (date(2026, 1, 31), 1, date(2026, 2, 28)),
        (date(2024, 2, 29), 24, date(2026, 2, 28)),
        (date(2025, 11, 15), 3, date(2026, 2, 15)),
    ],
)
def test_add_months_keeps_the_day_or_takes_the_months_last(
    day: date, months: int, expected: date
) -> None:
    assert add_months(day, months) == expected


def test_rating_is_deterministic() -> None:
    """Same inputs and day, the score worked out by hand: 60 + 1 clean year - 15 x 0.5^(536
    days / 30.4375 / 24) for the GENERAL penalty + 6 x 0.5^(849 days / 30.4375 / 36) for the
    commendation + 2 licences + 2 projects = 60 + 1 - 9.02 + 3.51 + 4 = 59.49, BB."""
    inputs = subject(penalty(date(2025, 1, 10), "GENERAL"), commendation(date(2024, 3, 3)))
    result = default_model().rate(inputs, TODAY)
    assert (result.score, result.grade) == (59.49, "BB")
    assert points(inputs)["DISHONEST_RECORDS"] == -9.02 and points(inputs)["COMMENDATIONS"] == 3.51


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
    dishonest = "category: DISHONEST\n"
    model = parse_model(edited(RATING_FILE, dishonest, dishonest + "    items: [IDLE_LAND]\n"))
    inputs = subject(penalty(TODAY), RecordFact("IDLE_LAND", "DISHONEST", "GENERAL", TODAY))
    assert model.rate(inputs, TODAY).contributions[DISHONEST].points == -15.0


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            (
                "reads: licences\n    points: 1\n",
                "reads: licences\n    points: 1\n    colour: red\n",
            ),
            "LICENCES: unknown key colour",
        ),
        (("  AA: 80", "  AA: 95"), "bands.AA: floor 95 must be below AAA's 90"),
        (("  CC: 20\n", ""), "bands: missing grade CC"),
        (("  C: 0", "  C: 5"), "with C at 0"),
        (("  CC: 20", "  CC: 20\n  D: 10"), "bands: unknown grade D"),
        (
            ("items: [COMMENDATION]", "items: [COMMENDATION, GOLD_STAR]"),
            "COMMENDATIONS: unknown catalogue item 'GOLD_STAR'",
        ),
        (
            ("items: [COMMENDATION]", "items: [IDLE_LAND]"),
            "COMMENDATIONS: item IDLE_LAND is DISHONEST, not TRUSTWORTHY",
        ),
        (("category: TRUSTWORTHY", "category: GOOD"), "PERFORMANCE_RECORDS: category must be"),
        (("    evidence: true", "    evidence: yes please"), "PERFORMANCE_RECORDS.evidence: true"),
        (("MINOR: -5, ", ""), "DISHONEST_RECORDS.points: missing tier MINOR"),
        (("MINOR: -5", "TINY: -5"), "DISHONEST_RECORDS.points: unknown tier TINY"),
        (("CANCELLED: -30", "DORMANT: -30"), "REGISTRATION_STATUS.points: unknown status DORMANT"),
        (("half_life_months: 24", "half_life_months: 0"), "half_life_months: must be positive"),
        (("min: -70", "min: -70\n    max: -80"), "DISHONEST_RECORDS: min must not exceed max"),
        (("kind: qualitative", "kind: opinion"), "REGISTRATION_STATUS: kind must be"),
        (("reads: projects", "reads: employees"), "PROJECTS: reads must be one of"),
        (
            ("reads: projects\n    points: 1", "reads: projects\n    points: many"),
            "PROJECTS.points",
        ),
        (("ABNORMAL_OPERATION: B", "ABNORMAL_OPERATION: D"), "caps.ABNORMAL_OPERATION: 'D'"),
        (("ABNORMAL_OPERATION: B", "WATCHLIST: B"), "caps: unknown listing WATCHLIST"),
        (
            ("    C:\n      BIDDING", "    D:\n      BIDDING"),
            "consequences.classes: unknown class D",
        ),
        (
            ("partners: [BIDDING]}", "partners: [BAKERY]}"),
            "BIDDING_PRIORITY.partners: a list of",
        ),
        (("term_months: 24", "term_months: 0"), "INSPECTION_EXEMPT.term_months: a whole number"),
        (("取消承担项目资格,", "取消承担项目资格, term_months: 3,"), "unknown key term_months"),
        (
            ("GOOD_CREDIT_PUBLISHED: {name: 公示良好信用}", "GOOD_CREDIT_PUBLISHED: {}"),
            "missing key name",
        ),
        (('version: "2026.2"', "version: 2026.2"), "quote it"),
        (("schema: 1", "schema: 2"), "schema must be 1"),
        (("base: 60", "base: 160"), "base: must lie within"),
        (("base: 60", "bass: 60"), "unknown key bass"),
    ],
)
def test_a_bad_model_is_refused(change: tuple[str, str], message: str) -> None:
    with pytest.raises(PolicyError, match=message):
        parse_model(edited(RATING_FILE, *change))


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
