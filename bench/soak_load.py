"""The soak's clients: what each request got, and the callers that send a mixed, moderate load
to both API processes while the faults happen.

A request goes to the API processes in turn, as a load balancer would send it. A refused
connection (the process is gone: nothing was sent) is counted apart, as ``refused``, and the
request goes to the other process; a connection lost after sending (the process died with the
request in hand) is an error ``transport:<exception>`` whose outcome is unknown, so a write
that got one is not retried. An answer is an error by its GraphQL ``extensions.code`` (an
outage is HTTP 503 ``UNAVAILABLE`` with ``Retry-After``), else by its HTTP status.
"""

from __future__ import annotations

import asyncio
import csv
import io
import itertools
import random
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import httpx

LOOKUP = """query($c: String!) { subject(creditCode: $c) { creditCode name status
  rating { grade score } records { id item tier } sanctions { listing status } } }"""
SEARCH = "query($t: String!) { search(text: $t, first: 10) { kind key name score } }"
SUBJECTS = """query($d: String!) { subjects(filter: {division: $d}, first: 20) {
  edges { node { creditCode name grade } } pageInfo { hasNextPage endCursor } } }"""
SUBMIT = "mutation($r: RecordInput!) { submitRecord(record: $r) { id outcome status } }"
APPROVE = "mutation($id: String!) { approveRecord(id: $id) { id status approvals } }"
LIST = """mutation($c: String!, $why: String!, $doc: String!) {
  listAbnormal(creditCode: $c, reason: $why, document: $doc) { sanctionId status } }"""
REMOVE = """mutation($c: String!, $why: String!) {
  removeAbnormal(creditCode: $c, reason: $why) { sanctionId status } }"""
FEED = """query($after: String) { sanctionFeed(after: $after, first: 50) {
  entries { version op eventId sanctionId listing } endCursor hasNextPage } }"""
IMPORT = """query($id: String!) { archiveImport(id: $id) {
  status read created updated unchanged rejected } }"""
HEADER = ["事项代码", "统一社会信用代码", "严重程度", "标题", "决定日期", "决定文书号", "法律依据"]


@dataclass(frozen=True, slots=True)
class Failure:
    at: float  # seconds since the load began
    kind: str
    code: str
    http: int | None
    api: str
    retry_after: bool
    message: str


@dataclass
class Ledger:
    """Everything the clients saw, kept for the report."""

    began: float = field(default_factory=time.monotonic)  # after the warm-up: it counts from here
    served: Counter[str] = field(default_factory=Counter)
    latency: defaultdict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    failures: list[Failure] = field(default_factory=list)
    refused: list[tuple[float, str, str]] = field(default_factory=list)  # at, api, kind
    approved: set[str] = field(default_factory=set)  # records an approval answered PUBLISHED
    listed: dict[str, str] = field(default_factory=dict)  # sanction id -> subject, confirmed
    ended: set[str] = field(default_factory=set)  # sanctions a removal confirmed
    unknown: Counter[str] = field(default_factory=Counter)  # writes whose answer was lost
    imports: dict[str, int] = field(default_factory=dict)  # import id -> rows sent
    reports: dict[str, dict[str, Any]] = field(default_factory=dict)  # import id -> its end
    feeds: defaultdict[str, list[dict[str, Any]]] = field(default_factory=lambda: defaultdict(list))

    def now(self) -> float:
        return time.monotonic() - self.began


class Hub:
    """The two API processes, asked in turn."""

    def __init__(self, apis: list[str], ledger: Ledger) -> None:
        self.apis = apis
        self.clients = [httpx.AsyncClient(base_url=a, timeout=30) for a in apis]
        self.turn = itertools.count()
        self.ledger = ledger

    async def close(self) -> None:
        for client in self.clients:
            await client.aclose()

    async def _send(self, kind: str, call: Callable[[httpx.AsyncClient], Any]) -> Any:
        """The answer's body, or the recorded Failure."""
        first = next(self.turn) % len(self.clients)
        started = time.perf_counter()
        order = [first, *(i for i in range(len(self.clients)) if i != first)]
        for n in order:
            try:
                response: httpx.Response = await call(self.clients[n])
            except httpx.ConnectError:
                self.ledger.refused.append((self.ledger.now(), self.apis[n], kind))
                continue
            except httpx.TransportError as exc:
                return self._fail(kind, f"transport:{type(exc).__name__}", None, n, False, str(exc))
            return self._judge(kind, response, n, started)
        return self._fail(kind, "refused-by-every-api", None, first, False, "no API answered")

    def _judge(self, kind: str, response: httpx.Response, n: int, started: float) -> Any:
        try:
            body = response.json()
        except ValueError:
            body = None
        errors = body.get("errors") if isinstance(body, dict) else None
        if response.status_code in (200, 202) and not errors:
            if self.ledger.now() >= 0:  # not in the warm-up
                self.ledger.served[kind] += 1
                self.ledger.latency[kind].append(time.perf_counter() - started)
            return body
        code = f"HTTP {response.status_code}"
        message = response.text[:200]
        if errors:
            code = str(errors[0].get("extensions", {}).get("code", code))
            message = str(errors[0].get("message", ""))[:200]
        elif isinstance(body, dict) and "code" in body:
            code = str(body["code"])
        retry = "retry-after" in response.headers
        return self._fail(kind, code, response.status_code, n, retry, message)

    def _fail(
        self, kind: str, code: str, http: int | None, n: int, retry: bool, why: str
    ) -> Failure:
        failure = Failure(self.ledger.now(), kind, code, http, self.apis[n], retry, why)
        self.ledger.failures.append(failure)
        return failure

    async def graphql(
        self, kind: str, token: str, query: str, variables: dict[str, Any]
    ) -> dict[str, Any] | Failure:
        """The answer's ``data``, or the Failure."""
        payload = {"query": query, "variables": variables}
        headers = {"Authorization": f"Bearer {token}"}
        body = await self._send(kind, lambda c: c.post("/graphql", json=payload, headers=headers))
        return body if isinstance(body, Failure) else body["data"]  # type: ignore[no-any-return]

    async def upload(self, token: str, name: str, content: bytes) -> dict[str, Any] | Failure:
        files = {"file": (name, content, "text/csv")}
        headers = {"Authorization": f"Bearer {token}"}
        body = await self._send(
            "upload", lambda c: c.post("/archives", files=files, headers=headers)
        )
        return body  # type: ignore[no-any-return]


@dataclass(frozen=True, slots=True)
class Tokens:
    partner: str  # a bank's, for lookups and division lists
    investigator: str
    submitter: str
    reviewers: tuple[str, str]  # two people: serious records need both
    feeds: dict[str, str]  # polling partner code -> its token


@dataclass(frozen=True, slots=True)
class Pools:
    """What the callers draw from, read from the seeded graph."""

    lookups: list[str]
    words: list[str]
    divisions: list[str]
    submit_to: list[str]
    abnormal: list[str]  # subjects on no abnormal list, each listed at most once by the soak
    holder: str  # a subject the uploads' licences are about


def serious_every(n: int) -> bool:
    return n % 5 == 4  # one submission in five needs two reviewers


async def every(stop: float, seconds: float, step: Callable[[int], Any]) -> None:
    """Run ``step(n)`` every ``seconds`` (not faster, later when a step takes longer)."""
    for n in itertools.count():
        if time.monotonic() >= stop:
            return
        began = time.monotonic()
        await step(n)
        await asyncio.sleep(max(0.0, seconds - (time.monotonic() - began)))


class Load:
    """The callers, each a loop at its own pace, until ``stop`` (monotonic seconds)."""

    def __init__(self, hub: Hub, tokens: Tokens, pools: Pools, stop: float, seed: int) -> None:
        self.hub, self.tokens, self.pools, self.stop = hub, tokens, pools, stop
        self.ledger = hub.ledger
        self.rng = random.Random(seed)
        self.first: asyncio.Queue[tuple[str, bool]] = asyncio.Queue()  # (record, serious)
        self.second: asyncio.Queue[str] = asyncio.Queue()
        self.on_list: list[str] = []  # subjects the soak listed and has not removed yet
        self.cursors: dict[str, str | None] = dict.fromkeys(tokens.feeds)
        self.run_tag = f"{int(time.time()) % 100000:05d}"

    async def run(self) -> None:
        stop = self.stop
        await asyncio.gather(
            every(stop, 0.125, self.lookup),
            every(stop, 1.0, self.search),
            every(stop, 1.0, self.submit),
            every(stop, 0.5, self.approve_first),
            every(stop, 0.5, self.approve_second),
            every(stop, 20.0, self.upload),
            every(stop, 2.0, self.decide_listing),
            *(every(stop, 2.0, self._poller(code)) for code in self.tokens.feeds),
        )

    async def lookup(self, n: int) -> None:
        code = self.rng.choice(self.pools.lookups)
        await self.hub.graphql("lookup", self.tokens.partner, LOOKUP, {"c": code})

    async def search(self, n: int) -> None:
        if n % 2:
            word = self.rng.choice(self.pools.words)
            await self.hub.graphql("search", self.tokens.investigator, SEARCH, {"t": word})
        else:
            division = self.rng.choice(self.pools.divisions)
            await self.hub.graphql("search", self.tokens.partner, SUBJECTS, {"d": division})

    async def submit(self, n: int) -> None:
        serious = serious_every(n)
        decided = date.today() - timedelta(days=1 + n % 20)
        record = {
            "item": "ADMIN_PENALTY",
            "subject": self.pools.submit_to[n % len(self.pools.submit_to)],
            "tier": "SERIOUS" if serious else "GENERAL",
            "title": "违法占地",
            "decidedOn": decided.isoformat(),
            "document": f"内自然资罚〔{decided.year}〕SK{self.run_tag}{n:05d}号",
            "legalBasis": "土地管理法第七十七条",
        }
        while time.monotonic() < self.stop:
            data = await self.hub.graphql("submit", self.tokens.submitter, SUBMIT, {"r": record})
            if not isinstance(data, Failure):
                await self.first.put((data["submitRecord"]["id"], serious))
                return
            if not self._retry_write(data):
                return
            await asyncio.sleep(1.0)

    def _retry_write(self, failure: Failure) -> bool:
        """After a failed write: retry only when the hub answered that it did nothing
        (UNAVAILABLE); a lost answer leaves the outcome unknown, and the write is set aside."""
        if failure.code == "UNAVAILABLE":
            return True
        self.ledger.unknown[failure.kind] += 1
        return False

    async def _approve(self, record: str, reviewer: str) -> str | None:
        """The record's status after this reviewer's approval; None when the write was set
        aside (its outcome unknown) or the load ended first."""
        while time.monotonic() < self.stop:
            data = await self.hub.graphql("approve", reviewer, APPROVE, {"id": record})
            if not isinstance(data, Failure):
                return str(data["approveRecord"]["status"])
            if not self._retry_write(data):
                return None
            await asyncio.sleep(1.0)
        return None

    async def approve_first(self, n: int) -> None:
        while not self.first.empty() and time.monotonic() < self.stop:
            record, serious = self.first.get_nowait()
            status = await self._approve(record, self.tokens.reviewers[0])
            if status == "PUBLISHED":
                self.ledger.approved.add(record)
            elif status == "PENDING" and serious:
                await self.second.put(record)

    async def approve_second(self, n: int) -> None:
        while not self.second.empty() and time.monotonic() < self.stop:
            record = self.second.get_nowait()
            if await self._approve(record, self.tokens.reviewers[1]) == "PUBLISHED":
                self.ledger.approved.add(record)

    async def upload(self, n: int) -> None:
        rows = 40
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(HEADER)
        for row in range(rows):
            document = f"兴自然资许〔2025〕SK{self.run_tag}{n:03d}{row:03d}号"
            writer.writerow(["ADMIN_LICENCE", self.pools.holder, "", "采矿许可延续", "2025-03-05",
                             document, "矿产资源法"])  # fmt: skip
        name = f"soak-{self.run_tag}-{n:03d}.csv"
        answer = await self.hub.upload(self.tokens.submitter, name, out.getvalue().encode())
        if not isinstance(answer, Failure):
            self.ledger.imports[str(answer["importId"])] = rows

    async def decide_listing(self, n: int) -> None:
        """List a fresh subject on the abnormal list, or take off the one listed longest ago:
        each subject is listed once, so no decision meets another's conflict."""
        reviewer = self.tokens.reviewers[n % 2]
        if len(self.on_list) >= 4 or (self.on_list and n % 2):
            code = self.on_list[0]
            args = {"c": code, "why": "已补报并公示年度信息"}
            data = await self.hub.graphql("listing", reviewer, REMOVE, args)
            if not isinstance(data, Failure):
                self.ledger.ended.add(data["removeAbnormal"]["sanctionId"])
                self.on_list.pop(0)
            elif not self._retry_write(data):
                self.on_list.pop(0)  # its state is unknown: leave it alone
            return
        if not self.pools.abnormal:
            return
        code = self.pools.abnormal.pop()
        args = {"c": code, "why": "未按期公示年度勘查开采信息", "doc": f"内自然资异〔2026〕{n}号"}
        data = await self.hub.graphql("listing", reviewer, LIST, args)
        if not isinstance(data, Failure):
            self.ledger.listed[data["listAbnormal"]["sanctionId"]] = code
            self.on_list.append(code)
        elif self._retry_write(data):
            self.pools.abnormal.append(code)  # nothing was done: list it another time

    def _poller(self, code: str) -> Callable[[int], Any]:
        async def poll(n: int) -> None:
            await self.poll_feed(code)

        return poll

    async def poll_feed(self, code: str) -> bool:
        """One page of the partner's feed from its cursor; whether more pages wait."""
        variables = {"after": self.cursors[code]}
        data = await self.hub.graphql("feed", self.tokens.feeds[code], FEED, variables)
        if isinstance(data, Failure):
            return True
        page = data["sanctionFeed"]
        self.ledger.feeds[code] += page["entries"]
        self.cursors[code] = page["endCursor"] or self.cursors[code]
        return bool(page["hasNextPage"])
