"""Where generated subjects are: banners weighted by economy, their trades, phones, addresses."""

from __future__ import annotations

import random
from typing import NamedTuple

from demo.odds import LANDLINE_RATE, Weighted
from demo.tables import (
    AREA_CODES,
    INDUSTRY_BOOST,
    INDUSTRY_WEIGHTS,
    LANDLINE_HIGH,
    LANDLINE_LOW,
    LEAGUE_WEIGHT,
    MINING_INDUSTRIES,
    MOBILE_PREFIXES,
    OTHER_INDUSTRIES,
    STREETS,
    URBAN_WEIGHT,
    Industry,
)
from policies.divisions import Division, banners, leagues
from policies.units import agency_code


class Place(NamedTuple):
    banner: Division
    league: Division
    agency: str  # the banner's agency: registers the subject
    short: str  # banner short form for document numbers
    industries: Weighted[Industry]


def _industries(league: str) -> Weighted[Industry]:
    boost = INDUSTRY_BOOST.get(league, {})
    return Weighted(
        (industry, INDUSTRY_WEIGHTS[industry.name] * boost.get(industry.name, 1.0))
        for industry in MINING_INDUSTRIES + OTHER_INDUSTRIES
    )


def places() -> list[tuple[Place, float]]:
    """Every banner with its weight: big economies and urban districts hold more subjects."""
    league_by_code = {league.code: league for league in leagues()}
    places = []
    for banner in banners():
        league = league_by_code[banner.code[:4] + "00"]
        weight = LEAGUE_WEIGHT.get(league.code, 1.0)
        if banner.name.endswith("区"):
            weight *= URBAN_WEIGHT
        place = Place(
            banner=banner,
            league=league,
            agency=agency_code(banner.code),
            short=banner.name[:2],
            industries=_industries(league.code),
        )
        places.append((place, weight))
    return places


def new_phone(rng: random.Random, place: Place) -> str:
    if rng.random() < LANDLINE_RATE:
        area = AREA_CODES[place.league.code]
        return f"{area}-{rng.randrange(LANDLINE_LOW, LANDLINE_HIGH)}"
    return f"{rng.choice(MOBILE_PREFIXES)}{rng.randrange(100_000_000):08d}"


def new_address(rng: random.Random, place: Place, building: str) -> str:
    street = rng.choice(STREETS)
    room = rng.randrange(1, 30) * 100 + rng.randrange(1, 20)
    number = rng.randrange(1, 999)
    return f"{place.league.name}{place.banner.name}{street}{number}号{building}{room}室"
