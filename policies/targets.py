"""Where the hub may send a webhook: the rule against aiming it at its own network (SSRF).

A partner chooses its endpoint, and the hub's workers post to it from inside the department's
network. So, where the rule applies (production, or ``public_only``), an endpoint's host must
be a public address: loopback, private, link-local, shared (CGNAT), multicast, reserved,
unspecified and cloud-metadata addresses are refused, whether written as a literal, hidden in
an IPv6 form (IPv4-mapped, 6to4, NAT64) or in a legacy number form (``2130706433``,
``0x7f.1``). Names are checked again on every resolution (connectors/targets.py), since a
name can change its answer after registration. An operator may allow a host by name or
address (``HUB_WEBHOOK_ALLOWED_HOSTS``).

Python's ``ipaddress`` decides what is global; this module adds what it lacks: multicast and
embedded IPv4 addresses, which it may call global.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv6Address, ip_address, ip_network

IPAddress = IPv4Address | IPv6Address

# Named only so a refusal can say what was aimed at; ipaddress refuses them all already.
METADATA = frozenset(
    ip_address(a)
    for a in (
        "169.254.169.254",  # AWS, GCP, Azure, OpenStack
        "fd00:ec2::254",  # AWS over IPv6
        "100.100.100.200",  # Alibaba Cloud
    )
)
NAT64 = ip_network("64:ff9b::/96")  # RFC 6052: the last 32 bits are an IPv4 address
NAT64_LOCAL = ip_network("64:ff9b:1::/48")  # RFC 8215: local-use translation, never public

_NUMBER = re.compile(r"^(?:0[xX][0-9a-fA-F]*|[0-9]+)$")


class TargetError(ValueError):
    """An endpoint host the rule refuses; the message says which address and why."""


@dataclass(frozen=True, slots=True)
class TargetRule:
    """Which webhook targets are allowed: with ``public_only``, public addresses only, except
    the hosts an operator allowed (lower-case names and canonical addresses); with
    ``https_only``, plain HTTP only to loopback, where nothing crosses a network."""

    public_only: bool
    https_only: bool
    allowed_hosts: frozenset[str] = frozenset()

    def allows(self, host: str) -> bool:
        """Is ``host`` exempt from the address rule, because it is off or the host allowed?"""
        return not self.public_only or _canonical(host) in self.allowed_hosts


def target_rule(env: str, public_only: bool, allowed_hosts: str) -> TargetRule:
    """The rule from settings: production is always public-only and https-only; elsewhere
    ``public_only`` turns the address rule on (staging, tests). ``allowed_hosts`` is a
    comma-separated list of names and addresses."""
    production = env == "production"
    hosts = frozenset(_canonical(h) for h in allowed_hosts.split(",") if h.strip())
    return TargetRule(production or public_only, production, hosts)


def _canonical(host: str) -> str:
    host = host.strip().strip("[]").rstrip(".").lower()
    try:
        return str(ip_address(host))
    except ValueError:
        return host


def address_refusal(address: IPAddress) -> str | None:
    """Why ``address`` is no place for a webhook, or None when it is a public address."""
    if isinstance(address, IPv6Address):
        embedded = address.ipv4_mapped or address.sixtofour
        if embedded is None and address in NAT64:
            embedded = IPv4Address(int(address) & 0xFFFFFFFF)
        if embedded is not None:
            inner = address_refusal(embedded)
            return f"{inner} ({embedded} inside IPv6)" if inner else None
        if address in NAT64_LOCAL:
            return "a local-use NAT64 address"
    if address in METADATA:
        return "a cloud metadata address"
    for kind, flag in (
        ("an unspecified", address.is_unspecified),
        ("a loopback", address.is_loopback),
        ("a link-local", address.is_link_local),
        ("a multicast", address.is_multicast),
        ("a private", address.is_private),
        ("a reserved", address.is_reserved),
    ):
        if flag:
            return f"{kind} address"
    return None if address.is_global else "not a public address"


def _legacy_ipv4(host: str) -> IPv4Address | None:
    """The address a host in IPv4 number form means (``2130706433``, ``0x7f.1``, ``0177.0.0.1``:
    what inet_aton and URL parsers read), None for a name; TargetError when malformed."""
    labels = host.rstrip(".").split(".")
    if not _NUMBER.match(labels[-1]):
        return None  # a name: top-level domains are never numbers
    numbers = []
    for label in labels:
        if not _NUMBER.match(label) or len(labels) > 4:
            raise TargetError(f"{host} is neither a name nor an IPv4 address")
        if label[:2].lower() == "0x":
            numbers.append(int(label[2:] or "0", 16))
        elif len(label) > 1 and label.startswith("0"):
            if not set(label) <= set("01234567"):
                raise TargetError(f"{host} is neither a name nor an IPv4 address")
            numbers.append(int(label, 8))
        else:
            numbers.append(int(label))
    *head, tail = numbers
    if any(n > 255 for n in head) or tail >= 256 ** (5 - len(numbers)):
        raise TargetError(f"{host} is out of the IPv4 range")
    return IPv4Address(sum(n << 8 * (3 - i) for i, n in enumerate(head)) + tail)


def host_address(host: str) -> IPAddress | None:
    """The address a URL host is written as, in any form; None when it is a name."""
    bare = host.strip("[]")
    try:
        return ip_address(bare)
    except ValueError:
        pass
    return _legacy_ipv4(bare) if ":" not in bare else None


def check_host(host: str, rule: TargetRule) -> None:
    """Refuse a URL host the rule forbids, before anything is resolved or sent (TargetError)."""
    if rule.allows(host):
        return
    name = host.rstrip(".").lower()
    if name == "localhost" or name.endswith(".localhost"):
        raise TargetError(f"{host} is a loopback name")  # RFC 6761: always the machine itself
    address = host_address(host)
    if address is None:
        return  # a name: its answers are checked when it is resolved, on every delivery
    if reason := address_refusal(address):
        shown = host if str(address) == host.strip("[]") else f"{host} ({address})"
        raise TargetError(f"{shown} is {reason}")
    if isinstance(address, IPv4Address) and str(address) != host:
        raise TargetError(f"write {host} as {address}")  # one spelling for one address
