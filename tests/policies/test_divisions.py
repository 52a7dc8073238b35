"""Divisions of Inner Mongolia and the jurisdiction of each level of unit."""

from __future__ import annotations

from policies.divisions import Level, banners, find_division, jurisdiction_prefix, leagues


def test_twelve_leagues_and_about_a_hundred_banners() -> None:
    names = {d.name for d in leagues()}
    assert len(names) == 12
    assert {"呼和浩特市", "兴安盟", "锡林郭勒盟", "阿拉善盟"} <= names
    assert 95 <= len(banners()) <= 110


def test_current_names_not_historical_ones() -> None:
    saihan = find_division("150105")
    assert saihan is not None and saihan.name == "赛罕区"
    assert find_division("152100") is None  # 呼伦贝尔盟, abolished in 2001
    assert find_division("150101") is None  # 市辖区 placeholder


def test_levels_and_parents() -> None:
    ulanhot = find_division("152201")
    assert ulanhot is not None and ulanhot.level is Level.BANNER
    assert ulanhot.parent == "152200"
    xingan = find_division("152200")
    assert xingan is not None and xingan.level is Level.LEAGUE and xingan.parent == "150000"
    region = find_division("150000")
    assert region is not None and region.level is Level.REGION


def test_jurisdiction_prefixes() -> None:
    assert jurisdiction_prefix("150000") == "15"
    assert jurisdiction_prefix("152200") == "1522"
    assert jurisdiction_prefix("152201") == "152201"


def test_one_unit_per_division_at_three_levels() -> None:
    from policies.units import units

    found = {u.code: u for u in units()}
    assert found["NMG150000"].name == "内蒙古自治区自然资源厅"
    assert found["NMG152200"].name == "兴安盟自然资源局"
    assert found["NMG152201"].level is Level.BANNER
    assert len([u for u in found.values() if u.level is Level.LEAGUE]) == 12
