"""Identifier rules: GB 32100 credit codes and GB 11643 resident IDs."""

from __future__ import annotations

import pytest

from graph.identifiers import (
    InvalidIdentifier,
    mask_resident_id,
    normalise,
    person_key,
    resident_id,
    uscc_check_char,
    validate_resident_id,
    validate_uscc,
)

VALID = [
    "91110000600037341L",
    "91310115MA1K3BTP2B",
    "121200004013590816",
    "91152201078371135X",  # Ulanhot, Xing'an League
]


@pytest.mark.parametrize("code", VALID)
def test_public_codes_are_valid(code: str) -> None:
    assert validate_uscc(code) == code


@pytest.mark.parametrize("authority", ["A", "N", "Y"])
def test_letter_prefixed_authority_codes_are_accepted(authority: str) -> None:
    stem = f"{authority}2152201MA0N7QX12"
    assert len(stem) == 17
    code = stem + uscc_check_char(stem)
    assert validate_uscc(code) == code


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("9111 0000 6000 3734 1L", "91110000600037341L"),
        ("91110000-600037341-L", "91110000600037341L"),
        ("91110000600037341l", "91110000600037341L"),
        ("９１１１００００６０００３７３４１Ｌ", "91110000600037341L"),  # full-width
        ("\u300091110000600037341L\t", "91110000600037341L"),  # ideographic space
        ("91110000\u2014600037341L", "91110000600037341L"),  # em dash pasted from a document
    ],
)
def test_what_people_type_is_normalised(typed: str, expected: str) -> None:
    assert normalise(typed) == expected
    assert validate_uscc(typed) == expected


@pytest.mark.parametrize(
    ("code", "reason"),
    [
        ("91110000600037341N", "checksum"),
        ("9111000060003IOZSV", "charset"),
        ("91110000600037341", "length"),
        ("91110000600037341LL", "length"),
        ("", "length"),
        ("91AB0000600037341L", "division"),
        ("91110000600037341Z", "charset"),
    ],
)
def test_invalid_codes_say_why(code: str, reason: str) -> None:
    with pytest.raises(InvalidIdentifier) as info:
        validate_uscc(code)
    assert info.value.reason == reason


def test_every_single_character_error_is_caught() -> None:
    """The weighted mod-31 check detects any one substituted character."""
    code = VALID[3]
    for position in range(18):
        for other in "0123456789ABCDEFGHJKLMNPQRTUWXY":
            if other == code[position] or (position in range(2, 8) and not other.isdigit()):
                continue
            changed = code[:position] + other + code[position + 1 :]
            with pytest.raises(InvalidIdentifier):
                validate_uscc(changed)


def test_resident_id_valid_and_invalid() -> None:
    assert validate_resident_id("11010519491231002x") == "11010519491231002X"
    with pytest.raises(InvalidIdentifier) as bad_check:
        validate_resident_id("110105194912310021")
    assert bad_check.value.reason == "checksum"
    with pytest.raises(InvalidIdentifier) as bad_date:
        validate_resident_id("110105194913310021")  # month 13 with a matching check digit
    assert bad_date.value.reason == "birth-date-or-place"
    with pytest.raises(InvalidIdentifier):
        validate_resident_id("1101051949123100")


def test_resident_id_is_kept_as_keyed_hash_and_masked_form() -> None:
    rid = resident_id("11010519491231002X", b"k" * 32)
    assert rid.masked == "1101**********002X"
    assert mask_resident_id(rid.number) == rid.masked
    assert rid.key == person_key("11010519491231002X", b"k" * 32)
    assert "11010519491231002X" not in rid.key
    # Another key gives another hash: the hash cannot be matched without the hub's key.
    assert resident_id("11010519491231002X", b"x" * 32).key != rid.key
