"""Generated projects and who takes part: bidders, a contractor, sometimes a supervisor."""

from __future__ import annotations

from collections.abc import Iterator

from demo.odds import PROJECTS_FIRST, REFERENCE, SUPERVISOR_RATE, iso
from demo.pools import Pools, Project
from demo.rows import Row, relation_row, source_of
from demo.tables import BIDDER_DRAWS, BIDDERS, PROJECT_KINDS


def new_project(pools: Pools) -> Row:
    rng = pools.rng
    place = pools.places.pick(rng)
    kind = PROJECT_KINDS.pick(rng)
    started = rng.randrange(PROJECTS_FIRST, REFERENCE)
    pools.project_no += 1
    project = Project(f"P-{pools.project_no:08d}", place.league.code, started, place.agency)
    pools.projects.append(project)
    year = iso(started)[:4]
    return {
        "kind": "Project",
        "id": project.id,
        "name": f"{place.banner.name}{year}年{rng.choice(kind.labels)}项目",
        "projectKind": kind.code,
        "division": place.banner.code,
        "startedOn": iso(started),
        "disclosure": "PUBLIC",
        "source": source_of(place.agency),
    }


def participation(pools: Pools, project: Project) -> Iterator[Row]:
    """3-8 bidders of the league registered before the bid, a contractor, maybe a supervisor."""
    rng = pools.rng
    bid = project.started - rng.randrange(15, 60)
    chosen = _bidders(pools, project.league, bid, rng.randint(*BIDDERS))
    target = {"project": project.id}
    for candidate in chosen:
        row = relation_row("PARTICIPATES_IN", {"subject": pools.codes[candidate]}, target,
                        iso(bid), project.agency)  # fmt: skip
        yield {**row, "role": "BIDDER"}
    if not chosen:
        return
    awarded = iso(min(bid + rng.randrange(15, 45), REFERENCE - 1))
    contractor = {"subject": pools.codes[rng.choice(chosen)]}
    row = relation_row("PARTICIPATES_IN", contractor, target, awarded, project.agency)
    yield {**row, "role": "CONTRACTOR"}
    supervisor = rng.choice(pools.companies)
    fresh = supervisor not in chosen and pools.registered[supervisor] < bid
    if rng.random() < SUPERVISOR_RATE and fresh:
        row = relation_row("PARTICIPATES_IN", {"subject": pools.codes[supervisor]}, target,
                        awarded, project.agency)  # fmt: skip
        yield {**row, "role": "SUPERVISOR"}


def _bidders(pools: Pools, league: str, bid: int, wanted: int) -> list[int]:
    """Up to ``wanted`` active companies registered before the bid, local ones first."""
    rng = pools.rng
    chosen: list[int] = []
    for pool in (pools.bidders.get(league, []), pools.companies):
        draws = wanted * BIDDER_DRAWS if pool else 0
        for _ in range(draws):
            candidate = rng.choice(pool)
            if pools.registered[candidate] < bid and candidate not in chosen:
                chosen.append(candidate)
                if len(chosen) == wanted:
                    return chosen
    return chosen
