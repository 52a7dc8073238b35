"""What each caller sees of one subject, through the real API (issue 3's must-show cases)."""

from __future__ import annotations

from typing import Any

from tests.conftest import GraphQLClient, hub_command, mint

QUERY = """
query($code: String!) {
  subject(creditCode: $code) {
    creditCode
    legalRepresentative { name idMasked idNumber }
    contacts { phones }
    records { id disclosure status }
  }
}
"""

EVERY_CLASS = {"R-API-PUBLIC", "R-API-SHARED", "R-API-RESTRICTED", "R-API-CONFIDENTIAL"}


def _read(api: str, code: str, token: str) -> dict[str, Any]:
    body = GraphQLClient(api, token).post(QUERY, {"code": code}).json()
    assert not body.get("errors"), body
    return body


def _ids(body: dict[str, Any]) -> set[str]:
    return {r["id"] for r in body["data"]["subject"]["records"]}


def test_bank_sees_public_and_shared_only_with_id_masked(api: str, code: str) -> None:
    bank = mint("partner", agency="BANK-ICBC", clearance="CONFIDENTIAL")  # claims too much
    body = _read(api, code, bank)
    assert _ids(body) == {"R-API-PUBLIC", "R-API-SHARED"}
    rep = body["data"]["subject"]["legalRepresentative"]
    assert rep == {"name": "王五", "idMasked": "1522**********0023", "idNumber": None}
    assert body["data"]["subject"]["contacts"] is None
    assert set(body["extensions"]["redacted"]) == {
        "subject.legalRepresentative.idNumber",
        "subject.contacts",
    }
    assert "152201198001010023" not in str(body)


def test_banner_unit_sees_restricted_records_of_its_own_division_only(api: str, code: str) -> None:
    own = mint("admin", agency="NMG152201", division_code="152201")
    body = _read(api, code, own)
    assert _ids(body) == {"R-API-PUBLIC", "R-API-SHARED", "R-API-RESTRICTED"}
    assert body["data"]["subject"]["contacts"] == {"phones": ["0482-8200001"]}
    other = mint("admin", agency="NMG150102", division_code="150102")
    assert _ids(_read(api, code, other)) == {"R-API-PUBLIC", "R-API-SHARED"}
    league = mint("admin", agency="NMG152200", division_code="152200")
    assert "R-API-RESTRICTED" in _ids(_read(api, code, league))


def test_investigator_with_purpose_sees_confidential_fields(api: str, code: str) -> None:
    token = mint("investigator", clearance="CONFIDENTIAL", purpose="investigation:CASE-2026-7")
    body = _read(api, code, token)
    assert _ids(body) == EVERY_CLASS
    assert body["data"]["subject"]["legalRepresentative"]["idNumber"] == "152201198001010023"
    assert "redacted" not in body.get("extensions", {})


def test_confidential_needs_an_investigation_purpose(api: str, code: str) -> None:
    token = mint("investigator", clearance="CONFIDENTIAL", purpose="curiosity")
    body = _read(api, code, token)
    assert _ids(body) == EVERY_CLASS - {"R-API-CONFIDENTIAL"}
    assert body["data"]["subject"]["legalRepresentative"]["idNumber"] is None


def test_pending_records_only_for_submitter_and_reviewers(api: str, code: str) -> None:
    submitter = mint("submitter", agency="NMG152201", division_code="152201")
    assert "R-API-PENDING" in _ids(_read(api, code, submitter))
    reviewer = mint("reviewer", agency="NMG152200", division_code="152200")
    assert "R-API-PENDING" in _ids(_read(api, code, reviewer))
    far_reviewer = mint("reviewer", agency="NMG150100", division_code="150100")
    assert "R-API-PENDING" not in _ids(_read(api, code, far_reviewer))
    investigator = mint("investigator", clearance="CONFIDENTIAL", purpose="investigation:X-1")
    assert "R-API-PENDING" not in _ids(_read(api, code, investigator))
    assert "R-API-PENDING" not in _ids(_read(api, code, mint("partner")))


def test_reads_are_in_the_audit_trail_with_their_purpose(api: str, code: str) -> None:
    investigator = mint("investigator", clearance="CONFIDENTIAL", purpose="investigation:AUD-9")
    _read(api, code, investigator)
    bank = mint("partner", agency="BANK-AUDIT")
    _read(api, code, bank)
    denied = GraphQLClient(api, bank).post('{ auditTrail(agency: "BANK-AUDIT") { seq } }').json()
    assert denied["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    hub_command("audit", "drain")  # what the worker does every 2 s
    admin = GraphQLClient(api, mint("admin", agency="NMG150000"))
    query = """query($code: String!) { auditTrail(subject: $code, first: 100) {
        seq principal agency purpose field released withheld decision } }"""
    events = admin.data(query, {"code": code})["auditTrail"]
    mine = [e for e in events if e["purpose"] == "investigation:AUD-9"]  # type: ignore[union-attr]
    assert mine and mine[-1]["field"] == "subject" and mine[-1]["decision"] == "ALLOW"
    assert "R-API-CONFIDENTIAL" in mine[-1]["released"]
    assert "legalRepresentative.idNumber" in mine[-1]["released"]
    banks = [e for e in events if e["agency"] == "BANK-AUDIT"]  # type: ignore[union-attr]
    assert banks[-1]["decision"] == "PARTIAL"
    assert "subject.legalRepresentative.idNumber" in banks[-1]["withheld"]
    assert "R-API-RESTRICTED" not in banks[-1]["released"]
    denials = admin.data('{ auditTrail(agency: "BANK-AUDIT") { field decision } }')
    assert {"field": "auditTrail", "decision": "DENY"} in denials["auditTrail"]  # type: ignore[operator]
    assert hub_command("audit", "verify").returncode == 0
