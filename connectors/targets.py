"""The address a webhook is sent to is the address that was checked.

A partner's endpoint was checked when it was registered, but a name can answer differently
later (DNS rebinding). So the workers' HTTP client resolves through ``CheckedResolver``: every
address of every answer is checked against the rule (policies/targets.py) and aiohttp connects
only to the addresses this resolver returned, so nothing is resolved twice. Hosts written as
addresses never reach a resolver; ``refusal`` checks them before a post.
"""

from __future__ import annotations

import socket
from ipaddress import ip_address
from urllib.parse import urlsplit

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult

from policies.targets import TargetError, TargetRule, address_refusal, check_host


class TargetRefused(OSError):
    """A host resolved to an address the rule forbids; raised before any connection."""


def refusal(url: str, rule: TargetRule) -> str | None:
    """Why the hub must not post to ``url`` as written, or None (names: see the resolver)."""
    host = urlsplit(url).hostname
    if not host:
        return "endpoint has no host"
    try:
        check_host(host, rule)
    except TargetError as exc:
        return f"endpoint refused: {exc}"
    return None


class CheckedResolver(AbstractResolver):
    """Resolves with ``inner`` (the system's resolver by default) and refuses the whole answer
    when one address in it is not public, unless the rule allows the host."""

    def __init__(self, rule: TargetRule, inner: AbstractResolver | None = None) -> None:
        self._rule = rule
        self._inner = inner or aiohttp.DefaultResolver()

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        answers = await self._inner.resolve(host, port, family)
        if self._rule.allows(host):
            return answers
        for answer in answers:
            reason = address_refusal(ip_address(answer["host"]))
            if reason:
                raise TargetRefused(
                    f"endpoint resolves to a non-public address: {host} is {answer['host']}, "
                    f"{reason}"
                )
        return answers

    async def close(self) -> None:
        await self._inner.close()


def refused(exc: aiohttp.ClientError) -> TargetRefused | None:
    """The refusal behind a client error, when the resolver refused the target."""
    cause = exc.os_error if isinstance(exc, aiohttp.ClientConnectorError) else None
    return cause if isinstance(cause, TargetRefused) else None
