"""A generated subject: decided, written with its contacts and lineage, then remembered.

Decided first (kind, place, trade, code, name, branch or successor) so that no row is written
before the subject's facts are known; remembered so that later subjects can refer to it.
"""

from __future__ import annotations

from demo.identifiers import organisation_code
from demo.odds import (
    ABNORMAL_RATE,
    BRANCH_RATE,
    EMAIL_RATE,
    MA_ERA,
    RECENT_CONTACTS,
    REGISTRATION_FIRST,
    REGISTRATION_LAST,
    SECOND_PHONE_RATE,
    SERIOUS_RATE,
    SHARED_CONTACT_RATE,
    SUCCESSOR_RATE,
    iso,
)
from demo.places import Place, new_address, new_phone
from demo.planted import PLANTED
from demo.pools import Draft, Pools
from demo.rows import Row, relation_row, source_of, with_contacts
from demo.tables import (
    COMPANY_FORMS,
    EMAIL_DOMAINS,
    EMAIL_HANDLES,
    INSTITUTIONS,
    KINDS,
    MARKET_PLACE_RATE,
    MINING_INDUSTRIES,
    OTHER_ORGS,
    PUBLIC_BODY,
    SHOP_TRADES,
    STATUSES,
    TRADE_CHARS,
    VILLAGES,
    Industry,
    Kind,
)
from graph.identifiers import USCC_ALPHABET, uscc_check_char


def new_draft(pools: Pools, serial: int) -> Draft:
    """Decide who the subject is before writing anything about it."""
    rng = pools.rng
    place = pools.hub_place if serial in pools.hub_addressed else pools.places.pick(rng)
    kind = KINDS.pick(rng)
    company = kind.kind == "COMPANY"
    market = company or kind.kind == "INDIVIDUAL_BUSINESS"
    serious = market and rng.random() < SERIOUS_RATE
    abnormal = company and not serious and rng.random() < ABNORMAL_RATE
    industry = _industry(pools, kind, place, abnormal)
    branch_of = _branch_parent(pools) if company else None
    succeeds = _predecessor(pools) if rng.random() < SUCCESSOR_RATE else None
    earlier = [pools.registered[pools.companies[branch_of]]] if branch_of is not None else []
    if succeeds is not None:
        earlier.append(pools.registered[succeeds])
    registered = _registration(pools, max(earlier, default=REGISTRATION_FIRST - 30))
    code, body = _credit_code(pools, kind.prefix, place.banner.code, registered, market)
    if branch_of is None:
        name = _name(pools, kind, place, industry)
    else:
        name = f"{pools.company_names[branch_of]}{place.banner.name}分公司"
    status = STATUSES.pick(rng)
    since = iso(registered)
    return Draft(
        serial, kind, place, industry, registered, since, int(since[:4]), code, body, name,
        status, branch_of, succeeds, serious, abnormal,
    )  # fmt: skip


def _industry(pools: Pools, kind: Kind, place: Place, abnormal: bool) -> Industry:
    """The trade: mining for abnormal filers, the league's mix for companies."""
    if abnormal:
        return pools.rng.choice(MINING_INDUSTRIES)
    if kind.kind == "COMPANY":
        return place.industries.pick(pools.rng)
    if kind.kind == "INDIVIDUAL_BUSINESS":
        return pools.rng.choice(SHOP_TRADES)
    return PUBLIC_BODY


def lineage(pools: Pools, draft: Draft) -> list[Row]:
    """BRANCH_OF its head office and SUCCEEDED_BY from its predecessor, when it has them."""
    rows = []
    me = {"subject": draft.code}
    agency = draft.place.agency
    if draft.branch_of is not None:
        head = {"subject": pools.codes[pools.companies[draft.branch_of]]}
        rows.append(relation_row("BRANCH_OF", me, head, draft.since, agency))
    if draft.succeeds is not None:
        previous = {"subject": pools.codes[draft.succeeds]}
        rows.append(relation_row("SUCCEEDED_BY", previous, me, draft.since, agency))
    return rows


def remember(pools: Pools, draft: Draft, subject: Row) -> None:
    """Add the subject to the pools later subjects and projects draw from."""
    position = len(pools.codes)
    pools.codes.append(draft.code)
    pools.registered.append(draft.registered)
    if draft.status == "CANCELLED":
        pools.cancelled.append(position)
    if draft.kind.kind == "COMPANY" and draft.status == "ACTIVE" and draft.branch_of is None:
        pools.companies.append(position)
        pools.company_names.append(draft.name)
        pools.bidders.setdefault(draft.place.league.code, []).append(position)
    serial = draft.serial
    if serial not in pools.hub_addressed and serial not in pools.hub_phoned:
        contact = (subject["phones"][0], subject["addresses"][0])
        if len(pools.recent) < RECENT_CONTACTS:
            pools.recent.append(contact)
        else:
            pools.recent[serial % RECENT_CONTACTS] = contact


def _registration(pools: Pools, after: int) -> int:
    """Registration day a month or more after ``after``; recent days likelier."""
    low = min(after + 30, REGISTRATION_LAST)
    return int(pools.rng.triangular(low, REGISTRATION_LAST, REGISTRATION_LAST))


def _branch_parent(pools: Pools) -> int | None:
    """For ~1% of companies, the position in ``companies`` of their head office."""
    if not pools.companies or pools.rng.random() >= BRANCH_RATE:
        return None
    return pools.rng.randrange(len(pools.companies))


def _predecessor(pools: Pools) -> int | None:
    """A cancelled subject that this one succeeds."""
    return pools.rng.choice(pools.cancelled) if pools.cancelled else None


def _credit_code(
    pools: Pools, prefix: str, division: str, registered: int, market: bool
) -> tuple[str, str]:
    """A fresh credit code and its organisation body (unique organisation code)."""
    rng = pools.rng
    while True:
        if market and registered >= MA_ERA:
            body = "MA" + "".join(rng.choices(USCC_ALPHABET, k=6))
        else:
            body = f"{rng.randrange(100_000_000):08d}"
        org = organisation_code(body)
        if org not in pools.org_codes:
            pools.org_codes.add(org)
            first17 = prefix + division + org
            return first17 + uscc_check_char(first17), body


def _name(pools: Pools, kind: Kind, place: Place, industry: Industry) -> str:
    rng = pools.rng
    if kind.kind == "INSTITUTION":
        return place.banner.name + rng.choice(INSTITUTIONS)
    if kind.kind == "RURAL_COLLECTIVE":
        unit = ("嘎查", "村") if kind.prefix == "N2" else ("苏木", "镇")
        return f"{place.banner.name}{rng.choice(VILLAGES)}{rng.choice(unit)}股份经济合作社"
    trade = rng.choice(TRADE_CHARS) + rng.choice(TRADE_CHARS)
    if kind.kind == "OTHER":
        return place.banner.name + trade + rng.choice(OTHER_ORGS)
    if kind.kind == "INDIVIDUAL_BUSINESS":
        return f"{place.banner.name}{trade}{industry.name}（个体工商户）"
    draw = rng.random()
    if draw < MARKET_PLACE_RATE:
        prefix = "内蒙古"
    elif draw < (1 + MARKET_PLACE_RATE) / 2:
        prefix = place.league.name
    else:
        prefix = place.banner.name
    return prefix + trade + industry.name + COMPANY_FORMS.pick(rng)


def subject_row(pools: Pools, draft: Draft) -> Row:
    rng = pools.rng
    place = draft.place
    phones, addresses = _phones_addresses(pools, draft.serial, place)
    emails = []
    if draft.kind.kind == "COMPANY" and rng.random() < EMAIL_RATE:
        handle = rng.choice(EMAIL_HANDLES)
        emails.append(f"{handle}{draft.body.lower()}@{rng.choice(EMAIL_DOMAINS)}")
    row = {
        "kind": "Subject",
        "creditCode": draft.code,
        "name": draft.name,
        "subjectKind": draft.kind.kind,
        "division": place.banner.code,
        "status": draft.status,
        "registeredOn": draft.since,
        "disclosure": "PUBLIC",
        "source": source_of(place.agency),
    }
    return with_contacts(row, phones, addresses, emails)


def _phones_addresses(pools: Pools, serial: int, place: Place) -> tuple[list[str], list[str]]:
    """Own contacts, a hub value for hub members, or one copied from a recent subject."""
    rng = pools.rng
    phones = [new_phone(rng, place)]
    if rng.random() < SECOND_PHONE_RATE:
        phones.append(new_phone(rng, place))
    addresses = [new_address(rng, place, f"{rng.randrange(1, 31)}号楼")]
    hub_phone, hub_address = serial in pools.hub_phoned, serial in pools.hub_addressed
    if hub_phone:
        phones = [PLANTED.hub_phone]
    if hub_address:
        addresses = [PLANTED.hub_address]
    if hub_phone or hub_address or not pools.recent or rng.random() >= SHARED_CONTACT_RATE:
        return phones, addresses
    phone, address = rng.choice(pools.recent)
    if rng.random() < 0.5:
        return [phone], addresses
    return phones, [address]
