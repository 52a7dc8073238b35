"""The people behind a generated subject: legal representative, shareholders and officers.

Shareholders may be earlier companies; people are often someone who already fronts others.
"""

from __future__ import annotations

from datetime import date

from demo.identifiers import resident_number
from demo.odds import (
    ADULT_AGE,
    BIRTH_FIRST_YEAR,
    BIRTH_LAST_YEAR,
    BUSY_HOLDER_RATE,
    CORPORATE_HOLDER_RATE,
    ENDED_RELATION_RATE,
    HOLDER_ODDS,
    MALE_RATE,
    MONGOLIAN_NAME_RATE,
    OFFICER_ODDS,
    PERSON_ADDRESS_RATE,
    PERSON_LOAD_CAP,
    PERSON_PHONE_RATE,
    REFERENCE,
    REP_IS_HOLDER_RATE,
    REP_ODDS,
    PersonOdds,
    iso,
)
from demo.places import Place, new_address, new_phone
from demo.pools import Draft, Pools
from demo.rows import Row, relation_row, source_of, with_contacts
from demo.tables import (
    FEMALE_GIVEN,
    HOLDER_COUNTS,
    MALE_GIVEN,
    MONGOLIAN_FEMALE,
    MONGOLIAN_MALE,
    OFFICER_COUNTS,
    OFFICER_ROLES,
    SURNAMES,
)


def people_relations(pools: Pools, draft: Draft, people: list[Row]) -> list[Row]:
    """Legal representative, shareholders and officers; new people go into ``people``."""
    rng = pools.rng
    place, target = draft.place, {"subject": draft.code}
    rep = _person(pools, REP_ODDS, draft.year, place, people)
    representative = {"person": pools.person_ids[rep]}
    relations = [
        relation_row("LEGAL_REPRESENTATIVE_OF", representative, target, draft.since, place.agency)
    ]
    if draft.kind.kind != "COMPANY":
        return relations
    if draft.branch_of is None:  # a branch has no shareholders: its head office does
        relations.extend(_shareholders(pools, draft, rep, people))
    officers: set[int] = set()
    for _ in range(OFFICER_COUNTS.pick(rng)):
        officer = _person(pools, OFFICER_ODDS, draft.year, place, people)
        if officer in officers:
            continue
        officers.add(officer)
        person = {"person": pools.person_ids[officer]}
        row = relation_row("OFFICER_OF", person, target, draft.since, place.agency)
        row["role"] = rng.choice(OFFICER_ROLES)
        relations.append(_maybe_ended(pools, row, draft.registered))
    return relations


def _shareholders(pools: Pools, draft: Draft, rep: int, people: list[Row]) -> list[Row]:
    """1-5 holders (people or earlier companies) whose shares sum to at most 1."""
    holders: dict[str, tuple[dict[str, str], int]] = {}  # key → endpoint, since
    for slot in range(HOLDER_COUNTS.pick(pools.rng)):
        endpoint, since = _holder(pools, slot, rep, draft, people)
        holders.setdefault(next(iter(endpoint.values())), (endpoint, since))
    rows = []
    shares = _split(pools, len(holders))
    for (endpoint, since), basis_points in zip(holders.values(), shares, strict=True):
        target = {"subject": draft.code}
        row = relation_row("SHAREHOLDER_OF", endpoint, target, iso(since), draft.place.agency)
        row["share"] = basis_points / 10_000
        rows.append(_maybe_ended(pools, row, since))
    return rows


def _holder(
    pools: Pools, slot: int, rep: int, draft: Draft, people: list[Row]
) -> tuple[dict[str, str], int]:
    """One shareholder and the day its holding starts (not before the holder exists)."""
    rng = pools.rng
    if slot == 0 and rng.random() < REP_IS_HOLDER_RATE:
        return {"person": pools.person_ids[rep]}, draft.registered
    if pools.companies and rng.random() < CORPORATE_HOLDER_RATE:
        if pools.busy_companies and rng.random() < BUSY_HOLDER_RATE:
            position = rng.choice(pools.busy_companies)  # groups keep buying
        else:
            position = rng.randrange(len(pools.companies))
        pools.busy_companies.append(position)
        subject = pools.companies[position]
        since = max(draft.registered, pools.registered[subject] + 30)
        return {"subject": pools.codes[subject]}, min(since, REFERENCE - 1)
    person = _person(pools, HOLDER_ODDS, draft.year, draft.place, people)
    return {"person": pools.person_ids[person]}, draft.registered


def _split(pools: Pools, parts: int) -> list[int]:
    """``parts`` positive basis-point shares summing to at most 10,000 (often exactly)."""
    rng = pools.rng
    total = 10_000 if rng.random() < 0.8 else rng.randrange(5_000, 10_000)
    cuts = sorted(rng.sample(range(1, total), parts - 1))
    bounds = [0, *cuts, total]
    return [bounds[i + 1] - bounds[i] for i in range(parts)]


def _maybe_ended(pools: Pools, row: Row, since: int) -> Row:
    rng = pools.rng
    if rng.random() < ENDED_RELATION_RATE:
        until = since + rng.randrange(365, 3650)
        if until < REFERENCE:
            row["until"] = iso(until)
    return row


def _person(pools: Pools, odds: PersonOdds, year: int, place: Place, people: list[Row]) -> int:
    """A person for a role: often someone known (heavy tail), else a new adult."""
    rng = pools.rng
    draw = rng.random()
    if pools.person_ids and draw >= odds.new:
        if draw < odds.new + odds.busy and pools.busy_people:
            person = rng.choice(pools.busy_people)
        else:
            person = rng.randrange(len(pools.person_ids))
        adult = pools.person_born[person] <= year - ADULT_AGE
        if adult and pools.person_load[person] < PERSON_LOAD_CAP:
            pools.person_load[person] += 1
            pools.busy_people.append(person)
            return person
    return _new_person(pools, min(BIRTH_LAST_YEAR, year - ADULT_AGE), place, people)


def _new_person(pools: Pools, latest_year: int, place: Place, people: list[Row]) -> int:
    rng = pools.rng
    born = rng.randint(BIRTH_FIRST_YEAR, max(BIRTH_FIRST_YEAR, latest_year))
    male = rng.random() < MALE_RATE
    while True:
        birthday = rng.randrange(date(born, 1, 1).toordinal(), date(born + 1, 1, 1).toordinal())
        sequence = rng.randrange(500) * 2 + (1 if male else 0)
        birthplace = rng.choice(pools.birthplaces[born])
        number = resident_number(birthplace, iso(birthday).replace("-", ""), sequence)
        if number not in pools.id_numbers:
            break
    pools.id_numbers.add(number)
    person = len(pools.person_ids)
    pools.person_ids.append(number)
    pools.person_born.append(born)
    pools.person_load.append(1)
    pools.busy_people.append(person)
    row: Row = {"kind": "Person", "idNumber": number, "name": _person_name(pools, male)}
    phones = [new_phone(rng, place)] if rng.random() < PERSON_PHONE_RATE else []
    addresses = []
    if rng.random() < PERSON_ADDRESS_RATE:
        addresses.append(
            new_address(rng, place, f"{rng.randrange(1, 31)}栋{rng.randrange(1, 7)}单元")
        )
    with_contacts(row, phones, addresses, [])
    row["source"] = source_of(place.agency)
    people.append(row)
    return person


def _person_name(pools: Pools, male: bool) -> str:
    rng = pools.rng
    if rng.random() < MONGOLIAN_NAME_RATE:
        return rng.choice(MONGOLIAN_MALE if male else MONGOLIAN_FEMALE)
    given = MALE_GIVEN if male else FEMALE_GIVEN
    name = SURNAMES.pick(rng) + rng.choice(given)
    return name + rng.choice(given) if rng.random() < 0.7 else name
