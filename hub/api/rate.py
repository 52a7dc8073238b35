"""The per-client rate in cost units: each request's cost charged to its client's window in
Redis, shared by every API process, with the reads a request needs in the same round trip."""

from __future__ import annotations

import hashlib
from typing import Any

from redis.exceptions import NoScriptError

from hub.api.guards import Refusal
from hub.errors import Code
from policies.limits import Limits
from policies.principal import Principal

RATE_KEY = "hub:rate:{issuer}:{subject}:{window}"

# KEYS: the rate window, then each key to read; ARGV: units, the window's lifetime, then a kind
# and an argument per key read. One command, not a MULTI of several: each command costs the
# client more to pack and parse than Redis spends running it.
_SPEND = """
local out = {redis.call('INCRBY', KEYS[1], ARGV[1])}
redis.call('EXPIRE', KEYS[1], ARGV[2])
for i = 2, #KEYS do
  local kind, argument = ARGV[2 * i - 1], ARGV[2 * i]
  if kind == 'get' then out[i] = redis.call('GET', KEYS[i])
  elseif kind == 'hget' then out[i] = redis.call('HGET', KEYS[i], argument)
  else out[i] = redis.call('SMEMBERS', KEYS[i]) end
end
return out
"""
_SPEND_SHA = hashlib.sha1(_SPEND.encode()).hexdigest()


async def spend(
    redis: Any,
    principal: Principal,
    units: int,
    limits: Limits,
    now: float,
    *,
    also_get: str | None = None,
    also_field: tuple[str, str] | None = None,
    also_members: str | None = None,
) -> list[Any]:
    """Charge a request's cost to its client's window in Redis (shared by every API process);
    refuse once the window's units are spent, saying when the next window opens. ``also_get``
    (the cache generation), ``also_field`` (a hash and field: a kept answer) and
    ``also_members`` (a set: the caller's bookmarks) are read in the same round trip, atomically
    with the charge; their values are returned, in that order."""
    window = int(now // limits.rate_window)
    key = RATE_KEY.format(issuer=principal.issuer, subject=principal.subject, window=window)
    keys, args = [key], [str(units), str(limits.rate_window * 2)]
    if also_get is not None:
        keys.append(also_get)
        args += ["get", ""]
    if also_field is not None:
        keys.append(also_field[0])
        args += ["hget", also_field[1]]
    if also_members is not None:
        keys.append(also_members)
        args += ["smembers", ""]
    try:
        answer = await redis.evalsha(_SPEND_SHA, len(keys), *keys, *args)
    except NoScriptError:  # a Redis that has not seen it yet, or restarted since
        answer = await redis.eval(_SPEND, len(keys), *keys, *args)
    spent, *read = answer
    if also_members is not None:
        read[-1] = set(read[-1])
    allowed = limits.rate_limit(principal)
    if int(spent) > allowed:
        retry = int((window + 1) * limits.rate_window - now) + 1
        raise Refusal(
            Code.LIMIT_EXCEEDED,
            f"rate limit: {allowed} cost units per {limits.rate_window} s; retry in {retry} s",
            retryAfter=retry,
        )
    return list(read)
