"""A deterministic, realistic demo graph for the hub, streamed as exchange-file rows.

Why a generator and not fixtures: the hub has to be exercised at volume (up to a million
subjects) and the analyses need known answers. ``generate(subjects, seed)`` streams rows in the
format of docs/data-format.md; the same arguments always give byte-identical rows in the same
order, because every random choice comes from one ``random.Random(seed)`` and nothing depends on
time, ``hash()`` of strings or set order. ``PLANTED`` describes hand-built cases with fixed
identities (present whenever ``subjects >= PLANTED.min_subjects``) so tests can assert on them.

Order: agencies, projects, the planted cases, then one block per subject (the people it brings
in first, then the subject, its relations, licences, records, sanctions and rating), and finally
project participation. Every row refers only to rows yielded before it.
"""

from __future__ import annotations

import random
from bisect import bisect
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from fractions import Fraction
from typing import Any, Generic, NamedTuple, TypeVar

from stdnum import numdb

from graph.identifiers import USCC_ALPHABET, uscc_check_char
from policies.credit.catalogue import default_catalogue
from policies.credit.rating_file import default_model
from policies.divisions import PROVINCE, Division, banners, leagues
from policies.units import agency_code, units

Row = dict[str, Any]
T = TypeVar("T")

# --- fixed points -------------------------------------------------------------------------------

SYSTEM = "seed"
MODEL_VERSION = "seed-1"
REFERENCE_DATE = date(2026, 11, 1)  # "today" for every status decision, so output never ages
COMPUTED_AT = "2026-11-01T00:00:00+08:00"
PLANTED_MIN_SUBJECTS = 100

_REFERENCE = REFERENCE_DATE.toordinal()
_REGISTRATION_FIRST = date(1995, 1, 1).toordinal()
_REGISTRATION_LAST = date(2025, 12, 31).toordinal()
_MA_ERA = date(2015, 10, 1).toordinal()  # market entities got "MA…" organisation codes from here
_RECORDS_FIRST = date(2010, 1, 1).toordinal()
_ABNORMAL_FIRST = date(2019, 1, 1).toordinal()
_PROJECTS_FIRST = date(2015, 1, 1).toordinal()
_PENDING_FROM = _REFERENCE - 90  # pending records were decided in the last three months
_BIRTH_FIRST_YEAR = 1950
_BIRTH_LAST_YEAR = 2000
_ADULT_AGE = 20  # a new person is at least this old when the subject is registered

# --- ratios (per subject unless said otherwise) ---------------------------------------------------

_PROJECTS_PER_SUBJECT = 1 / 20
_MIN_PROJECTS = 5
_SERIOUS_RATE = 0.03 / 0.90  # among companies and individual businesses: ~3% of all subjects
_ABNORMAL_RATE = 0.02 / 0.78  # among companies: ~2% of all subjects
_BRANCH_RATE = 0.01
_SUCCESSOR_RATE = 0.005
_SHARED_CONTACT_RATE = 0.006  # copies a recent subject's phone or address: ~1% end up sharing
_RECENT_CONTACTS = 256
_EMAIL_RATE = 0.25
_SECOND_PHONE_RATE = 0.1
_CORPORATE_HOLDER_RATE = 0.2
_BUSY_HOLDER_RATE = 0.5  # a corporate holder is one already holding others (groups grow)
_REP_IS_HOLDER_RATE = 0.6
_ENDED_RELATION_RATE = 0.08
_PENDING_RATE = 0.05
_LANDLINE_RATE = 0.35
_MONGOLIAN_NAME_RATE = 0.12
_MALE_RATE = 0.62
_PERSON_PHONE_RATE = 0.4
_PERSON_ADDRESS_RATE = 0.3
_SUPERVISOR_RATE = 0.4
_REPAIRED_RATE = 0.2
_BANNER_AGENCY_RATE = 0.7
_PERSON_LOAD_CAP = 80  # nobody fronts more companies than this
_SERIOUS_TERM_YEARS = 3
_ABNORMAL_TERM_YEARS = 1
_HUB_RATE = 0.0005
_HUB_FLOOR_LARGE = 200  # subjects >= 10,000
_HUB_FLOOR_MEDIUM = 30  # subjects >= 1,000


class _PersonOdds(NamedTuple):
    """How a role is filled: a new person, a busy one (rich get richer) or anyone known."""

    new: float
    busy: float


_REP_ODDS = _PersonOdds(new=0.33, busy=0.25)
_HOLDER_ODDS = _PersonOdds(new=0.12, busy=0.25)
_OFFICER_ODDS = _PersonOdds(new=0.12, busy=0.25)

# --- rating model "seed-1" ------------------------------------------------------------------------

_SCORE_START = 75
_SCORE_DELTA = {"TRUSTWORTHY": 5, "GENERAL": -8, "MINOR": -3}
_SERIOUS_CAP = 15  # an active serious-dishonesty listing puts the subject in grade C
_ABNORMAL_CAP = 49  # an active abnormal-operation listing caps the subject at grade B
_GRADE_BANDS = (
    (90, "AAA"),
    (80, "AA"),
    (70, "A"),
    (60, "BBB"),
    (50, "BB"),
    (40, "B"),
    (30, "CCC"),
    (20, "CC"),
    (0, "C"),
)


class _Weighted(Generic[T]):
    """Cumulative weights computed once: one ``random()`` and a bisect per draw."""

    __slots__ = ("_cumulative", "_items", "_total")

    def __init__(self, pairs: Iterable[tuple[T, float]]) -> None:
        self._items: list[T] = []
        self._cumulative: list[float] = []
        total = 0.0
        for item, weight in pairs:
            total += weight
            self._items.append(item)
            self._cumulative.append(total)
        self._total = total

    def pick(self, rng: random.Random) -> T:
        return self._items[bisect(self._cumulative, rng.random() * self._total)]


# --- dates ----------------------------------------------------------------------------------------

_DAY_FIRST = date(1940, 1, 1).toordinal()
_ISO_DAYS = tuple(
    date.fromordinal(day).isoformat() for day in range(_DAY_FIRST, date(2100, 1, 1).toordinal())
)


def _iso(day: int) -> str:
    """ISO text of a day ordinal (a table lookup: millions of dates are written)."""
    return _ISO_DAYS[day - _DAY_FIRST]


def _plus_months(day: int, months: int) -> int:
    """Same day of month ``months`` later, clamped to the month's end."""
    start = date.fromordinal(day)
    index = start.year * 12 + start.month - 1 + months
    year, month = divmod(index, 12)
    for day_of_month in (start.day, 30, 29, 28):
        try:
            return date(year, month + 1, day_of_month).toordinal()
        except ValueError:
            continue
    raise AssertionError("every month has a 28th")


def _plus_years(day: int, years: int) -> int:
    return _plus_months(day, 12 * years)


# --- identifiers ----------------------------------------------------------------------------------

_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)


def organisation_code(body: str) -> str:
    """GB 11714 code: 8 body characters and their check character (A=10 … Z=35)."""
    total = sum(int(char, 36) * weight for char, weight in zip(body, _ORG_WEIGHTS, strict=True))
    check = 11 - total % 11
    return body + ("X" if check == 10 else "0" if check == 11 else str(check))


def credit_code(prefix: str, division: str, body: str) -> str:
    """A valid USCC: authority and type (``prefix``), division, organisation code, check."""
    first17 = prefix + division + organisation_code(body)
    return first17 + uscc_check_char(first17)


def resident_number(division: str, birth: str, sequence: int) -> str:
    """A valid GB 11643 resident ID from place, ``YYYYMMDD`` birth date and sequence.

    The check is computed here: ``identifiers.resident_id_check_char`` slices a check character
    off its argument, so given 17 characters it checks only 16.
    """
    first17 = f"{division}{birth}{sequence:03d}"
    check = (1 - 2 * int(first17, 13)) % 11
    return first17 + ("X" if check == 10 else str(check))


def _existed(raw: str, year: int) -> bool:
    """Whether a division (stdnum's ``[from-to]name`` history) existed in ``year``."""
    for part in raw.split(","):
        if not part.startswith("["):
            return not part.endswith("市辖区")
        period, name = part[1:].split("]")
        start, end = period.split("-")
        if name.endswith(("市辖区", "市区")):
            continue
        if (not start or int(start) <= year) and (not end or year <= int(end)):
            return True
    return False


def _birthplaces() -> dict[int, tuple[str, ...]]:
    """County codes of the region per birth year: an ID's place must have existed at birth."""
    counties: list[tuple[str, str]] = []
    for _length, low, _high, _props, children in numdb.get("cn/loc").prefixes:
        if low != PROVINCE:
            continue
        for _clen, sub, _shigh, props, _grand in children:
            if not sub.endswith("00"):
                counties.append((PROVINCE + sub, props.get("county", "")))
    return {
        year: tuple(code for code, raw in counties if _existed(raw, year))
        for year in range(_BIRTH_FIRST_YEAR, _BIRTH_LAST_YEAR + 1)
    }


# --- names and texts ------------------------------------------------------------------------------

_SURNAMES = _Weighted(
    (name, weight)
    for names, weight in (
        ("王李张", 7.0),
        ("刘", 5.4),
        ("陈", 4.5),
        ("杨", 3.1),
        ("赵黄", 2.3),
        ("周吴", 1.9),
        ("徐孙胡朱高林何郭马", 1.2),
        ("罗梁宋郑谢韩唐冯于董包", 0.8),
        ("萧程曹袁邓许傅沈曾彭吕苏卢蒋蔡贾丁魏薛叶阎余潘杜戴夏钟汪田任姜范方石姚谭", 0.35),
        ("廖邹熊金陆郝孔白崔康毛邱秦江史顾侯邵孟龙万段雷钱汤尹黎易常武乔贺赖龚文云乌奇", 0.2),
    )
    for name in names
)
_MALE_GIVEN = tuple(
    "伟强磊军勇杰涛斌超明刚平辉鹏华飞鑫波宇浩凯健俊帆旭宁龙林阳建国峰亮成东文志海春晓永庆金宝荣喜福"
)
_FEMALE_GIVEN = tuple("芳娜敏静丽艳娟霞秀英玲桂兰燕萍红梅琳洁婷雪慧颖倩丹玉月莉晶欣佳瑶蕾璐琴凤")
_MONGOLIAN_MALE = ("巴特尔", "额尔敦", "苏和", "乌力吉", "格日勒图", "朝鲁", "毕力格", "那顺",
                   "孟和", "阿拉坦仓", "巴雅尔", "布和", "特木尔", "宝音", "达来")  # fmt: skip
_MONGOLIAN_FEMALE = ("其其格", "乌云", "萨仁", "斯琴", "塔娜", "娜仁花", "高娃", "托娅",
                     "乌日娜", "图雅", "阿茹娜", "其木格")  # fmt: skip

# Characters of shop names (字号), about 200, duplicates removed in order.
_TRADE_CHARS = tuple(
    dict.fromkeys(
        "鑫源泰华盛恒达通瑞祥丰隆兴宏伟金荣昌汇德顺安嘉利诚信远博新中天正宇鼎辉光明晟昊浩海峰聚合"
        "益广永福富康乾坤方圆仁和佳凯旭腾跃晨润泽森林川山石岩磊晶钰铭锦绣骏驰蒙草原北疆牧驼鹰雄豪"
        "杰英茂成建立创联万千百亿佰仟元亨贞美良友邦国民力科技智慧思维宝玉银铜铁钢能电风云雨霞虹星"
        "月日阳春秋冬夏东西南蓝青绿紫赤黄白黑红龙凤麒麟虎豹狮象鹏鸿雁骅骐飞翔征途路桥城楼图志义礼"
        "忠厚载物众赢锐亚泓淼焱垚鸣岳峻嵘翰墨巍帝豪悦晖璟琨瀚"
    )
)


class _Industry(NamedTuple):
    name: str
    licences: tuple[str, ...]  # licence kinds a subject of this trade plausibly holds


_MINING_INDUSTRIES = (
    _Industry("矿业", ("MINING", "MINING", "EXPLORATION", "LAND_USE")),
    _Industry("煤业", ("MINING", "MINING", "LAND_USE")),
    _Industry("稀土", ("MINING", "EXPLORATION")),
    _Industry("地质勘查", ("EXPLORATION", "GEOLOGICAL")),
)
_OTHER_INDUSTRIES = (
    _Industry("测绘", ("SURVEYING",)),
    _Industry("土地开发", ("LAND_USE",)),
    _Industry("建筑工程", ("LAND_USE", "GEOLOGICAL")),
    _Industry("房地产开发", ("LAND_USE",)),
    _Industry("工程咨询", ("SURVEYING", "GEOLOGICAL")),
    _Industry("环境治理", ("GEOLOGICAL",)),
    _Industry("建材", ("LAND_USE", "MINING")),
    _Industry("商贸", ("LAND_USE",)),
)
_INDUSTRY_WEIGHTS = {
    "矿业": 10, "煤业": 6, "稀土": 1, "地质勘查": 5, "测绘": 7, "土地开发": 6, "建筑工程": 14,
    "房地产开发": 9, "工程咨询": 8, "环境治理": 5, "建材": 9, "商贸": 20,
}  # fmt: skip
# Where a trade concentrates: coal in Ordos and Wuhai, rare earths in Baotou.
_INDUSTRY_BOOST = {"150600": {"煤业": 6.0}, "150300": {"煤业": 4.0}, "150200": {"稀土": 15.0}}
_COMPANY_FORMS = _Weighted((("有限公司", 0.6), ("有限责任公司", 0.3), ("股份有限公司", 0.1)))
_SHOP_TRADES = (
    _Industry("建材经销部", ("LAND_USE",)),
    _Industry("砂石料场", ("MINING",)),
    _Industry("测绘服务部", ("SURVEYING",)),
    _Industry("五金建材店", ("LAND_USE",)),
    _Industry("土方工程队", ("LAND_USE",)),
)
_PUBLIC_BODY = _Industry("", ("LAND_USE",))  # institutions, collectives: land at most
_INSTITUTIONS = (
    "自然资源调查监测中心", "土地储备中心", "不动产登记中心", "地质环境监测站",
    "国土空间规划研究院", "测绘院", "矿产资源储量评审中心", "自然资源综合行政执法大队",
)  # fmt: skip
_VILLAGES = (
    "巴彦", "乌兰", "查干", "宝力格", "哈达", "额尔敦", "新艾里", "胜利", "永丰", "红旗", "联合",
    "前进", "团结", "和平", "双泉", "德力格尔", "锡林", "阿拉坦", "呼和", "哈日", "白音", "敖包",
)  # fmt: skip
_OTHER_ORGS = ("土地估价事务所", "矿业协会", "测绘地理信息学会", "地质学会")
_MARKET_PLACE_RATE = 0.2  # share of market names that start with 内蒙古 rather than a place

_STREETS = (
    "新华大街", "中山路", "锡林郭勒南路", "昭乌达路", "鄂尔多斯大街", "大学西街", "成吉思汗大街",
    "兴安南大街", "人民路", "解放路", "建设路", "团结路", "和平路", "文化路", "民族街", "友谊大街",
    "光明路", "迎宾路", "新城街", "东风路", "滨河路", "北京路", "胜利路", "学府路", "工业路",
    "钢铁大街", "阿尔丁大街", "哈达街", "天骄路", "乌兰察布大街", "科尔沁大街", "红山路",
)  # fmt: skip
_AREA_CODES = {
    "150100": "0471", "150200": "0472", "150300": "0473", "150400": "0476", "150500": "0475",
    "150600": "0477", "150700": "0470", "150800": "0478", "150900": "0474", "152200": "0482",
    "152500": "0479", "152900": "0483",
}  # fmt: skip
_LANDLINE_LOW, _LANDLINE_HIGH = 2_000_000, 8_000_000  # planted and hub numbers lie above
_MOBILE_PREFIXES = tuple(f"1{a}{b}" for a in "358" for b in "0123456789")
_EMAIL_HANDLES = ("", "info.", "office.", "hr.", "nmg.")
_EMAIL_DOMAINS = ("163.com", "126.com", "sina.com", "aliyun.com")
# Short forms of agencies in document numbers (内自然资罚〔2021〕12号).
_LEAGUE_SHORT = {
    "150100": "呼", "150200": "包", "150300": "乌海", "150400": "赤", "150500": "通",
    "150600": "鄂", "150700": "呼伦贝尔", "150800": "巴", "150900": "乌", "152200": "兴",
    "152500": "锡", "152900": "阿",
}  # fmt: skip

# League weights for where subjects and projects are: the three big economies are larger.
_LEAGUE_WEIGHT = {"150100": 3.0, "150200": 3.0, "150600": 3.0, "150400": 1.5, "150500": 1.2}
_URBAN_WEIGHT = 1.5  # districts (…区) hold more firms than rural banners


class _Kind(NamedTuple):
    prefix: str  # registration authority and entity type: first two characters of the code
    kind: str


_KINDS = _Weighted(
    (
        (_Kind("91", "COMPANY"), 0.78),
        (_Kind("92", "INDIVIDUAL_BUSINESS"), 0.12),
        (_Kind("12", "INSTITUTION"), 0.05),
        (_Kind("N2", "RURAL_COLLECTIVE"), 0.02),
        (_Kind("N3", "RURAL_COLLECTIVE"), 0.01),
        (_Kind("Y1", "OTHER"), 0.02),
    )
)
_STATUSES = _Weighted((("ACTIVE", 0.88), ("REVOKED", 0.05), ("CANCELLED", 0.07)))
_HOLDER_COUNTS = _Weighted(((1, 0.45), (2, 0.30), (3, 0.15), (4, 0.07), (5, 0.03)))
_OFFICER_COUNTS = _Weighted(((0, 0.6), (1, 0.2), (2, 0.12), (3, 0.08)))
_OFFICER_ROLES = ("DIRECTOR", "SUPERVISOR", "MANAGER", "CHAIR")
_LICENCE_COUNTS = _Weighted(((0, 0.78), (1, 0.16), (2, 0.05), (3, 0.01)))
_RECORD_COUNTS = _Weighted(
    ((0, 0.34), (1, 0.27), (2, 0.17), (3, 0.11), (4, 0.06), (5, 0.03), (6, 0.02))
)
_DISCLOSURES = _Weighted(
    (("PUBLIC", 0.60), ("SHARED", 0.25), ("RESTRICTED", 0.12), ("CONFIDENTIAL", 0.03))
)
_MINOR_RATE = 0.55  # ordinary dishonest records: MINOR, else GENERAL
_SERIOUS_MEASURES = (
    "PROCUREMENT_EXCLUDED",
    "BID_RESTRICTED",
    "LAND_AUCTION_BARRED",
    "MINING_RIGHT_BARRED",
    "LOAN_REVIEW",
    "SUBSIDY_REFUSED",
    "KEY_INSPECTION",
)
_ABNORMAL_MEASURES = ["KEY_INSPECTION", "MINING_RIGHT_BARRED"]


class _Item(NamedTuple):
    """A credit catalogue item: how its records are classified, titled, numbered and based."""

    code: str
    category: str
    document: str  # kind character of the document number; "" means a court case number
    titles: tuple[str, ...]
    bases: tuple[str, ...]


_LAND_LAW = "《中华人民共和国土地管理法》"
_MINERAL_LAW = "《中华人民共和国矿产资源法》"
_ITEMS = {
    item.code: item
    for item in (
        _Item("REGISTRATION", "BASIC", "登", ("企业登记基本信息", "不动产登记信息"),
              ("《不动产登记暂行条例》第十四条", "《中华人民共和国市场主体登记管理条例》第八条")),
        _Item("ADMIN_LICENCE", "BASIC", "许",
              ("建设用地规划许可", "采矿权延续登记", "探矿权新立登记", "测绘资质审批"),
              ("《中华人民共和国行政许可法》第三十八条", _MINERAL_LAW + "第三条")),
        _Item("ADMIN_PENALTY", "DISHONEST", "罚",
              ("非法占用土地行政处罚决定", "未经批准擅自采矿行政处罚决定",
               "越界开采矿产资源行政处罚决定", "破坏耕地行政处罚决定",
               "测绘成果质量不合格行政处罚决定"),
              (_LAND_LAW + "第七十七条", _LAND_LAW + "第七十五条", _MINERAL_LAW + "第三十九条",
               _MINERAL_LAW + "第四十条", "《中华人民共和国测绘法》第六十三条")),
        _Item("LAND_CONTRACT_BREACH", "DISHONEST", "函",
              ("未按出让合同约定期限动工开发", "未按期缴纳土地出让价款", "擅自改变土地用途"),
              ("《中华人民共和国城镇国有土地使用权出让和转让暂行条例》第十四条",
               _LAND_LAW + "第五十六条")),
        _Item("IDLE_LAND", "DISHONEST", "闲", ("闲置土地认定", "闲置土地处置决定"),
              ("《闲置土地处置办法》第十四条", _LAND_LAW + "第三十八条")),
        _Item("MINING_FILING_ABNORMAL", "DISHONEST", "异",
              ("未按期报送矿业权人勘查开采信息", "公示信息隐瞒真实情况、弄虚作假"),
              ("《矿业权人勘查开采信息公示办法（试行）》第十二条",)),
        _Item("SURVEYING_MARKET_CREDIT", "BASIC", "测", ("测绘地理信息市场信用评价",),
              ("《测绘地理信息市场信用管理暂行办法》第十条",)),
        _Item("PROJECT_PERFORMANCE", "TRUSTWORTHY", "评",
              ("土地整治项目履约评价优良", "矿山生态修复项目履约评价优良"),
              ("《土地复垦条例》第十七条",)),
        _Item("COMMENDATION", "TRUSTWORTHY", "发",
              ("自然资源系统先进集体表彰", "绿色矿山名录遴选", "守合同重信用企业公示"),
              ("《国务院关于建立完善守信联合激励和失信联合惩戒制度加快推进社会诚信建设的指导意见》",)),
        _Item("COURT_JUDGMENT", "DISHONEST", "", ("拒不履行生效判决", "失信被执行人"),
              ("《中华人民共和国民事诉讼法》第二百六十二条",)),
        _Item("CREDIT_COMMITMENT", "TRUSTWORTHY", "诺", ("行政许可信用承诺", "矿业权出让信用承诺"),
              ("《国务院办公厅关于加快推进社会信用体系建设构建以信用为基础的新型监管机制的指导意见》",)),
    )
}  # fmt: skip
_ORDINARY_ITEMS = _Weighted(
    (_ITEMS[code], weight)
    for code, weight in (
        ("REGISTRATION", 18), ("ADMIN_LICENCE", 18), ("CREDIT_COMMITMENT", 14),
        ("COMMENDATION", 5), ("PROJECT_PERFORMANCE", 6), ("SURVEYING_MARKET_CREDIT", 5),
        ("ADMIN_PENALTY", 16), ("LAND_CONTRACT_BREACH", 5), ("IDLE_LAND", 5),
        ("COURT_JUDGMENT", 5), ("MINING_FILING_ABNORMAL", 3),
    )
)  # fmt: skip
_SERIOUS_ITEMS = tuple(
    _ITEMS[code]
    for code in ("ADMIN_PENALTY", "LAND_CONTRACT_BREACH", "IDLE_LAND", "COURT_JUDGMENT")
)
_TERM_MONTHS = {"MINOR": 3, "GENERAL": 12, "SERIOUS": 12 * _SERIOUS_TERM_YEARS}


class _LicenceSpec(NamedTuple):
    issuer_level: str  # "LEAGUE", or "BANNER" (the banner office mostly, else the league)
    terms: tuple[int, ...]  # possible validity in years


_LICENCE_SPECS = {
    "LAND_USE": _LicenceSpec("BANNER", (40, 50, 70)),
    "MINING": _LicenceSpec("LEAGUE", (10, 15, 20, 30)),
    "EXPLORATION": _LicenceSpec("LEAGUE", (5,)),
    "SURVEYING": _LicenceSpec("LEAGUE", (5,)),
    "GEOLOGICAL": _LicenceSpec("LEAGUE", (5,)),
}
_MINERAL_LICENCES = ("MINING", "EXPLORATION")


class _ProjectKind(NamedTuple):
    code: str
    labels: tuple[str, ...]


_PROJECT_KINDS = _Weighted(
    (
        (_ProjectKind("LAND_CONSOLIDATION", ("土地整治", "高标准农田建设", "土地复垦")), 0.35),
        (_ProjectKind("MINE_RESTORATION", ("历史遗留矿山生态修复", "废弃矿山地质环境治理")), 0.2),
        (_ProjectKind("SURVEY", ("地籍调查", "国土变更调查", "不动产测绘")), 0.2),
        (_ProjectKind("GEOLOGICAL_HAZARD", ("地质灾害综合治理", "地质灾害隐患点排查")), 0.15),
        (_ProjectKind("CONSTRUCTION", ("自然资源业务用房建设", "土地储备基础设施建设")), 0.1),
    )
)
_BIDDERS = (3, 8)
_BIDDER_DRAWS = 4  # tries per wanted bidder and pool: few companies predate early projects


# --- rows -----------------------------------------------------------------------------------------


def _source(agency: str) -> dict[str, Any]:
    return {"system": SYSTEM, "agency": agency}


def _relation(
    rel_type: str, start: dict[str, str], end: dict[str, str], since: str, agency: str
) -> Row:
    return {
        "kind": "Relation",
        "type": rel_type,
        "from": start,
        "to": end,
        "since": since,
        "until": None,
        "source": _source(agency),
    }


def _contacts(row: Row, phones: list[str], addresses: list[str], emails: list[str]) -> Row:
    """Attach contact lists, leaving out empty ones."""
    if phones:
        row["phones"] = phones
    if addresses:
        row["addresses"] = addresses
    if emails:
        row["emails"] = emails
    return row


def _grade(score: int) -> str:
    return next(grade for floor, grade in _GRADE_BANDS if score >= floor)


def _rating(code: str, score: int) -> Row:
    """The seed-1 rating: grade from the score bands, the consequences of its grade class
    (policies/rating.yaml). ``hub up`` re-rates the demo with the current model."""
    grade = _grade(score)
    return {
        "kind": "Rating",
        "id": "RT-" + code,
        "subject": code,
        "score": score,
        "grade": grade,
        "modelVersion": MODEL_VERSION,
        "computedAt": COMPUTED_AT,
        "measures": [c.code for c in default_model().consequences.classes[grade[0]]],
        "source": {"system": SYSTEM},
    }


def _capped(score: int, serious_active: bool, abnormal_active: bool) -> int:
    score = max(0, min(100, score))
    if serious_active:
        score = min(score, _SERIOUS_CAP)
    if abnormal_active:
        score = min(score, _ABNORMAL_CAP)
    return score


# --- planted cases --------------------------------------------------------------------------------

_PLANTED_DIVISION = "152201"  # 乌兰浩特市, 兴安盟
_PLANTED_LEAGUE = "152200"
_PLANTED_AGENCY = agency_code(_PLANTED_DIVISION)
_PLANTED_LEAGUE_AGENCY = agency_code(_PLANTED_LEAGUE)


def _planted_subject(body: str) -> str:
    return credit_code("91", _PLANTED_DIVISION, body)


def _planted_person(birth: str, sequence: int) -> str:
    return resident_number(_PLANTED_DIVISION, birth, sequence)


@dataclass(frozen=True, slots=True)
class PlantedPhoenix:
    """A seriously dishonest company's legal representative founds a new company that bids.

    Expected: ``person`` is legal representative of ``sanctioned`` (since its registration) and,
    after ``sanction_start``, of ``new_company`` (since ``new_registered``), holding
    ``person_share`` of it; ``new_company`` is a BIDDER in ``project``. The sanction is ACTIVE
    at REFERENCE_DATE: the planted term is 5 years (random sanctions use 3), so it runs until
    ``sanction_end`` and its record stays PUBLISHED until then.
    """

    sanctioned: str
    new_company: str
    person: str
    associate: str  # holds the rest of the new company and part of the old one
    record: str
    sanction: str
    sanction_start: str
    sanction_end: str
    measures: tuple[str, ...]
    new_registered: str
    person_share: float
    project: str
    bid_since: str
    sanctioned_grade: str


@dataclass(frozen=True, slots=True)
class PlantedHolding:
    """Three companies holding each other in a cycle, owned by three people.

    ``shares`` lists (holder, company, share) by label. Beneficial ownership of person p is the
    solution of x = d_p + S·x, where d_p[c] is p's direct share of c and S[c][k] the share of c
    held by company k; i.e. x = (I − S)⁻¹ d_p, the sum over all holding chains including any
    number of turns around the cycle (a geometric series, cycle product 0.6·0.4·0.3 = 0.072).
    Every company's shares are fully listed, so each company's beneficial owners sum to 1.
    """

    persons: Mapping[str, str]  # label → idNumber
    companies: Mapping[str, str]  # label → creditCode
    shares: tuple[tuple[str, str, float], ...]
    beneficial: Mapping[str, Mapping[str, Fraction]]  # person → company → exact share
    controllers: Mapping[str, str]  # company → person with the largest beneficial share
    method: str


@dataclass(frozen=True, slots=True)
class PlantedRing:
    """Five subjects chained by shared contacts and sharing them with nobody else.

    ``links`` are (member index, member index, field, value): S1–S2 phone, S2–S3 address,
    S3–S4 email, S4–S5 phone. Every other contact of the members is unique to them.
    """

    members: tuple[str, ...]
    links: tuple[tuple[int, int, str, str], ...]


@dataclass(frozen=True, slots=True)
class Planted:
    min_subjects: int
    phoenix: PlantedPhoenix
    holding: PlantedHolding
    ring: PlantedRing
    hub_address: str  # incubator address shared by hub_size(subjects) subjects
    hub_phone: str  # registration agent's phone shared by hub_size(subjects) subjects
    subjects: tuple[str, ...]  # every planted credit code
    persons: tuple[str, ...]  # every planted idNumber


_RING_PHONE_12 = "0482-8123401"
_RING_ADDRESS_23 = "兴安盟乌兰浩特市五一北路102号金桥大厦0702室"
_RING_EMAIL_34 = "jqring34@yeah.net"
_RING_PHONE_45 = "0482-8123405"
_HUB_ADDRESS = "内蒙古自治区呼和浩特市赛罕区敕勒川大街16号众创孵化基地"
_HUB_PHONE = "0471-8866666"

_PHOENIX = PlantedPhoenix(
    sanctioned=_planted_subject("MA0PHX01"),
    new_company=_planted_subject("MA0PHX02"),
    person=_planted_person("19720408", 31),
    associate=_planted_person("19750912", 42),
    record="R-00000001",
    sanction="S-00000001",
    sanction_start="2024-06-01",
    sanction_end="2027-06-01",
    measures=("BID_RESTRICTED", "LAND_AUCTION_BARRED", "MINING_RIGHT_BARRED"),
    new_registered="2025-01-15",
    person_share=0.6,
    project="P-00000001",
    bid_since="2025-05-10",
    sanctioned_grade="C",
)
_HOLDING = PlantedHolding(
    persons={
        "Q": _planted_person("19650321", 15),
        "R": _planted_person("19700605", 26),
        "T": _planted_person("19680117", 53),
    },
    companies={
        "C1": _planted_subject("07912301"),
        "C2": _planted_subject("07912302"),
        "C3": _planted_subject("MA0CYC03"),
    },
    shares=(
        ("Q", "C1", 0.5),
        ("R", "C1", 0.2),
        ("C3", "C1", 0.3),
        ("C1", "C2", 0.6),
        ("R", "C2", 0.4),
        ("C2", "C3", 0.4),
        ("T", "C3", 0.6),
    ),
    beneficial={
        "Q": {"C1": Fraction(125, 232), "C2": Fraction(75, 232), "C3": Fraction(15, 116)},
        "R": {"C1": Fraction(31, 116), "C2": Fraction(65, 116), "C3": Fraction(13, 58)},
        "T": {"C1": Fraction(45, 232), "C2": Fraction(27, 232), "C3": Fraction(75, 116)},
    },
    controllers={"C1": "Q", "C2": "R", "C3": "T"},
    method="x = (I - S)^-1 d: all holding chains, the cycle summed as a geometric series",
)
_RING = PlantedRing(
    members=tuple(_planted_subject(f"MA0RNG0{n}") for n in range(1, 6)),
    links=(
        (0, 1, "phones", _RING_PHONE_12),
        (1, 2, "addresses", _RING_ADDRESS_23),
        (2, 3, "emails", _RING_EMAIL_34),
        (3, 4, "phones", _RING_PHONE_45),
    ),
)


class _PlantedSubject(NamedTuple):
    code: str
    name: str
    registered: str
    phones: list[str]
    addresses: list[str]
    emails: list[str]


class _PlantedPerson(NamedTuple):
    number: str
    name: str


_RING_REP_NAMES = ("陈立新", "刘海军", "杨丽娟", "黄志强", "周玉兰")


def _planted_people() -> list[_PlantedPerson]:
    phoenix, holding = _PHOENIX, _HOLDING
    ring_reps = [_planted_person(f"19{80 + n}0{n + 1}1{n}", 60 + n) for n in range(5)]
    return [
        _PlantedPerson(phoenix.person, "包志刚"),
        _PlantedPerson(phoenix.associate, "王淑珍"),
        _PlantedPerson(holding.persons["Q"], "李建国"),
        _PlantedPerson(holding.persons["R"], "赵海燕"),
        _PlantedPerson(holding.persons["T"], "高志远"),
        *(
            _PlantedPerson(number, name)
            for number, name in zip(ring_reps, _RING_REP_NAMES, strict=True)
        ),
    ]


def _planted_address(number: int) -> str:
    return f"兴安盟乌兰浩特市五一北路{number}号金桥大厦0{number % 100 + 500}室"


def _planted_subjects() -> list[_PlantedSubject]:
    phoenix, holding, ring = _PHOENIX, _HOLDING, _RING
    own = "0482-81234"
    members = ring.members
    return [
        _PlantedSubject(phoenix.sanctioned, "乌兰浩特市恒泰矿业有限公司", "2016-03-18",
                        [own + "11"], [_planted_address(11)], []),
        _PlantedSubject(phoenix.new_company, "兴安盟恒泰宏达矿业有限公司", phoenix.new_registered,
                        [own + "12"], [_planted_address(12)], []),
        _PlantedSubject(holding.companies["C1"], "兴安盟金鼎投资有限公司", "2012-03-01",
                        [own + "21"], [_planted_address(21)], []),
        _PlantedSubject(holding.companies["C2"], "乌兰浩特市金鼎矿业有限责任公司", "2013-07-15",
                        [own + "22"], [_planted_address(22)], []),
        _PlantedSubject(holding.companies["C3"], "乌兰浩特市鼎盛建筑工程有限公司", "2016-05-20",
                        [own + "23"], [_planted_address(23)], []),
        _PlantedSubject(members[0], "乌兰浩特市金桥测绘有限公司", "2018-04-02",
                        [_RING_PHONE_12], [_planted_address(101)], []),
        _PlantedSubject(members[1], "乌兰浩特市桥联土地开发有限公司", "2018-09-17",
                        [_RING_PHONE_12], [_RING_ADDRESS_23], []),
        _PlantedSubject(members[2], "兴安盟联众工程咨询有限公司", "2019-03-05",
                        [own + "33"], [_RING_ADDRESS_23], [_RING_EMAIL_34]),
        _PlantedSubject(members[3], "乌兰浩特市众鑫建材有限公司", "2019-11-21",
                        [_RING_PHONE_45], [_planted_address(104)], [_RING_EMAIL_34]),
        _PlantedSubject(members[4], "兴安盟鑫达地质勘查有限公司", "2020-06-30",
                        [_RING_PHONE_45], [_planted_address(105)], []),
    ]  # fmt: skip


def _planted_relations() -> list[Row]:
    """Legal representatives and holdings of the phoenix and circular cases, ring reps."""
    phoenix, holding = _PHOENIX, _HOLDING
    registered = {s.code: s.registered for s in _planted_subjects()}
    labels: dict[str, dict[str, str]] = {
        **{label: {"person": number} for label, number in holding.persons.items()},
        **{label: {"subject": code} for label, code in holding.companies.items()},
    }
    cycle_closed = "2017-01-01"  # C3 takes its stake in C1 only after C3 exists

    def rel(rel_type: str, person: str, code: str) -> Row:
        start, end = {"person": person}, {"subject": code}
        return _relation(rel_type, start, end, registered[code], _PLANTED_AGENCY)

    rows = [
        rel("LEGAL_REPRESENTATIVE_OF", phoenix.person, phoenix.sanctioned),
        {**rel("SHAREHOLDER_OF", phoenix.person, phoenix.sanctioned), "share": 0.7},
        {**rel("SHAREHOLDER_OF", phoenix.associate, phoenix.sanctioned), "share": 0.3},
        rel("LEGAL_REPRESENTATIVE_OF", phoenix.person, phoenix.new_company),
        {**rel("SHAREHOLDER_OF", phoenix.person, phoenix.new_company), "share": 0.6},
        {**rel("SHAREHOLDER_OF", phoenix.associate, phoenix.new_company), "share": 0.4},
        rel("LEGAL_REPRESENTATIVE_OF", holding.persons["Q"], holding.companies["C1"]),
        rel("LEGAL_REPRESENTATIVE_OF", holding.persons["R"], holding.companies["C2"]),
        rel("LEGAL_REPRESENTATIVE_OF", holding.persons["T"], holding.companies["C3"]),
    ]
    for holder, company, share in holding.shares:
        code = holding.companies[company]
        since = cycle_closed if holder == "C3" else registered[code]
        row = _relation("SHAREHOLDER_OF", labels[holder], {"subject": code}, since, _PLANTED_AGENCY)
        rows.append({**row, "share": share})
    reps = [p.number for p in _planted_people()[-5:]]
    rows.extend(
        rel("LEGAL_REPRESENTATIVE_OF", rep, code)
        for rep, code in zip(reps, _RING.members, strict=True)
    )
    return rows


def _planted_project() -> Row:
    return {
        "kind": "Project",
        "id": _PHOENIX.project,
        "name": "乌兰浩特市2025年历史遗留矿山生态修复项目",
        "projectKind": "MINE_RESTORATION",
        "division": _PLANTED_DIVISION,
        "startedOn": "2025-06-01",
        "disclosure": "PUBLIC",
        "source": _source(_PLANTED_AGENCY),
    }


def _planted_sanction_rows() -> list[Row]:
    phoenix = _PHOENIX
    document = "兴自然资罚〔2024〕17号"
    source = {
        "agency": _PLANTED_LEAGUE_AGENCY,
        "document": document,
        "decidedOn": phoenix.sanction_start,
        "system": SYSTEM,
    }
    record = {
        "kind": "CreditRecord",
        "id": phoenix.record,
        "subject": phoenix.sanctioned,
        "agency": _PLANTED_LEAGUE_AGENCY,
        "item": "ADMIN_PENALTY",
        "category": "DISHONEST",
        "tier": "SERIOUS",
        "title": "越界开采矿产资源情节严重行政处罚决定",
        "decidedOn": phoenix.sanction_start,
        "document": document,
        "legalBasis": _MINERAL_LAW + "第四十条",
        "publishFrom": phoenix.sanction_start,
        "publishUntil": phoenix.sanction_end,
        "status": "PUBLISHED",
        "disclosure": "PUBLIC",
        "source": source,
    }
    sanction = {
        "kind": "Sanction",
        "id": phoenix.sanction,
        "subject": phoenix.sanctioned,
        "listing": "SERIOUS_DISHONESTY",
        "measures": list(phoenix.measures),
        "startDate": phoenix.sanction_start,
        "endDate": phoenix.sanction_end,
        "status": "ACTIVE",
        "authority": _PLANTED_LEAGUE_AGENCY,
        "basedOn": [phoenix.record],
        "disclosure": "PUBLIC",
        "source": source,
    }
    return [record, sanction]


def _planted_rows() -> Iterator[Row]:
    """The planted cases: fixed rows, no randomness, independent of the subject count."""
    for person in _planted_people():
        yield {
            "kind": "Person",
            "idNumber": person.number,
            "name": person.name,
            "source": _source(_PLANTED_AGENCY),
        }
    for subject in _planted_subjects():
        row = {
            "kind": "Subject",
            "creditCode": subject.code,
            "name": subject.name,
            "subjectKind": "COMPANY",
            "division": _PLANTED_DIVISION,
            "status": "ACTIVE",
            "registeredOn": subject.registered,
            "disclosure": "PUBLIC",
            "source": _source(_PLANTED_AGENCY),
        }
        yield _contacts(row, subject.phones, subject.addresses, subject.emails)
    yield from _planted_relations()
    yield from _planted_sanction_rows()
    phoenix = _PHOENIX
    for subject in _planted_subjects():
        sanctioned = subject.code == phoenix.sanctioned
        yield _rating(subject.code, _capped(_SCORE_START, sanctioned, False))
    bid = _relation(
        "PARTICIPATES_IN",
        {"subject": phoenix.new_company},
        {"project": phoenix.project},
        phoenix.bid_since,
        _PLANTED_AGENCY,
    )
    yield {**bid, "role": "BIDDER"}


PLANTED = Planted(
    min_subjects=PLANTED_MIN_SUBJECTS,
    phoenix=_PHOENIX,
    holding=_HOLDING,
    ring=_RING,
    hub_address=_HUB_ADDRESS,
    hub_phone=_HUB_PHONE,
    subjects=tuple(s.code for s in _planted_subjects()),
    persons=tuple(p.number for p in _planted_people()),
)


def hub_size(subjects: int) -> int:
    """How many subjects share each hub value: ~0.05%, at least 200 from 10,000 subjects."""
    if subjects >= 10_000:
        return max(_HUB_FLOOR_LARGE, round(subjects * _HUB_RATE))
    size = max(2, subjects // 50)
    return max(size, _HUB_FLOOR_MEDIUM) if subjects >= 1_000 else size


# --- the random part ------------------------------------------------------------------------------


class _Place(NamedTuple):
    banner: Division
    league: Division
    agency: str  # the banner's agency: registers the subject
    short: str  # banner short form for document numbers
    industries: _Weighted[_Industry]


class _Project(NamedTuple):
    id: str
    league: str
    started: int
    agency: str


def _industries(league: str) -> _Weighted[_Industry]:
    boost = _INDUSTRY_BOOST.get(league, {})
    return _Weighted(
        (industry, _INDUSTRY_WEIGHTS[industry.name] * boost.get(industry.name, 1.0))
        for industry in _MINING_INDUSTRIES + _OTHER_INDUSTRIES
    )


def _places() -> list[tuple[_Place, float]]:
    """Every banner with its weight: big economies and urban districts hold more subjects."""
    league_by_code = {league.code: league for league in leagues()}
    places = []
    for banner in banners():
        league = league_by_code[banner.code[:4] + "00"]
        weight = _LEAGUE_WEIGHT.get(league.code, 1.0)
        if banner.name.endswith("区"):
            weight *= _URBAN_WEIGHT
        place = _Place(
            banner=banner,
            league=league,
            agency=agency_code(banner.code),
            short=banner.name[:2],
            industries=_industries(league.code),
        )
        places.append((place, weight))
    return places


class _Draft(NamedTuple):
    """What is decided about a subject before any of its rows is written."""

    serial: int  # 0-based among the random subjects
    kind: _Kind
    place: _Place
    industry: _Industry
    registered: int  # day ordinal
    since: str  # registration day as ISO text
    year: int  # registration year
    code: str
    body: str  # organisation-code body: unique, so e-mail handles built on it are too
    name: str
    status: str
    branch_of: int | None  # position in the company pool of the head office
    succeeds: int | None  # subject position of the cancelled predecessor
    serious: bool
    abnormal: bool


class _Seeder:
    """State of one generation run: pools of what exists so later rows can refer to it."""

    def __init__(self, subjects: int, seed: int) -> None:
        self.rng = random.Random(seed)
        self.planted = subjects >= PLANTED.min_subjects
        self.count = subjects - len(PLANTED.subjects) if self.planted else subjects
        weighted_places = _places()
        self.places = _Weighted(weighted_places)
        self.hub_place = next(p for p, _w in weighted_places if p.banner.name == "赛罕区")
        self.birthplaces = _birthplaces()
        sample = self.rng.sample
        self.hub_addressed = set(sample(range(self.count), min(hub_size(subjects), self.count)))
        self.hub_phoned = set(sample(range(self.count), min(hub_size(subjects), self.count)))
        first = 1 if self.planted else 0  # planted rows take the first number of each kind
        self.project_no = self.record_no = self.sanction_no = first
        self.licence_no = 0
        self.projects: list[_Project] = []
        # Subjects, by position in generation order.
        self.codes: list[str] = []
        self.registered: list[int] = []
        self.org_codes: set[str] = {code[8:17] for code in PLANTED.subjects}
        self.companies: list[int] = []  # active companies: holders and bidders
        self.company_names: list[str] = []  # parallel to companies: branches take the name
        self.busy_companies: list[int] = []  # positions in companies, once per holding taken
        self.bidders: dict[str, list[int]] = {}  # league → active companies
        self.cancelled: list[int] = []
        self.recent: list[tuple[str, str]] = []  # own phone and address of recent subjects
        # People.
        self.person_ids: list[str] = []
        self.person_born: list[int] = []  # birth year
        self.person_load: list[int] = []  # roles held
        self.busy_people: list[int] = []  # one entry per role taken: rich get richer
        self.id_numbers: set[str] = set(PLANTED.persons)

    # -- top level --

    def rows(self) -> Iterator[Row]:
        yield from self._agencies()
        if self.planted:
            yield _planted_project()
        project_count = max(_MIN_PROJECTS, round(self.count * _PROJECTS_PER_SUBJECT))
        for _ in range(project_count):
            yield self._project()
        if self.planted:
            yield from _planted_rows()
        for serial in range(self.count):
            yield from self._subject(serial)
        for project in self.projects:
            yield from self._participation(project)

    def _agencies(self) -> Iterator[Row]:
        for unit in units():
            yield {
                "kind": "Agency",
                "code": unit.code,
                "name": unit.name,
                "level": unit.level.value,
                "division": unit.division,
            }

    def _project(self) -> Row:
        rng = self.rng
        place = self.places.pick(rng)
        kind = _PROJECT_KINDS.pick(rng)
        started = rng.randrange(_PROJECTS_FIRST, _REFERENCE)
        self.project_no += 1
        project = _Project(f"P-{self.project_no:08d}", place.league.code, started, place.agency)
        self.projects.append(project)
        year = _iso(started)[:4]
        return {
            "kind": "Project",
            "id": project.id,
            "name": f"{place.banner.name}{year}年{rng.choice(kind.labels)}项目",
            "projectKind": kind.code,
            "division": place.banner.code,
            "startedOn": _iso(started),
            "disclosure": "PUBLIC",
            "source": _source(place.agency),
        }

    # -- one subject --

    def _subject(self, serial: int) -> list[Row]:
        """All rows of one subject: new people, the subject, relations, licences, records."""
        draft = self._draft(serial)
        subject = self._subject_row(draft)
        people: list[Row] = []
        relations = self._people_relations(draft, people)
        rows = [*people, subject, *relations, *self._lineage(draft), *self._licences(draft)]
        score, serious_active, abnormal_active = self._records(rows, draft)
        rows.append(_rating(draft.code, _capped(score, serious_active, abnormal_active)))
        self._remember(draft, subject)
        return rows

    def _draft(self, serial: int) -> _Draft:
        """Decide who the subject is before writing anything about it."""
        rng = self.rng
        place = self.hub_place if serial in self.hub_addressed else self.places.pick(rng)
        kind = _KINDS.pick(rng)
        company = kind.kind == "COMPANY"
        market = company or kind.kind == "INDIVIDUAL_BUSINESS"
        serious = market and rng.random() < _SERIOUS_RATE
        abnormal = company and not serious and rng.random() < _ABNORMAL_RATE
        industry = self._industry(kind, place, abnormal)
        branch_of = self._branch_parent() if company else None
        succeeds = self._predecessor() if rng.random() < _SUCCESSOR_RATE else None
        earlier = [self.registered[self.companies[branch_of]]] if branch_of is not None else []
        if succeeds is not None:
            earlier.append(self.registered[succeeds])
        registered = self._registration(max(earlier, default=_REGISTRATION_FIRST - 30))
        code, body = self._credit_code(kind.prefix, place.banner.code, registered, market)
        if branch_of is None:
            name = self._name(kind, place, industry)
        else:
            name = f"{self.company_names[branch_of]}{place.banner.name}分公司"
        status = _STATUSES.pick(rng)
        since = _iso(registered)
        return _Draft(
            serial, kind, place, industry, registered, since, int(since[:4]), code, body, name,
            status, branch_of, succeeds, serious, abnormal,
        )  # fmt: skip

    def _industry(self, kind: _Kind, place: _Place, abnormal: bool) -> _Industry:
        """The trade: mining for abnormal filers, the league's mix for companies."""
        if abnormal:
            return self.rng.choice(_MINING_INDUSTRIES)
        if kind.kind == "COMPANY":
            return place.industries.pick(self.rng)
        if kind.kind == "INDIVIDUAL_BUSINESS":
            return self.rng.choice(_SHOP_TRADES)
        return _PUBLIC_BODY

    def _lineage(self, draft: _Draft) -> list[Row]:
        """BRANCH_OF its head office and SUCCEEDED_BY from its predecessor, when it has them."""
        rows = []
        me = {"subject": draft.code}
        agency = draft.place.agency
        if draft.branch_of is not None:
            head = {"subject": self.codes[self.companies[draft.branch_of]]}
            rows.append(_relation("BRANCH_OF", me, head, draft.since, agency))
        if draft.succeeds is not None:
            previous = {"subject": self.codes[draft.succeeds]}
            rows.append(_relation("SUCCEEDED_BY", previous, me, draft.since, agency))
        return rows

    def _remember(self, draft: _Draft, subject: Row) -> None:
        """Add the subject to the pools later subjects and projects draw from."""
        position = len(self.codes)
        self.codes.append(draft.code)
        self.registered.append(draft.registered)
        if draft.status == "CANCELLED":
            self.cancelled.append(position)
        if draft.kind.kind == "COMPANY" and draft.status == "ACTIVE" and draft.branch_of is None:
            self.companies.append(position)
            self.company_names.append(draft.name)
            self.bidders.setdefault(draft.place.league.code, []).append(position)
        serial = draft.serial
        if serial not in self.hub_addressed and serial not in self.hub_phoned:
            contact = (subject["phones"][0], subject["addresses"][0])
            if len(self.recent) < _RECENT_CONTACTS:
                self.recent.append(contact)
            else:
                self.recent[serial % _RECENT_CONTACTS] = contact

    def _registration(self, after: int) -> int:
        """Registration day a month or more after ``after``; recent days likelier."""
        low = min(after + 30, _REGISTRATION_LAST)
        return int(self.rng.triangular(low, _REGISTRATION_LAST, _REGISTRATION_LAST))

    def _branch_parent(self) -> int | None:
        """For ~1% of companies, the position in ``companies`` of their head office."""
        if not self.companies or self.rng.random() >= _BRANCH_RATE:
            return None
        return self.rng.randrange(len(self.companies))

    def _predecessor(self) -> int | None:
        """A cancelled subject that this one succeeds."""
        return self.rng.choice(self.cancelled) if self.cancelled else None

    def _credit_code(
        self, prefix: str, division: str, registered: int, market: bool
    ) -> tuple[str, str]:
        """A fresh credit code and its organisation body (unique organisation code)."""
        rng = self.rng
        while True:
            if market and registered >= _MA_ERA:
                body = "MA" + "".join(rng.choices(USCC_ALPHABET, k=6))
            else:
                body = f"{rng.randrange(100_000_000):08d}"
            org = organisation_code(body)
            if org not in self.org_codes:
                self.org_codes.add(org)
                first17 = prefix + division + org
                return first17 + uscc_check_char(first17), body

    def _name(self, kind: _Kind, place: _Place, industry: _Industry) -> str:
        rng = self.rng
        if kind.kind == "INSTITUTION":
            return place.banner.name + rng.choice(_INSTITUTIONS)
        if kind.kind == "RURAL_COLLECTIVE":
            unit = ("嘎查", "村") if kind.prefix == "N2" else ("苏木", "镇")
            return f"{place.banner.name}{rng.choice(_VILLAGES)}{rng.choice(unit)}股份经济合作社"
        trade = rng.choice(_TRADE_CHARS) + rng.choice(_TRADE_CHARS)
        if kind.kind == "OTHER":
            return place.banner.name + trade + rng.choice(_OTHER_ORGS)
        if kind.kind == "INDIVIDUAL_BUSINESS":
            return f"{place.banner.name}{trade}{industry.name}（个体工商户）"
        draw = rng.random()
        if draw < _MARKET_PLACE_RATE:
            prefix = "内蒙古"
        elif draw < (1 + _MARKET_PLACE_RATE) / 2:
            prefix = place.league.name
        else:
            prefix = place.banner.name
        return prefix + trade + industry.name + _COMPANY_FORMS.pick(rng)

    def _subject_row(self, draft: _Draft) -> Row:
        rng = self.rng
        place = draft.place
        phones, addresses = self._phones_addresses(draft.serial, place)
        emails = []
        if draft.kind.kind == "COMPANY" and rng.random() < _EMAIL_RATE:
            handle = rng.choice(_EMAIL_HANDLES)
            emails.append(f"{handle}{draft.body.lower()}@{rng.choice(_EMAIL_DOMAINS)}")
        row = {
            "kind": "Subject",
            "creditCode": draft.code,
            "name": draft.name,
            "subjectKind": draft.kind.kind,
            "division": place.banner.code,
            "status": draft.status,
            "registeredOn": draft.since,
            "disclosure": "PUBLIC",
            "source": _source(place.agency),
        }
        return _contacts(row, phones, addresses, emails)

    def _phones_addresses(self, serial: int, place: _Place) -> tuple[list[str], list[str]]:
        """Own contacts, a hub value for hub members, or one copied from a recent subject."""
        rng = self.rng
        phones = [self._phone(place)]
        if rng.random() < _SECOND_PHONE_RATE:
            phones.append(self._phone(place))
        addresses = [self._address(place, f"{rng.randrange(1, 31)}号楼")]
        hub_phone, hub_address = serial in self.hub_phoned, serial in self.hub_addressed
        if hub_phone:
            phones = [PLANTED.hub_phone]
        if hub_address:
            addresses = [PLANTED.hub_address]
        if hub_phone or hub_address or not self.recent or rng.random() >= _SHARED_CONTACT_RATE:
            return phones, addresses
        phone, address = rng.choice(self.recent)
        if rng.random() < 0.5:
            return [phone], addresses
        return phones, [address]

    def _phone(self, place: _Place) -> str:
        rng = self.rng
        if rng.random() < _LANDLINE_RATE:
            area = _AREA_CODES[place.league.code]
            return f"{area}-{rng.randrange(_LANDLINE_LOW, _LANDLINE_HIGH)}"
        return f"{rng.choice(_MOBILE_PREFIXES)}{rng.randrange(100_000_000):08d}"

    def _address(self, place: _Place, building: str) -> str:
        rng = self.rng
        street = rng.choice(_STREETS)
        room = rng.randrange(1, 30) * 100 + rng.randrange(1, 20)
        number = rng.randrange(1, 999)
        return f"{place.league.name}{place.banner.name}{street}{number}号{building}{room}室"

    # -- people and who they are to the subject --

    def _people_relations(self, draft: _Draft, people: list[Row]) -> list[Row]:
        """Legal representative, shareholders and officers; new people go into ``people``."""
        rng = self.rng
        place, target = draft.place, {"subject": draft.code}
        rep = self._person(_REP_ODDS, draft.year, place, people)
        representative = {"person": self.person_ids[rep]}
        relations = [
            _relation("LEGAL_REPRESENTATIVE_OF", representative, target, draft.since, place.agency)
        ]
        if draft.kind.kind != "COMPANY":
            return relations
        if draft.branch_of is None:  # a branch has no shareholders: its head office does
            relations.extend(self._shareholders(draft, rep, people))
        officers: set[int] = set()
        for _ in range(_OFFICER_COUNTS.pick(rng)):
            officer = self._person(_OFFICER_ODDS, draft.year, place, people)
            if officer in officers:
                continue
            officers.add(officer)
            person = {"person": self.person_ids[officer]}
            row = _relation("OFFICER_OF", person, target, draft.since, place.agency)
            row["role"] = rng.choice(_OFFICER_ROLES)
            relations.append(self._maybe_ended(row, draft.registered))
        return relations

    def _shareholders(self, draft: _Draft, rep: int, people: list[Row]) -> list[Row]:
        """1-5 holders (people or earlier companies) whose shares sum to at most 1."""
        holders: dict[str, tuple[dict[str, str], int]] = {}  # key → endpoint, since
        for slot in range(_HOLDER_COUNTS.pick(self.rng)):
            endpoint, since = self._holder(slot, rep, draft, people)
            holders.setdefault(next(iter(endpoint.values())), (endpoint, since))
        rows = []
        shares = self._split(len(holders))
        for (endpoint, since), basis_points in zip(holders.values(), shares, strict=True):
            target = {"subject": draft.code}
            row = _relation("SHAREHOLDER_OF", endpoint, target, _iso(since), draft.place.agency)
            row["share"] = basis_points / 10_000
            rows.append(self._maybe_ended(row, since))
        return rows

    def _holder(
        self, slot: int, rep: int, draft: _Draft, people: list[Row]
    ) -> tuple[dict[str, str], int]:
        """One shareholder and the day its holding starts (not before the holder exists)."""
        rng = self.rng
        if slot == 0 and rng.random() < _REP_IS_HOLDER_RATE:
            return {"person": self.person_ids[rep]}, draft.registered
        if self.companies and rng.random() < _CORPORATE_HOLDER_RATE:
            if self.busy_companies and rng.random() < _BUSY_HOLDER_RATE:
                position = rng.choice(self.busy_companies)  # groups keep buying
            else:
                position = rng.randrange(len(self.companies))
            self.busy_companies.append(position)
            subject = self.companies[position]
            since = max(draft.registered, self.registered[subject] + 30)
            return {"subject": self.codes[subject]}, min(since, _REFERENCE - 1)
        person = self._person(_HOLDER_ODDS, draft.year, draft.place, people)
        return {"person": self.person_ids[person]}, draft.registered

    def _split(self, parts: int) -> list[int]:
        """``parts`` positive basis-point shares summing to at most 10,000 (often exactly)."""
        rng = self.rng
        total = 10_000 if rng.random() < 0.8 else rng.randrange(5_000, 10_000)
        cuts = sorted(rng.sample(range(1, total), parts - 1))
        bounds = [0, *cuts, total]
        return [bounds[i + 1] - bounds[i] for i in range(parts)]

    def _maybe_ended(self, row: Row, since: int) -> Row:
        rng = self.rng
        if rng.random() < _ENDED_RELATION_RATE:
            until = since + rng.randrange(365, 3650)
            if until < _REFERENCE:
                row["until"] = _iso(until)
        return row

    def _person(self, odds: _PersonOdds, year: int, place: _Place, people: list[Row]) -> int:
        """A person for a role: often someone known (heavy tail), else a new adult."""
        rng = self.rng
        draw = rng.random()
        if self.person_ids and draw >= odds.new:
            if draw < odds.new + odds.busy and self.busy_people:
                person = rng.choice(self.busy_people)
            else:
                person = rng.randrange(len(self.person_ids))
            adult = self.person_born[person] <= year - _ADULT_AGE
            if adult and self.person_load[person] < _PERSON_LOAD_CAP:
                self.person_load[person] += 1
                self.busy_people.append(person)
                return person
        return self._new_person(min(_BIRTH_LAST_YEAR, year - _ADULT_AGE), place, people)

    def _new_person(self, latest_year: int, place: _Place, people: list[Row]) -> int:
        rng = self.rng
        born = rng.randint(_BIRTH_FIRST_YEAR, max(_BIRTH_FIRST_YEAR, latest_year))
        male = rng.random() < _MALE_RATE
        while True:
            birthday = rng.randrange(date(born, 1, 1).toordinal(), date(born + 1, 1, 1).toordinal())
            sequence = rng.randrange(500) * 2 + (1 if male else 0)
            birthplace = rng.choice(self.birthplaces[born])
            number = resident_number(birthplace, _iso(birthday).replace("-", ""), sequence)
            if number not in self.id_numbers:
                break
        self.id_numbers.add(number)
        person = len(self.person_ids)
        self.person_ids.append(number)
        self.person_born.append(born)
        self.person_load.append(1)
        self.busy_people.append(person)
        row: Row = {"kind": "Person", "idNumber": number, "name": self._person_name(male)}
        phones = [self._phone(place)] if rng.random() < _PERSON_PHONE_RATE else []
        addresses = []
        if rng.random() < _PERSON_ADDRESS_RATE:
            addresses.append(
                self._address(place, f"{rng.randrange(1, 31)}栋{rng.randrange(1, 7)}单元")
            )
        _contacts(row, phones, addresses, [])
        row["source"] = _source(place.agency)
        people.append(row)
        return person

    def _person_name(self, male: bool) -> str:
        rng = self.rng
        if rng.random() < _MONGOLIAN_NAME_RATE:
            return rng.choice(_MONGOLIAN_MALE if male else _MONGOLIAN_FEMALE)
        given = _MALE_GIVEN if male else _FEMALE_GIVEN
        name = _SURNAMES.pick(rng) + rng.choice(given)
        return name + rng.choice(given) if rng.random() < 0.7 else name

    # -- licences, records, sanctions --

    def _licences(self, draft: _Draft) -> list[Row]:
        rng = self.rng
        licences = draft.industry.licences
        kinds = [rng.choice(licences) for _ in range(_LICENCE_COUNTS.pick(rng))]
        if draft.abnormal and not any(kind in _MINERAL_LICENCES for kind in kinds):
            kinds.append(rng.choice(_MINERAL_LICENCES))  # a filing duty needs a mineral right
        return [self._licence(draft, kind) for kind in kinds]

    def _licence(self, draft: _Draft, kind: str) -> Row:
        rng = self.rng
        place, registered = draft.place, draft.registered
        spec = _LICENCE_SPECS[kind]
        by_league = spec.issuer_level == "LEAGUE" or rng.random() >= _BANNER_AGENCY_RATE
        issuer = place.league if by_league else place.banner
        issued = rng.randrange(min(registered + 30, _REFERENCE - 1), _REFERENCE)
        self.licence_no += 1
        return {
            "kind": "Licence",
            "id": f"L-{self.licence_no:08d}",
            "licenceKind": kind,
            "number": self._licence_number(kind, issuer, issued),
            "holder": draft.code,
            "issuer": agency_code(issuer.code),
            "issuedOn": _iso(issued),
            "validUntil": _iso(_plus_years(issued, rng.choice(spec.terms))),
            "disclosure": "PUBLIC",
            "source": _source(agency_code(issuer.code)),
        }

    def _licence_number(self, kind: str, issuer: Division, issued: int) -> str:
        """Numbers in the shape each licence kind uses in practice."""
        rng = self.rng
        year, month = _iso(issued)[:4], _iso(issued)[5:7]
        serial = rng.randrange(1, 10_000)
        if kind == "MINING":
            return f"C{issuer.code}{year}{month}11{year}{serial:04d}"
        if kind == "EXPLORATION":
            return f"T{issuer.code}{year}{month}02{year}{serial:04d}"
        if kind == "LAND_USE":
            return f"蒙({year}){issuer.name}不动产权第{rng.randrange(1, 10_000_000):07d}号"
        if kind == "SURVEYING":
            return f"{rng.choice('甲乙丙丁')}测资字15{rng.randrange(1_000_000):06d}"
        return f"蒙地灾资证字〔{year}〕{serial:04d}号"

    def _records(self, rows: list[Row], draft: _Draft) -> tuple[int, bool, bool]:
        """Append records and sanctions; return the score and which listings are active.

        The score counts PUBLISHED records only: pending ones are not yet in force, expired
        and repaired ones no longer are.
        """
        rng = self.rng
        score = _SCORE_START
        for _ in range(_RECORD_COUNTS.pick(rng)):
            record = self._ordinary_record(draft)
            rows.append(record)
            if record["status"] == "PUBLISHED":
                weight: str = record["tier"] if "tier" in record else record["category"]
                score += _SCORE_DELTA.get(weight, 0)
        serious_active = abnormal_active = False
        if draft.serious:
            serious_active = self._serious(rows, draft)
        if draft.abnormal:
            abnormal_active = self._abnormal(rows, draft)
            score += _SCORE_DELTA["GENERAL"] if abnormal_active else 0
        return score, serious_active, abnormal_active

    def _record(
        self, draft: _Draft, item: _Item, tier: str | None, agency: Division, decided: int,
        status: str, disclosure: str,
    ) -> Row:  # fmt: skip
        """A record; dishonest ones are published for their tier's term from the decision."""
        rng = self.rng
        self.record_no += 1
        agency_id = agency_code(agency.code)
        document = self._document(item, agency, draft.place, decided)
        row: Row = {
            "kind": "CreditRecord",
            "id": f"R-{self.record_no:08d}",
            "subject": draft.code,
            "agency": agency_id,
            "item": item.code,
            "category": item.category,
        }
        if tier is not None:
            row["tier"] = tier
        row.update(
            title=rng.choice(item.titles),
            decidedOn=_iso(decided),
            document=document,
            legalBasis=rng.choice(item.bases),
            publishFrom=_iso(decided),
        )
        if tier is not None:
            row["publishUntil"] = _iso(_plus_months(decided, _TERM_MONTHS[tier]))
        row["status"] = status
        row["disclosure"] = disclosure
        row["source"] = {
            "agency": agency_id,
            "document": document,
            "decidedOn": _iso(decided),
            "system": SYSTEM,
        }
        return row

    def _ordinary_record(self, draft: _Draft) -> Row:
        rng = self.rng
        item = _ORDINARY_ITEMS.pick(rng)
        tier = None
        if item.category == "DISHONEST":
            minor = rng.random() < _MINOR_RATE
            # Only items the catalogue lets be minor (land and court items start at GENERAL).
            tier = (
                "MINOR" if minor and "MINOR" in default_catalogue()[item.code].tiers else "GENERAL"
            )
        pending = rng.random() < _PENDING_RATE
        first = _PENDING_FROM if pending else max(draft.registered, _RECORDS_FIRST)
        decided = rng.randrange(first, _REFERENCE)
        place = draft.place
        agency = place.banner if rng.random() < _BANNER_AGENCY_RATE else place.league
        if pending:
            status = "PENDING"
        elif tier is not None and _plus_months(decided, _TERM_MONTHS[tier]) <= _REFERENCE:
            status = "EXPIRED"
        else:
            status = "PUBLISHED"
        disclosure = _DISCLOSURES.pick(rng)
        return self._record(draft, item, tier, agency, decided, status, disclosure)

    def _document(self, item: _Item, agency: Division, place: _Place, decided: int) -> str:
        year = _iso(decided)[:4]
        number = self.rng.randrange(1, 300)
        if not item.document:
            return f"（{year}）蒙{place.banner.code[2:]}执{number}号"
        short = place.short if agency.code == place.banner.code else _LEAGUE_SHORT[agency.code]
        return f"{short}自然资{item.document}〔{year}〕{number}号"

    def _serious(self, rows: list[Row], draft: _Draft) -> bool:
        """A SERIOUS record and the serious-dishonesty listing based on it; True if active."""
        rng = self.rng
        decided = rng.randrange(max(draft.registered, _RECORDS_FIRST), _REFERENCE)
        end = _plus_years(decided, _SERIOUS_TERM_YEARS)
        active = end > _REFERENCE
        item = rng.choice(_SERIOUS_ITEMS)
        status = "PUBLISHED" if active else "EXPIRED"
        # Serious-dishonesty lists are published, so their records are PUBLIC.
        league = draft.place.league
        record = self._record(draft, item, "SERIOUS", league, decided, status, "PUBLIC")
        measures = rng.sample(_SERIOUS_MEASURES, rng.randint(2, 4))
        rows.append(record)
        listed = "ACTIVE" if active else "ENDED"
        rows.append(self._sanction(record, "SERIOUS_DISHONESTY", measures, end, listed))
        return active

    def _abnormal(self, rows: list[Row], draft: _Draft) -> bool:
        """A mining-filing abnormality and its listing, corrected in some cases; True if active."""
        rng = self.rng
        decided = rng.randrange(max(draft.registered, _ABNORMAL_FIRST), _REFERENCE)
        item = _ITEMS["MINING_FILING_ABNORMAL"]
        if rng.random() < _REPAIRED_RATE:
            end = min(decided + rng.randrange(30, 300), _REFERENCE - 1)
            active, status, listed = False, "REPAIRED", "REPAIRED"
        else:
            end = _plus_years(decided, _ABNORMAL_TERM_YEARS)
            active = end > _REFERENCE
            status = "PUBLISHED" if active else "EXPIRED"
            listed = "ACTIVE" if active else "ENDED"
        league = draft.place.league
        record = self._record(draft, item, "GENERAL", league, decided, status, "PUBLIC")
        rows.append(record)
        measures = list(_ABNORMAL_MEASURES)
        rows.append(self._sanction(record, "ABNORMAL_OPERATION", measures, end, listed))
        return active

    def _sanction(
        self, record: Row, listing: str, measures: list[str], end: int, status: str
    ) -> Row:
        self.sanction_no += 1
        return {
            "kind": "Sanction",
            "id": f"S-{self.sanction_no:08d}",
            "subject": record["subject"],
            "listing": listing,
            "measures": measures,
            "startDate": record["decidedOn"],
            "endDate": _iso(end),
            "status": status,
            "authority": record["agency"],
            "basedOn": [record["id"]],
            "disclosure": "PUBLIC",
            "source": record["source"],
        }

    # -- projects --

    def _participation(self, project: _Project) -> Iterator[Row]:
        """3-8 bidders of the league registered before the bid, a contractor, maybe a supervisor."""
        rng = self.rng
        bid = project.started - rng.randrange(15, 60)
        chosen = self._bidders(project.league, bid, rng.randint(*_BIDDERS))
        target = {"project": project.id}
        for candidate in chosen:
            row = _relation("PARTICIPATES_IN", {"subject": self.codes[candidate]}, target,
                            _iso(bid), project.agency)  # fmt: skip
            yield {**row, "role": "BIDDER"}
        if not chosen:
            return
        awarded = _iso(min(bid + rng.randrange(15, 45), _REFERENCE - 1))
        contractor = {"subject": self.codes[rng.choice(chosen)]}
        row = _relation("PARTICIPATES_IN", contractor, target, awarded, project.agency)
        yield {**row, "role": "CONTRACTOR"}
        supervisor = rng.choice(self.companies)
        fresh = supervisor not in chosen and self.registered[supervisor] < bid
        if rng.random() < _SUPERVISOR_RATE and fresh:
            row = _relation("PARTICIPATES_IN", {"subject": self.codes[supervisor]}, target,
                            awarded, project.agency)  # fmt: skip
            yield {**row, "role": "SUPERVISOR"}

    def _bidders(self, league: str, bid: int, wanted: int) -> list[int]:
        """Up to ``wanted`` active companies registered before the bid, local ones first."""
        rng = self.rng
        chosen: list[int] = []
        for pool in (self.bidders.get(league, []), self.companies):
            draws = wanted * _BIDDER_DRAWS if pool else 0
            for _ in range(draws):
                candidate = rng.choice(pool)
                if self.registered[candidate] < bid and candidate not in chosen:
                    chosen.append(candidate)
                    if len(chosen) == wanted:
                        return chosen
        return chosen


def generate(subjects: int, seed: int) -> Iterator[Row]:
    """Stream the rows of a graph of ``subjects`` subjects; same arguments, same rows."""
    if subjects < 0:
        raise ValueError("subjects must not be negative")
    yield from _Seeder(subjects, seed).rows()


__all__ = [
    "PLANTED",
    "Planted",
    "PlantedHolding",
    "PlantedPhoenix",
    "PlantedRing",
    "agency_code",
    "credit_code",
    "generate",
    "hub_size",
    "organisation_code",
    "resident_number",
]
