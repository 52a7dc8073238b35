"""The complaint intake's checks, shared by GraphQL and the portal form: input and attachments
checked, filings and wrong tracking guesses counted per client in Redis, evidence stored, and the
filing written with it before the filer hears back.

A client is a token's subject or, without a token, its network address (the key the public
GraphQL rate uses), so the API and the portal share one count across every API process. Only a
complete, valid filing counts against ``complaint.per_address``; a refusal stores nothing.
"""

from __future__ import annotations

import time
from datetime import date
from typing import Any

from redis.exceptions import RedisError

from graph.db import Store
from graph.rights.complaints import (
    KINDS,
    UNKNOWN_SUBJECT,
    ComplaintError,
    Filing,
    Kind,
    Receipt,
    Tracked,
    file_complaint,
    reportable,
    tracked,
)
from hub import evidence
from hub.api.context import parse_code
from hub.errors import Code, HubError
from policies.access import AccessPolicy, read_scope
from policies.principal import Principal, public_principal
from policies.rights import RateLimit, RightsRules

FILED = "hub:complaints:filed:{client}:{window}"
GUESSES = "hub:complaints:guesses:{client}:{window}"
MAX_CONTACT = 200


def client_of(principal: Principal) -> str:
    return f"{principal.issuer}|{principal.subject}"


def _limited(limit: RateLimit, window: int, now: float, what: str) -> HubError:
    retry = int((window + 1) * limit.seconds - now) + 1
    return HubError(
        Code.LIMIT_EXCEEDED,
        f"{what}: at most {limit.count} per {limit.seconds} s; retry in {retry} s",
        retryAfter=retry,
    )


async def _counted(redis: Any, key: str, seconds: int) -> int:
    """Add one to a window's count in Redis; UNAVAILABLE when Redis does not answer, since
    letting filings through uncounted would open the intake to a flood."""
    try:
        async with redis.pipeline(transaction=True) as pipe:
            pipe.incr(key)
            pipe.expire(key, seconds * 2)
            spent, _ = await pipe.execute()
    except RedisError:
        raise HubError(Code.UNAVAILABLE, "the rate-limit store is unavailable; retry") from None
    return int(spent)


async def admit(redis: Any, principal: Principal, limit: RateLimit, now: float) -> None:
    """Count one filing for the caller's client; LIMIT_EXCEEDED past the window's count."""
    window = int(now // limit.seconds)
    key = FILED.format(client=client_of(principal), window=window)
    if await _counted(redis, key, limit.seconds) > limit.count:
        raise _limited(limit, window, now, "complaints filed from one address")


def checked(
    kind: str,
    text: str,
    credit_code: str | None,
    about_unit: str | None,
    contact: str | None,
    rules: RightsRules,
) -> Filing:
    """The filing, or BAD_USER_INPUT / INVALID_CREDIT_CODE saying what is wrong."""
    if kind not in KINDS:
        raise HubError(Code.BAD_USER_INPUT, "kind is COMPLAINT (about a unit) or REPORT")
    problem = rules.complaint_text.check(text)
    if problem is not None:
        raise HubError(Code.BAD_USER_INPUT, f"text: {problem}")
    contact = (contact or "").strip() or None
    if contact is not None and len(contact) > MAX_CONTACT:
        raise HubError(Code.BAD_USER_INPUT, f"contact: at most {MAX_CONTACT} characters")
    chosen: Kind = "REPORT" if kind == "REPORT" else "COMPLAINT"
    if chosen == "REPORT":
        if not credit_code or about_unit:
            raise HubError(Code.BAD_USER_INPUT, "a report names the subject's creditCode only")
        return Filing(chosen, text, credit_code=parse_code(credit_code), contact=contact)
    if not about_unit or credit_code:
        raise HubError(Code.BAD_USER_INPUT, "a complaint names the unit (aboutUnit) only")
    return Filing(chosen, text, about_unit=about_unit.strip(), contact=contact)


async def file(
    graph: Store,
    redis: Any,
    principal: Principal,
    filing: Filing,
    files: list[tuple[str, bytes]],
    *,
    rules: RightsRules,
    policy: AccessPolicy,
    today: date,
) -> Receipt:
    """Check the attachments, count the filing, store the files, then write the filing and its
    evidence in one transaction; the receipt goes out only once that has committed. A report
    may name only a subject the public sees, whoever files it, so the answer for a non-public
    subject is the one for an unknown code."""
    scope = read_scope(public_principal("intake"), policy).params()
    refusal = rules.attachments.refusal(files)
    if refusal is not None:
        raise HubError(Code.BAD_USER_INPUT, refusal, reason="attachments")
    if filing.credit_code is not None and not await reportable(graph, filing.credit_code, scope):
        raise _refused(ComplaintError("unknown-subject", UNKNOWN_SUBJECT))
    await admit(redis, principal, rules.complaint_per_address, time.time())
    try:
        stored = await evidence.store(files, rules.attachments)
        return await file_complaint(graph, rules, filing, stored, scope=scope, today=today)
    except evidence.EvidenceRefused as exc:
        raise HubError(Code.BAD_USER_INPUT, str(exc), reason="attachments") from None
    except ComplaintError as exc:
        raise _refused(exc) from None


def _refused(exc: ComplaintError) -> HubError:
    if exc.reason == "unknown-subject":
        return HubError(Code.INVALID_CREDIT_CODE, str(exc), reason="unknown")
    return HubError(Code.BAD_USER_INPUT, str(exc), reason=exc.reason)


async def follow(
    graph: Store, redis: Any, principal: Principal, tracking: str, code: str, limit: RateLimit
) -> Tracked | None:
    """The filing for its tracking number and query code, or None; each miss counts against
    ``complaint.guesses``, and past it no lookup is made until the window ends."""
    now = time.time()
    window = int(now // limit.seconds)
    key = GUESSES.format(client=client_of(principal), window=window)
    try:
        guessed = int(await redis.get(key) or 0)
    except RedisError:
        raise HubError(Code.UNAVAILABLE, "the rate-limit store is unavailable; retry") from None
    if guessed >= limit.count:
        raise _limited(limit, window, now, "wrong tracking numbers or query codes")
    found = await tracked(graph, tracking, code)
    if found is None:
        await _counted(redis, key, limit.seconds)
    return found
