"""The webhook target rule on its own: which hosts are public, in every spelling."""

from __future__ import annotations

from ipaddress import ip_address

import pytest

from policies.targets import TargetError, TargetRule, address_refusal, check_host, target_rule

ON = TargetRule(public_only=True, https_only=True)


@pytest.mark.parametrize(
    ("host", "why"),
    [
        ("127.0.0.1", "loopback"),
        ("10.0.0.1", "private"),
        ("172.16.5.4", "private"),
        ("192.168.1.1", "private"),
        ("169.254.169.254", "metadata"),
        ("fd00:ec2::254", "metadata"),
        ("100.100.100.200", "metadata"),
        ("100.64.0.1", "not a public"),
        ("169.254.1.1", "link-local"),
        ("fe80::1", "link-local"),
        ("::1", "loopback"),
        ("::", "unspecified"),
        ("0.0.0.0", "unspecified"),
        ("224.0.0.1", "multicast"),
        ("ff0e::1", "multicast"),
        ("240.0.0.1", "private|reserved"),
        ("::ffff:127.0.0.1", "loopback"),
        ("::ffff:a9fe:a9fe", "metadata"),
        ("64:ff9b::a00:1", "private"),
        ("64:ff9b:1::1", "NAT64"),
        ("2002:7f00:1::", "loopback"),
        ("2130706433", "loopback"),
        ("0x7f000001", "loopback"),
        ("0x7f.1", "loopback"),
        ("0177.0.0.1", "loopback"),
        ("127.1", "loopback"),
        ("10.1", "private"),
        ("localhost", "loopback name"),
        ("api.localhost.", "loopback name"),
    ],
)
def test_non_public_hosts_are_refused_with_the_reason(host: str, why: str) -> None:
    with pytest.raises(TargetError, match=why):
        check_host(host, ON)


@pytest.mark.parametrize("host", ["8.8.8.8", "2001:4860:4860::8888", "credit.bank.example.cn"])
def test_public_addresses_and_names_pass(host: str) -> None:
    check_host(host, ON)  # names are checked again when resolved


@pytest.mark.parametrize("host", ["0x8.8.8.8", "134744072", "1.2.3.4.5", "256.0.0.1", "08.1.1.1"])
def test_odd_number_forms_are_refused_even_when_public(host: str) -> None:
    with pytest.raises(TargetError):
        check_host(host, ON)


def test_the_rule_is_off_outside_production_and_allowances_exempt_hosts() -> None:
    check_host("127.0.0.1", target_rule("development", False, ""))
    allowed = target_rule("production", False, "Intranet.Dept.example, [::1], 10.0.0.9")
    for host in ("intranet.dept.example", "::1", "10.0.0.9"):
        check_host(host, allowed)
    with pytest.raises(TargetError):
        check_host("10.0.0.8", allowed)
    assert address_refusal(ip_address("203.0.114.1")) is None
