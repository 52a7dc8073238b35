"""The personal-data scan of a typical case's text: what a reader would recognise is found in
any spelling, and what a case's text is made of (credit codes, document numbers, dates, sums,
articles of law) is not taken for it."""

from __future__ import annotations

from graph.cases.personal import personal_data
from graph.identifiers import resident_id_check_char, uscc_check_char

FIRST17 = "15220119800101507"
ID = FIRST17 + resident_id_check_char(FIRST17)
PEOPLE = ["其木格", "王建国"]


def test_personal_data_is_found_however_it_is_written() -> None:
    found = {
        f"当事人身份证号{ID}": "RESIDENT_ID",
        f"身份证号{ID[:6]} {ID[6:14]} {ID[14:]}": "RESIDENT_ID",
        f"身份证号{ID.translate({ord(d): ord(d) + 0xFEE0 for d in '0123456789'})}": "RESIDENT_ID",
        "旧身份证152201800101507": "RESIDENT_ID",
        "联系电话13912345678。": "MOBILE",
        "联系电话+86 139-1234-5678": "MOBILE",
        "联系电话１３９ １２３４ ５６７８": "MOBILE",
        "来信请寄 wang.jg@example.com": "EMAIL",
        "法定代表人王 建 国拒不整改": "PERSON_NAME",
        "股东其木格": "PERSON_NAME",
    }
    assert found
    for text, kind in found.items():
        assert personal_data(text, PEOPLE) == kind, text


def test_what_a_case_is_made_of_is_not_personal_data() -> None:
    first17 = "91152201MA0DL0001"
    wrong_check = FIRST17 + ("0" if ID[-1] != "0" else "1")
    clean = [
        f"统一社会信用代码{first17 + uscc_check_char(first17)}",
        "乌自然资罚〔2026〕13号，于2026年6月1日作出，2026-06-01送达",
        "罚款人民币1380000元，没收违法所得23912345.67元",
        "依据《中华人民共和国矿产资源法》第三十九条",
        "案件编号CASE-20260301-1A2B3C4D",
        wrong_check,  # 18 digits that are no resident ID
        "某个体工商户在王家营子村越界开采",  # a place, not a person tied to the subject
    ]
    assert clean
    for text in clean:
        assert personal_data(text, PEOPLE) is None, text
    assert personal_data("王", ["王"]) is None  # a one-character "name" would match anything
