"""The state of one generation run: its random source, numbering and pools of what exists.

Later rows draw from the pools (subjects, companies, people, projects) and refer to them.
"""

from __future__ import annotations

import random
from typing import NamedTuple

from demo.identifiers import birthplaces
from demo.odds import Weighted
from demo.places import Place, places
from demo.planted import PLANTED, hub_size
from demo.tables import Industry, Kind


class Project(NamedTuple):
    id: str
    league: str
    started: int
    agency: str


class Draft(NamedTuple):
    """What is decided about a subject before any of its rows is written."""

    serial: int  # 0-based among the random subjects
    kind: Kind
    place: Place
    industry: Industry
    registered: int  # day ordinal
    since: str  # registration day as ISO text
    year: int  # registration year
    code: str
    body: str  # organisation-code body: unique, so e-mail handles built on it are too
    name: str
    status: str
    branch_of: int | None  # position in the company pool of the head office
    succeeds: int | None  # subject position of the cancelled predecessor
    serious: bool
    abnormal: bool


class Pools:
    """One run's random source, row numbers and pools; every generating function takes it first."""

    def __init__(self, subjects: int, seed: int) -> None:
        self.rng = random.Random(seed)
        self.planted = subjects >= PLANTED.min_subjects
        self.count = subjects - len(PLANTED.subjects) if self.planted else subjects
        weighted_places = places()
        self.places = Weighted(weighted_places)
        self.hub_place = next(p for p, _w in weighted_places if p.banner.name == "赛罕区")
        self.birthplaces = birthplaces()
        sample = self.rng.sample
        self.hub_addressed = set(sample(range(self.count), min(hub_size(subjects), self.count)))
        self.hub_phoned = set(sample(range(self.count), min(hub_size(subjects), self.count)))
        first = 1 if self.planted else 0  # planted rows take the first number of each kind
        self.project_no = self.record_no = self.sanction_no = first
        self.licence_no = 0
        self.projects: list[Project] = []
        # Subjects, by position in generation order.
        self.codes: list[str] = []
        self.registered: list[int] = []
        self.org_codes: set[str] = {code[8:17] for code in PLANTED.subjects}
        self.companies: list[int] = []  # active companies: holders and bidders
        self.company_names: list[str] = []  # parallel to companies: branches take the name
        self.busy_companies: list[int] = []  # positions in companies, once per holding taken
        self.bidders: dict[str, list[int]] = {}  # league → active companies
        self.cancelled: list[int] = []
        self.recent: list[tuple[str, str]] = []  # own phone and address of recent subjects
        # People.
        self.person_ids: list[str] = []
        self.person_born: list[int] = []  # birth year
        self.person_load: list[int] = []  # roles held
        self.busy_people: list[int] = []  # one entry per role taken: rich get richer
        self.id_numbers: set[str] = set(PLANTED.persons)
