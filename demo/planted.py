"""The planted cases: hand-built subjects with fixed identities and answers tests assert on.

A phoenix company, a circular holding, a ring of shared contacts, and the hub address and phone;
present whenever a graph has at least ``PLANTED.min_subjects`` subjects.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from fractions import Fraction
from typing import NamedTuple

from demo.identifiers import credit_code, resident_number
from demo.odds import (
    HUB_FLOOR_LARGE,
    HUB_FLOOR_MEDIUM,
    HUB_RATE,
    PLANTED_MIN_SUBJECTS,
    SCORE_START,
    SYSTEM,
)
from demo.rows import Row, capped_score, rating_row, relation_row, source_of, with_contacts
from demo.tables import MINERAL_LAW
from policies.units import agency_code

_PLANTED_DIVISION = "152201"  # 乌兰浩特市, 兴安盟
_PLANTED_LEAGUE = "152200"
_PLANTED_AGENCY = agency_code(_PLANTED_DIVISION)
_PLANTED_LEAGUE_AGENCY = agency_code(_PLANTED_LEAGUE)


def _planted_subject(body: str) -> str:
    return credit_code("91", _PLANTED_DIVISION, body)


def _planted_person(birth: str, sequence: int) -> str:
    return resident_number(_PLANTED_DIVISION, birth, sequence)


@dataclass(frozen=True, slots=True)
class PlantedPhoenix:
    """A seriously dishonest company's legal representative founds a new company that bids.

    Expected: ``person`` is legal representative of ``sanctioned`` (since its registration) and,
    after ``sanction_start``, of ``new_company`` (since ``new_registered``), holding
    ``person_share`` of it; ``new_company`` is a BIDDER in ``project``. The sanction is ACTIVE
    at REFERENCE_DATE: the planted term is 5 years (random sanctions use 3), so it runs until
    ``sanction_end`` and its record stays PUBLISHED until then.
    """

    sanctioned: str
    new_company: str
    person: str
    associate: str  # holds the rest of the new company and part of the old one
    record: str
    sanction: str
    sanction_start: str
    sanction_end: str
    measures: tuple[str, ...]
    new_registered: str
    person_share: float
    project: str
    bid_since: str
    sanctioned_grade: str


@dataclass(frozen=True, slots=True)
class PlantedHolding:
    """Three companies holding each other in a cycle, owned by three people.

    ``shares`` lists (holder, company, share) by label. Beneficial ownership of person p is the
    solution of x = d_p + S·x, where d_p[c] is p's direct share of c and S[c][k] the share of c
    held by company k; i.e. x = (I − S)⁻¹ d_p, the sum over all holding chains including any
    number of turns around the cycle (a geometric series, cycle product 0.6·0.4·0.3 = 0.072).
    Every company's shares are fully listed, so each company's beneficial owners sum to 1.
    """

    persons: Mapping[str, str]  # label → idNumber
    companies: Mapping[str, str]  # label → creditCode
    shares: tuple[tuple[str, str, float], ...]
    beneficial: Mapping[str, Mapping[str, Fraction]]  # person → company → exact share
    controllers: Mapping[str, str]  # company → person with the largest beneficial share
    method: str


@dataclass(frozen=True, slots=True)
class PlantedRing:
    """Five subjects chained by shared contacts and sharing them with nobody else.

    ``links`` are (member index, member index, field, value): S1–S2 phone, S2–S3 address,
    S3–S4 email, S4–S5 phone. Every other contact of the members is unique to them.
    """

    members: tuple[str, ...]
    links: tuple[tuple[int, int, str, str], ...]


@dataclass(frozen=True, slots=True)
class Planted:
    min_subjects: int
    phoenix: PlantedPhoenix
    holding: PlantedHolding
    ring: PlantedRing
    hub_address: str  # incubator address shared by hub_size(subjects) subjects
    hub_phone: str  # registration agent's phone shared by hub_size(subjects) subjects
    subjects: tuple[str, ...]  # every planted credit code
    persons: tuple[str, ...]  # every planted idNumber


_RING_PHONE_12 = "0482-8123401"
_RING_ADDRESS_23 = "兴安盟乌兰浩特市五一北路102号金桥大厦0702室"
_RING_EMAIL_34 = "jqring34@yeah.net"
_RING_PHONE_45 = "0482-8123405"
_HUB_ADDRESS = "内蒙古自治区呼和浩特市赛罕区敕勒川大街16号众创孵化基地"
_HUB_PHONE = "0471-8866666"

PHOENIX = PlantedPhoenix(
    sanctioned=_planted_subject("MA0PHX01"),
    new_company=_planted_subject("MA0PHX02"),
    person=_planted_person("19720408", 31),
    associate=_planted_person("19750912", 42),
    record="R-00000001",
    sanction="S-00000001",
    sanction_start="2024-06-01",
    sanction_end="2027-06-01",
    measures=("BID_RESTRICTED", "LAND_AUCTION_BARRED", "MINING_RIGHT_BARRED"),
    new_registered="2025-01-15",
    person_share=0.6,
    project="P-00000001",
    bid_since="2025-05-10",
    sanctioned_grade="C",
)
HOLDING = PlantedHolding(
    persons={
        "Q": _planted_person("19650321", 15),
        "R": _planted_person("19700605", 26),
        "T": _planted_person("19680117", 53),
    },
    companies={
        "C1": _planted_subject("07912301"),
        "C2": _planted_subject("07912302"),
        "C3": _planted_subject("MA0CYC03"),
    },
    shares=(
        ("Q", "C1", 0.5),
        ("R", "C1", 0.2),
        ("C3", "C1", 0.3),
        ("C1", "C2", 0.6),
        ("R", "C2", 0.4),
        ("C2", "C3", 0.4),
        ("T", "C3", 0.6),
    ),
    beneficial={
        "Q": {"C1": Fraction(125, 232), "C2": Fraction(75, 232), "C3": Fraction(15, 116)},
        "R": {"C1": Fraction(31, 116), "C2": Fraction(65, 116), "C3": Fraction(13, 58)},
        "T": {"C1": Fraction(45, 232), "C2": Fraction(27, 232), "C3": Fraction(75, 116)},
    },
    controllers={"C1": "Q", "C2": "R", "C3": "T"},
    method="x = (I - S)^-1 d: all holding chains, the cycle summed as a geometric series",
)
RING = PlantedRing(
    members=tuple(_planted_subject(f"MA0RNG0{n}") for n in range(1, 6)),
    links=(
        (0, 1, "phones", _RING_PHONE_12),
        (1, 2, "addresses", _RING_ADDRESS_23),
        (2, 3, "emails", _RING_EMAIL_34),
        (3, 4, "phones", _RING_PHONE_45),
    ),
)


class _PlantedSubject(NamedTuple):
    code: str
    name: str
    registered: str
    phones: list[str]
    addresses: list[str]
    emails: list[str]


class _PlantedPerson(NamedTuple):
    number: str
    name: str


_RING_REP_NAMES = ("陈立新", "刘海军", "杨丽娟", "黄志强", "周玉兰")


def _planted_people() -> list[_PlantedPerson]:
    phoenix, holding = PHOENIX, HOLDING
    ring_reps = [_planted_person(f"19{80 + n}0{n + 1}1{n}", 60 + n) for n in range(5)]
    return [
        _PlantedPerson(phoenix.person, "包志刚"),
        _PlantedPerson(phoenix.associate, "王淑珍"),
        _PlantedPerson(holding.persons["Q"], "李建国"),
        _PlantedPerson(holding.persons["R"], "赵海燕"),
        _PlantedPerson(holding.persons["T"], "高志远"),
        *(
            _PlantedPerson(number, name)
            for number, name in zip(ring_reps, _RING_REP_NAMES, strict=True)
        ),
    ]


def _planted_address(number: int) -> str:
    return f"兴安盟乌兰浩特市五一北路{number}号金桥大厦0{number % 100 + 500}室"


def _planted_subjects() -> list[_PlantedSubject]:
    phoenix, holding, ring = PHOENIX, HOLDING, RING
    own = "0482-81234"
    members = ring.members
    return [
        _PlantedSubject(phoenix.sanctioned, "乌兰浩特市恒泰矿业有限公司", "2016-03-18",
                        [own + "11"], [_planted_address(11)], []),
        _PlantedSubject(phoenix.new_company, "兴安盟恒泰宏达矿业有限公司", phoenix.new_registered,
                        [own + "12"], [_planted_address(12)], []),
        _PlantedSubject(holding.companies["C1"], "兴安盟金鼎投资有限公司", "2012-03-01",
                        [own + "21"], [_planted_address(21)], []),
        _PlantedSubject(holding.companies["C2"], "乌兰浩特市金鼎矿业有限责任公司", "2013-07-15",
                        [own + "22"], [_planted_address(22)], []),
        _PlantedSubject(holding.companies["C3"], "乌兰浩特市鼎盛建筑工程有限公司", "2016-05-20",
                        [own + "23"], [_planted_address(23)], []),
        _PlantedSubject(members[0], "乌兰浩特市金桥测绘有限公司", "2018-04-02",
                        [_RING_PHONE_12], [_planted_address(101)], []),
        _PlantedSubject(members[1], "乌兰浩特市桥联土地开发有限公司", "2018-09-17",
                        [_RING_PHONE_12], [_RING_ADDRESS_23], []),
        _PlantedSubject(members[2], "兴安盟联众工程咨询有限公司", "2019-03-05",
                        [own + "33"], [_RING_ADDRESS_23], [_RING_EMAIL_34]),
        _PlantedSubject(members[3], "乌兰浩特市众鑫建材有限公司", "2019-11-21",
                        [_RING_PHONE_45], [_planted_address(104)], [_RING_EMAIL_34]),
        _PlantedSubject(members[4], "兴安盟鑫达地质勘查有限公司", "2020-06-30",
                        [_RING_PHONE_45], [_planted_address(105)], []),
    ]  # fmt: skip


def _planted_relations() -> list[Row]:
    """Legal representatives and holdings of the phoenix and circular cases, ring reps."""
    phoenix, holding = PHOENIX, HOLDING
    registered = {s.code: s.registered for s in _planted_subjects()}
    labels: dict[str, dict[str, str]] = {
        **{label: {"person": number} for label, number in holding.persons.items()},
        **{label: {"subject": code} for label, code in holding.companies.items()},
    }
    cycle_closed = "2017-01-01"  # C3 takes its stake in C1 only after C3 exists

    def rel(rel_type: str, person: str, code: str) -> Row:
        start, end = {"person": person}, {"subject": code}
        return relation_row(rel_type, start, end, registered[code], _PLANTED_AGENCY)

    rows = [
        rel("LEGAL_REPRESENTATIVE_OF", phoenix.person, phoenix.sanctioned),
        {**rel("SHAREHOLDER_OF", phoenix.person, phoenix.sanctioned), "share": 0.7},
        {**rel("SHAREHOLDER_OF", phoenix.associate, phoenix.sanctioned), "share": 0.3},
        rel("LEGAL_REPRESENTATIVE_OF", phoenix.person, phoenix.new_company),
        {**rel("SHAREHOLDER_OF", phoenix.person, phoenix.new_company), "share": 0.6},
        {**rel("SHAREHOLDER_OF", phoenix.associate, phoenix.new_company), "share": 0.4},
        rel("LEGAL_REPRESENTATIVE_OF", holding.persons["Q"], holding.companies["C1"]),
        rel("LEGAL_REPRESENTATIVE_OF", holding.persons["R"], holding.companies["C2"]),
        rel("LEGAL_REPRESENTATIVE_OF", holding.persons["T"], holding.companies["C3"]),
    ]
    for holder, company, share in holding.shares:
        code = holding.companies[company]
        since = cycle_closed if holder == "C3" else registered[code]
        row = relation_row(
            "SHAREHOLDER_OF", labels[holder], {"subject": code}, since, _PLANTED_AGENCY
        )
        rows.append({**row, "share": share})
    reps = [p.number for p in _planted_people()[-5:]]
    rows.extend(
        rel("LEGAL_REPRESENTATIVE_OF", rep, code)
        for rep, code in zip(reps, RING.members, strict=True)
    )
    return rows


def planted_project() -> Row:
    return {
        "kind": "Project",
        "id": PHOENIX.project,
        "name": "乌兰浩特市2025年历史遗留矿山生态修复项目",
        "projectKind": "MINE_RESTORATION",
        "division": _PLANTED_DIVISION,
        "startedOn": "2025-06-01",
        "disclosure": "PUBLIC",
        "source": source_of(_PLANTED_AGENCY),
    }


def _planted_sanction_rows() -> list[Row]:
    phoenix = PHOENIX
    document = "兴自然资罚〔2024〕17号"
    source = {
        "agency": _PLANTED_LEAGUE_AGENCY,
        "document": document,
        "decidedOn": phoenix.sanction_start,
        "system": SYSTEM,
    }
    record = {
        "kind": "CreditRecord",
        "id": phoenix.record,
        "subject": phoenix.sanctioned,
        "agency": _PLANTED_LEAGUE_AGENCY,
        "item": "ADMIN_PENALTY",
        "category": "DISHONEST",
        "tier": "SERIOUS",
        "title": "越界开采矿产资源情节严重行政处罚决定",
        "decidedOn": phoenix.sanction_start,
        "document": document,
        "legalBasis": MINERAL_LAW + "第四十条",
        "publishFrom": phoenix.sanction_start,
        "publishUntil": phoenix.sanction_end,
        "status": "PUBLISHED",
        "disclosure": "PUBLIC",
        "source": source,
    }
    sanction = {
        "kind": "Sanction",
        "id": phoenix.sanction,
        "subject": phoenix.sanctioned,
        "listing": "SERIOUS_DISHONESTY",
        "measures": list(phoenix.measures),
        "startDate": phoenix.sanction_start,
        "endDate": phoenix.sanction_end,
        "status": "ACTIVE",
        "authority": _PLANTED_LEAGUE_AGENCY,
        "basedOn": [phoenix.record],
        "disclosure": "PUBLIC",
        "source": source,
    }
    return [record, sanction]


def planted_rows() -> Iterator[Row]:
    """The planted cases: fixed rows, no randomness, independent of the subject count."""
    for person in _planted_people():
        yield {
            "kind": "Person",
            "idNumber": person.number,
            "name": person.name,
            "source": source_of(_PLANTED_AGENCY),
        }
    for subject in _planted_subjects():
        row = {
            "kind": "Subject",
            "creditCode": subject.code,
            "name": subject.name,
            "subjectKind": "COMPANY",
            "division": _PLANTED_DIVISION,
            "status": "ACTIVE",
            "registeredOn": subject.registered,
            "disclosure": "PUBLIC",
            "source": source_of(_PLANTED_AGENCY),
        }
        yield with_contacts(row, subject.phones, subject.addresses, subject.emails)
    yield from _planted_relations()
    yield from _planted_sanction_rows()
    phoenix = PHOENIX
    for subject in _planted_subjects():
        sanctioned = subject.code == phoenix.sanctioned
        yield rating_row(subject.code, capped_score(SCORE_START, sanctioned, False))
    bid = relation_row(
        "PARTICIPATES_IN",
        {"subject": phoenix.new_company},
        {"project": phoenix.project},
        phoenix.bid_since,
        _PLANTED_AGENCY,
    )
    yield {**bid, "role": "BIDDER"}


PLANTED = Planted(
    min_subjects=PLANTED_MIN_SUBJECTS,
    phoenix=PHOENIX,
    holding=HOLDING,
    ring=RING,
    hub_address=_HUB_ADDRESS,
    hub_phone=_HUB_PHONE,
    subjects=tuple(s.code for s in _planted_subjects()),
    persons=tuple(p.number for p in _planted_people()),
)


def hub_size(subjects: int) -> int:
    """How many subjects share each hub value: ~0.05%, at least 200 from 10,000 subjects."""
    if subjects >= 10_000:
        return max(HUB_FLOOR_LARGE, round(subjects * HUB_RATE))
    size = max(2, subjects // 50)
    return max(size, HUB_FLOOR_MEDIUM) if subjects >= 1_000 else size
