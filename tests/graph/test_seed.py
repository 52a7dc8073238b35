"""The seed generator: deterministic, valid, in reference order, realistic, with planted cases."""

from __future__ import annotations

import hashlib
import json
from collections import Counter, defaultdict
from fractions import Fraction
from typing import Any

import pytest

from demo.identifiers import organisation_code
from demo.planted import PLANTED, hub_size
from demo.seed import generate
from graph.archive.rows import parse_row
from graph.identifiers import validate_resident_id, validate_uscc

Row = dict[str, Any]
SUBJECTS = 20_000
KEYS = {
    "Agency": "code",
    "Project": "id",
    "Subject": "creditCode",
    "Person": "idNumber",
    "Licence": "id",
    "CreditRecord": "id",
    "Sanction": "id",
    "Rating": "id",
}
PREFIX_KINDS = {
    "91": "COMPANY",
    "92": "INDIVIDUAL_BUSINESS",
    "12": "INSTITUTION",
    "N2": "RURAL_COLLECTIVE",
    "N3": "RURAL_COLLECTIVE",
    "Y1": "OTHER",
}


@pytest.fixture(scope="module")
def rows() -> list[Row]:
    return list(generate(SUBJECTS, 3))


@pytest.fixture(scope="module")
def small() -> list[Row]:
    return list(generate(2_000, 11))


def of_kind(rows: list[Row], kind: str) -> list[Row]:
    return [row for row in rows if row["kind"] == kind]


def relations(rows: list[Row], rel_type: str) -> list[Row]:
    return [row for row in rows if row["kind"] == "Relation" and row["type"] == rel_type]


def endpoint(end: dict[str, str]) -> str:
    ((_kind, key),) = end.items()
    return key


def by_code(rows: list[Row]) -> dict[str, Row]:
    return {row["creditCode"]: row for row in of_kind(rows, "Subject")}


# --- determinism and format -----------------------------------------------------------------------


# sha256 of generate(2_000, 11), one JSON line a row, as the generator wrote it: a seed must
# give the same graph in any process (hash seed, machine) and after any refactoring.
SMALL_DIGEST = "0580803101511f9af288e96754ce1ab799de440a0cea00c8dacb7c3764e80492"


def test_same_arguments_give_byte_identical_rows(small: list[Row]) -> None:
    digest = hashlib.sha256()
    for row in small:
        digest.update(json.dumps(row, ensure_ascii=False).encode() + b"\n")
    assert digest.hexdigest() == SMALL_DIGEST


def test_another_seed_gives_another_graph(small: list[Row]) -> None:
    other = list(generate(2_000, 12))
    assert by_code(other).keys() != by_code(small).keys()


def test_every_row_passes_the_importer_validation(small: list[Row]) -> None:
    assert small
    for row in small:
        parse_row(row, b"test-secret")


def test_agencies_come_first_and_cover_every_division(small: list[Row]) -> None:
    agencies = small[:116]
    assert all(row["kind"] == "Agency" for row in agencies)
    assert small[116]["kind"] != "Agency"
    assert Counter(row["level"] for row in agencies) == {"REGION": 1, "LEAGUE": 12, "BANNER": 103}
    assert {row["code"] for row in agencies} >= {"NMG150000", "NMG152200", "NMG152201"}
    assert all(row["code"] == "NMG" + row["division"] for row in agencies)


def test_negative_subject_count_is_refused() -> None:
    with pytest.raises(ValueError):
        next(generate(-1, 1))


# --- identifiers ----------------------------------------------------------------------------------


def test_credit_codes_are_valid_and_placed_in_their_division(rows: list[Row]) -> None:
    subjects = of_kind(rows, "Subject")
    assert subjects
    for subject in subjects:
        code = subject["creditCode"]
        assert validate_uscc(code) == code
        assert code[2:8] == subject["division"]
        assert organisation_code(code[8:16]) == code[8:17]  # GB 11714 check character
        assert PREFIX_KINDS[code[:2]] == subject["subjectKind"]


def test_letter_prefixed_codes_occur(rows: list[Row]) -> None:
    prefixes = Counter(subject["creditCode"][:2] for subject in of_kind(rows, "Subject"))
    assert prefixes["N2"] > 0 and prefixes["N3"] > 0 and prefixes["Y1"] > 0


def test_resident_ids_are_valid(rows: list[Row]) -> None:
    people = of_kind(rows, "Person")
    assert people
    for person in people:
        assert validate_resident_id(person["idNumber"]) == person["idNumber"]
        assert 1950 <= int(person["idNumber"][6:10]) <= 2000


def test_keys_are_unique_per_kind(rows: list[Row]) -> None:
    for kind, key in KEYS.items():
        keys = [row[key] for row in of_kind(rows, kind)]
        assert len(keys) == len(set(keys)), kind
    rel_keys = [
        (r["type"], endpoint(r["from"]), endpoint(r["to"]), r["since"], r.get("role"))
        for r in of_kind(rows, "Relation")
    ]
    assert len(rel_keys) == len(set(rel_keys))


# --- order and consistency ------------------------------------------------------------------------


def test_every_reference_points_to_an_earlier_row(rows: list[Row]) -> None:
    assert rows
    seen: dict[str, set[str]] = defaultdict(set)
    endpoints = {"subject": "Subject", "person": "Person", "project": "Project"}
    for row in rows:
        kind = row["kind"]
        refs: list[tuple[str, str]] = []
        if kind == "Licence":
            refs = [("Subject", row["holder"]), ("Agency", row["issuer"])]
        elif kind == "CreditRecord":
            refs = [("Subject", row["subject"]), ("Agency", row["agency"])]
        elif kind == "Sanction":
            refs = [("Subject", row["subject"]), ("Agency", row["authority"])]
            refs += [("CreditRecord", record) for record in row["basedOn"]]
        elif kind == "Rating":
            refs = [("Subject", row["subject"])]
        elif kind == "Relation":
            for end in (row["from"], row["to"]):
                ((end_kind, key),) = end.items()
                refs.append((endpoints[end_kind], key))
        source = row.get("source", {}).get("agency")
        if source is not None:
            refs.append(("Agency", source))
        for ref_kind, key in refs:
            assert key in seen[ref_kind], (kind, ref_kind, key)
        if kind in KEYS:
            seen[kind].add(row[KEYS[kind]])


def test_shares_per_company_sum_to_at_most_one(rows: list[Row]) -> None:
    basis_points: Counter[str] = Counter()
    for holding in relations(rows, "SHAREHOLDER_OF"):
        assert 0 < holding["share"] <= 1
        assert holding["share"] == round(holding["share"], 4)
        basis_points[holding["to"]["subject"]] += round(holding["share"] * 10_000)
    assert max(basis_points.values()) <= 10_000


def test_companies_have_exactly_one_legal_representative(rows: list[Row]) -> None:
    reps = Counter(r["to"]["subject"] for r in relations(rows, "LEGAL_REPRESENTATIVE_OF"))
    kinds = ("COMPANY", "INDIVIDUAL_BUSINESS")
    companies = [s for s in of_kind(rows, "Subject") if s["subjectKind"] in kinds]
    assert companies
    for subject in companies:
        assert reps[subject["creditCode"]] == 1


def test_records_follow_the_catalogue(rows: list[Row]) -> None:
    records = of_kind(rows, "CreditRecord")
    assert records
    for record in records:
        dishonest = record["category"] == "DISHONEST"
        assert ("tier" in record) == dishonest
        assert ("publishUntil" in record) == dishonest
        assert record["publishFrom"] == record["decidedOn"]
        assert "2010-01-01" <= record["decidedOn"] < "2026-11-01"
        assert record["source"]["document"] == record["document"]
        if record["item"] in ("COMMENDATION", "CREDIT_COMMITMENT"):
            assert record["category"] == "TRUSTWORTHY"
        if record["item"] in ("REGISTRATION", "ADMIN_LICENCE"):
            assert record["category"] == "BASIC"
        if record["status"] == "EXPIRED":
            assert record["publishUntil"] <= "2026-11-01"


def test_sanctions_rest_on_serious_or_abnormal_records(rows: list[Row]) -> None:
    records = {record["id"]: record for record in of_kind(rows, "CreditRecord")}
    sanctions = of_kind(rows, "Sanction")
    assert sanctions
    for sanction in sanctions:
        (basis,) = sanction["basedOn"]
        record = records[basis]
        assert record["subject"] == sanction["subject"]
        assert sanction["startDate"] == record["decidedOn"]
        if sanction["listing"] == "SERIOUS_DISHONESTY":
            assert record["tier"] == "SERIOUS"
            active = sanction["endDate"] > "2026-11-01"
            assert sanction["status"] == ("ACTIVE" if active else "ENDED")
        else:
            assert record["item"] == "MINING_FILING_ABNORMAL"


def test_every_subject_has_one_rating_after_it(rows: list[Row]) -> None:
    ratings = of_kind(rows, "Rating")
    assert ratings and len(ratings) == len(of_kind(rows, "Subject"))
    bands = [(90, "AAA"), (80, "AA"), (70, "A"), (60, "BBB"), (50, "BB"), (40, "B")]
    bands += [(30, "CCC"), (20, "CC"), (0, "C")]
    for rating in ratings:
        assert rating["id"] == "RT-" + rating["subject"]
        assert rating["grade"] == next(g for floor, g in bands if rating["score"] >= floor)
    active = {s["subject"] for s in of_kind(rows, "Sanction") if s["status"] == "ACTIVE"}
    serious = {
        s["subject"]
        for s in of_kind(rows, "Sanction")
        if s["status"] == "ACTIVE" and s["listing"] == "SERIOUS_DISHONESTY"
    }
    for rating in ratings:
        if rating["subject"] in serious:
            assert rating["grade"] == "C"
            assert rating["measures"] == [
                "BIDDING_RESTRICTED",
                "KEY_SUPERVISION_TARGET",
                "CREDIT_RISK_WARNING",
            ]
        elif rating["subject"] in active:
            assert rating["score"] <= 49


# --- realism --------------------------------------------------------------------------------------


def test_proportions_are_roughly_as_intended(rows: list[Row]) -> None:
    counts = Counter(row["kind"] for row in rows)
    assert counts["Subject"] == SUBJECTS
    assert 0.45 <= counts["Person"] / SUBJECTS <= 0.8
    assert 0.2 <= counts["Licence"] / SUBJECTS <= 0.4
    assert 1.2 <= counts["CreditRecord"] / SUBJECTS <= 1.8
    assert counts["Project"] >= SUBJECTS / 20
    listings = Counter(s["listing"] for s in of_kind(rows, "Sanction"))
    assert 0.02 <= listings["SERIOUS_DISHONESTY"] / SUBJECTS <= 0.04
    assert 0.01 <= listings["ABNORMAL_OPERATION"] / SUBJECTS <= 0.03
    kinds = Counter(s["subjectKind"] for s in of_kind(rows, "Subject"))
    assert 0.7 <= kinds["COMPANY"] / SUBJECTS <= 0.85
    statuses = Counter(s["status"] for s in of_kind(rows, "Subject"))
    assert 0.8 <= statuses["ACTIVE"] / SUBJECTS <= 0.95
    records = of_kind(rows, "CreditRecord")
    disclosure = Counter(r["disclosure"] for r in records)
    assert 0.55 <= disclosure["PUBLIC"] / len(records) <= 0.7
    assert 0.2 <= disclosure["SHARED"] / len(records) <= 0.3
    assert disclosure["CONFIDENTIAL"] > 0
    assert 0.03 <= Counter(r["status"] for r in records)["PENDING"] / len(records) <= 0.07
    rel_types = Counter(r["type"] for r in of_kind(rows, "Relation"))
    assert rel_types["BRANCH_OF"] > 0 and rel_types["SUCCEEDED_BY"] > 0
    assert 0.3 <= rel_types["OFFICER_OF"] / SUBJECTS <= 0.7


def test_big_economies_hold_more_subjects(rows: list[Row]) -> None:
    leagues = Counter(s["division"][:4] for s in of_kind(rows, "Subject"))
    assert leagues["1501"] > leagues["1529"] * 2  # Hohhot versus Alxa
    assert leagues["1506"] > leagues["1503"]  # Ordos versus Wuhai


def test_a_few_people_front_many_companies(rows: list[Row]) -> None:
    reps = Counter(r["from"]["person"] for r in relations(rows, "LEGAL_REPRESENTATIVE_OF"))
    per_person = Counter(reps.values())
    assert max(reps.values()) >= 5
    assert per_person[1] > len(reps) / 3  # most represent a single subject


def test_projects_have_bidders_and_a_contractor(rows: list[Row]) -> None:
    roles: dict[str, Counter[str]] = defaultdict(Counter)
    for rel in relations(rows, "PARTICIPATES_IN"):
        roles[rel["to"]["project"]][rel["role"]] += 1
    random_projects = [
        p["id"] for p in of_kind(rows, "Project") if p["id"] != PLANTED.phoenix.project
    ]
    assert random_projects
    for project in random_projects:
        assert 3 <= roles[project]["BIDDER"] <= 8
        assert roles[project]["CONTRACTOR"] == 1


def test_contacts_are_shared_in_small_rings_and_two_hubs(rows: list[Row]) -> None:
    holders = contact_holders(rows)
    hubs = {PLANTED.hub_phone, PLANTED.hub_address}
    for hub in hubs:
        assert len(holders[hub]) == hub_size(SUBJECTS) >= 200
    sharing = {
        code
        for value, codes in holders.items()
        if len(codes) > 1 and value not in hubs
        for code in codes
    }
    sharing -= set(PLANTED.ring.members)
    assert 0.005 <= len(sharing) / SUBJECTS <= 0.03


def contact_holders(rows: list[Row]) -> dict[str, set[str]]:
    holders: dict[str, set[str]] = defaultdict(set)
    for subject in of_kind(rows, "Subject"):
        for field in ("phones", "addresses", "emails"):
            for value in subject.get(field, []):
                holders[value].add(subject["creditCode"])
    return holders


# --- planted cases --------------------------------------------------------------------------------


def test_planted_cases_need_a_hundred_subjects() -> None:
    codes = by_code(list(generate(PLANTED.min_subjects - 1, 1)))
    assert not codes.keys() & set(PLANTED.subjects)
    rows = list(generate(PLANTED.min_subjects, 1))
    assert set(PLANTED.subjects) <= by_code(rows).keys()
    assert len(of_kind(rows, "Subject")) == PLANTED.min_subjects


def test_planted_rows_do_not_depend_on_size_or_seed(small: list[Row], rows: list[Row]) -> None:
    def planted(rows: list[Row]) -> list[Row]:
        keys = set(PLANTED.subjects) | set(PLANTED.persons)
        return [
            row
            for row in rows
            if row.get("creditCode") in keys
            or row.get("idNumber") in keys
            or (row["kind"] == "Relation" and endpoint(row["from"]) in keys)
        ]

    assert planted(small) == planted(rows)
    assert len(planted(rows)) > 20


def test_phoenix(rows: list[Row]) -> None:
    case = PLANTED.phoenix
    subjects = by_code(rows)
    assert subjects[case.new_company]["registeredOn"] == case.new_registered
    assert case.sanction_start < case.new_registered
    (sanction,) = [s for s in of_kind(rows, "Sanction") if s["id"] == case.sanction]
    assert sanction["subject"] == case.sanctioned
    assert sanction["listing"] == "SERIOUS_DISHONESTY"
    assert sanction["status"] == "ACTIVE"
    assert (sanction["startDate"], sanction["endDate"]) == (case.sanction_start, case.sanction_end)
    assert sanction["basedOn"] == [case.record]
    reps = {
        (r["from"]["person"], r["to"]["subject"]): r["since"]
        for r in relations(rows, "LEGAL_REPRESENTATIVE_OF")
    }
    assert (case.person, case.sanctioned) in reps
    assert reps[(case.person, case.new_company)] == case.new_registered
    shares = {
        endpoint(r["from"]): r["share"]
        for r in relations(rows, "SHAREHOLDER_OF")
        if r["to"] == {"subject": case.new_company}
    }
    assert shares[case.person] == case.person_share
    bids = [
        r
        for r in relations(rows, "PARTICIPATES_IN")
        if r["from"] == {"subject": case.new_company} and r["to"] == {"project": case.project}
    ]
    assert [(b["role"], b["since"]) for b in bids] == [("BIDDER", case.bid_since)]
    ratings = {r["subject"]: r["grade"] for r in of_kind(rows, "Rating")}
    assert ratings[case.sanctioned] == case.sanctioned_grade


def test_circular_holding_has_the_documented_beneficial_ownership(rows: list[Row]) -> None:
    case = PLANTED.holding
    label = {key: name for name, key in {**case.persons, **case.companies}.items()}
    found = {
        (label[endpoint(r["from"])], label[r["to"]["subject"]], r["share"])
        for r in relations(rows, "SHAREHOLDER_OF")
        if r["to"]["subject"] in label
    }
    assert found == set(case.shares)
    # The documented figures solve x = d + S·x exactly for every person...
    held_by: dict[str, dict[str, Fraction]] = defaultdict(dict)  # company → holder → share
    for holder, company, share in case.shares:
        held_by[company][holder] = Fraction(str(share))
    for person, expected in case.beneficial.items():
        for company, value in expected.items():
            through = sum(
                (share * expected[holder] for holder, share in held_by[company].items()
                 if holder in case.companies),
                Fraction(0),
            )  # fmt: skip
            assert value == held_by[company].get(person, Fraction(0)) + through
    # ...the owners of each company add up to all of it, and the controllers hold the most.
    for company, controller in case.controllers.items():
        owners = {person: case.beneficial[person][company] for person in case.persons}
        assert sum(owners.values()) == 1
        assert max(owners, key=owners.__getitem__) == controller


def test_ring_shares_only_the_documented_contacts(rows: list[Row]) -> None:
    ring = PLANTED.ring
    holders = contact_holders(rows)
    links = {value: {ring.members[a], ring.members[b]} for a, b, _field, value in ring.links}
    subjects = by_code(rows)
    assert ring.links and ring.members
    for a, b, field, value in ring.links:
        assert value in subjects[ring.members[a]][field]
        assert value in subjects[ring.members[b]][field]
    for member in ring.members:
        for field in ("phones", "addresses", "emails"):
            for value in subjects[member].get(field, []):
                assert holders[value] == links.get(value, {member})
