"""The vocabulary of generated rows, and how often each word or kind is drawn.

Surnames and given names, trade words and industries, kinds of subject, credit catalogue items
with their titles and legal bases, licence and project kinds.
"""

from __future__ import annotations

from typing import NamedTuple

from demo.odds import SERIOUS_TERM_YEARS, Weighted

SURNAMES = Weighted(
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
MALE_GIVEN = tuple(
    "伟强磊军勇杰涛斌超明刚平辉鹏华飞鑫波宇浩凯健俊帆旭宁龙林阳建国峰亮成东文志海春晓永庆金宝荣喜福"
)
FEMALE_GIVEN = tuple("芳娜敏静丽艳娟霞秀英玲桂兰燕萍红梅琳洁婷雪慧颖倩丹玉月莉晶欣佳瑶蕾璐琴凤")
MONGOLIAN_MALE = ("巴特尔", "额尔敦", "苏和", "乌力吉", "格日勒图", "朝鲁", "毕力格", "那顺",
                   "孟和", "阿拉坦仓", "巴雅尔", "布和", "特木尔", "宝音", "达来")  # fmt: skip
MONGOLIAN_FEMALE = ("其其格", "乌云", "萨仁", "斯琴", "塔娜", "娜仁花", "高娃", "托娅",
                     "乌日娜", "图雅", "阿茹娜", "其木格")  # fmt: skip

# Characters of shop names (字号), about 200, duplicates removed in order.
TRADE_CHARS = tuple(
    dict.fromkeys(
        "鑫源泰华盛恒达通瑞祥丰隆兴宏伟金荣昌汇德顺安嘉利诚信远博新中天正宇鼎辉光明晟昊浩海峰聚合"
        "益广永福富康乾坤方圆仁和佳凯旭腾跃晨润泽森林川山石岩磊晶钰铭锦绣骏驰蒙草原北疆牧驼鹰雄豪"
        "杰英茂成建立创联万千百亿佰仟元亨贞美良友邦国民力科技智慧思维宝玉银铜铁钢能电风云雨霞虹星"
        "月日阳春秋冬夏东西南蓝青绿紫赤黄白黑红龙凤麒麟虎豹狮象鹏鸿雁骅骐飞翔征途路桥城楼图志义礼"
        "忠厚载物众赢锐亚泓淼焱垚鸣岳峻嵘翰墨巍帝豪悦晖璟琨瀚"
    )
)


class Industry(NamedTuple):
    name: str
    licences: tuple[str, ...]  # licence kinds a subject of this trade plausibly holds


MINING_INDUSTRIES = (
    Industry("矿业", ("MINING", "MINING", "EXPLORATION", "LAND_USE")),
    Industry("煤业", ("MINING", "MINING", "LAND_USE")),
    Industry("稀土", ("MINING", "EXPLORATION")),
    Industry("地质勘查", ("EXPLORATION", "GEOLOGICAL")),
)
OTHER_INDUSTRIES = (
    Industry("测绘", ("SURVEYING",)),
    Industry("土地开发", ("LAND_USE",)),
    Industry("建筑工程", ("LAND_USE", "GEOLOGICAL")),
    Industry("房地产开发", ("LAND_USE",)),
    Industry("工程咨询", ("SURVEYING", "GEOLOGICAL")),
    Industry("环境治理", ("GEOLOGICAL",)),
    Industry("建材", ("LAND_USE", "MINING")),
    Industry("商贸", ("LAND_USE",)),
)
INDUSTRY_WEIGHTS = {
    "矿业": 10, "煤业": 6, "稀土": 1, "地质勘查": 5, "测绘": 7, "土地开发": 6, "建筑工程": 14,
    "房地产开发": 9, "工程咨询": 8, "环境治理": 5, "建材": 9, "商贸": 20,
}  # fmt: skip
# Where a trade concentrates: coal in Ordos and Wuhai, rare earths in Baotou.
INDUSTRY_BOOST = {"150600": {"煤业": 6.0}, "150300": {"煤业": 4.0}, "150200": {"稀土": 15.0}}
COMPANY_FORMS = Weighted((("有限公司", 0.6), ("有限责任公司", 0.3), ("股份有限公司", 0.1)))
SHOP_TRADES = (
    Industry("建材经销部", ("LAND_USE",)),
    Industry("砂石料场", ("MINING",)),
    Industry("测绘服务部", ("SURVEYING",)),
    Industry("五金建材店", ("LAND_USE",)),
    Industry("土方工程队", ("LAND_USE",)),
)
PUBLIC_BODY = Industry("", ("LAND_USE",))  # institutions, collectives: land at most
INSTITUTIONS = (
    "自然资源调查监测中心", "土地储备中心", "不动产登记中心", "地质环境监测站",
    "国土空间规划研究院", "测绘院", "矿产资源储量评审中心", "自然资源综合行政执法大队",
)  # fmt: skip
VILLAGES = (
    "巴彦", "乌兰", "查干", "宝力格", "哈达", "额尔敦", "新艾里", "胜利", "永丰", "红旗", "联合",
    "前进", "团结", "和平", "双泉", "德力格尔", "锡林", "阿拉坦", "呼和", "哈日", "白音", "敖包",
)  # fmt: skip
OTHER_ORGS = ("土地估价事务所", "矿业协会", "测绘地理信息学会", "地质学会")
MARKET_PLACE_RATE = 0.2  # share of market names that start with 内蒙古 rather than a place

STREETS = (
    "新华大街", "中山路", "锡林郭勒南路", "昭乌达路", "鄂尔多斯大街", "大学西街", "成吉思汗大街",
    "兴安南大街", "人民路", "解放路", "建设路", "团结路", "和平路", "文化路", "民族街", "友谊大街",
    "光明路", "迎宾路", "新城街", "东风路", "滨河路", "北京路", "胜利路", "学府路", "工业路",
    "钢铁大街", "阿尔丁大街", "哈达街", "天骄路", "乌兰察布大街", "科尔沁大街", "红山路",
)  # fmt: skip
AREA_CODES = {
    "150100": "0471", "150200": "0472", "150300": "0473", "150400": "0476", "150500": "0475",
    "150600": "0477", "150700": "0470", "150800": "0478", "150900": "0474", "152200": "0482",
    "152500": "0479", "152900": "0483",
}  # fmt: skip
LANDLINE_LOW, LANDLINE_HIGH = 2_000_000, 8_000_000  # planted and hub numbers lie above
MOBILE_PREFIXES = tuple(f"1{a}{b}" for a in "358" for b in "0123456789")
EMAIL_HANDLES = ("", "info.", "office.", "hr.", "nmg.")
EMAIL_DOMAINS = ("163.com", "126.com", "sina.com", "aliyun.com")
# Short forms of agencies in document numbers (内自然资罚〔2021〕12号).
LEAGUE_SHORT = {
    "150100": "呼", "150200": "包", "150300": "乌海", "150400": "赤", "150500": "通",
    "150600": "鄂", "150700": "呼伦贝尔", "150800": "巴", "150900": "乌", "152200": "兴",
    "152500": "锡", "152900": "阿",
}  # fmt: skip

# League weights for where subjects and projects are: the three big economies are larger.
LEAGUE_WEIGHT = {"150100": 3.0, "150200": 3.0, "150600": 3.0, "150400": 1.5, "150500": 1.2}
URBAN_WEIGHT = 1.5  # districts (…区) hold more firms than rural banners


class Kind(NamedTuple):
    prefix: str  # registration authority and entity type: first two characters of the code
    kind: str


KINDS = Weighted(
    (
        (Kind("91", "COMPANY"), 0.78),
        (Kind("92", "INDIVIDUAL_BUSINESS"), 0.12),
        (Kind("12", "INSTITUTION"), 0.05),
        (Kind("N2", "RURAL_COLLECTIVE"), 0.02),
        (Kind("N3", "RURAL_COLLECTIVE"), 0.01),
        (Kind("Y1", "OTHER"), 0.02),
    )
)
STATUSES = Weighted((("ACTIVE", 0.88), ("REVOKED", 0.05), ("CANCELLED", 0.07)))
HOLDER_COUNTS = Weighted(((1, 0.45), (2, 0.30), (3, 0.15), (4, 0.07), (5, 0.03)))
OFFICER_COUNTS = Weighted(((0, 0.6), (1, 0.2), (2, 0.12), (3, 0.08)))
OFFICER_ROLES = ("DIRECTOR", "SUPERVISOR", "MANAGER", "CHAIR")
LICENCE_COUNTS = Weighted(((0, 0.78), (1, 0.16), (2, 0.05), (3, 0.01)))
RECORD_COUNTS = Weighted(
    ((0, 0.34), (1, 0.27), (2, 0.17), (3, 0.11), (4, 0.06), (5, 0.03), (6, 0.02))
)
DISCLOSURES = Weighted(
    (("PUBLIC", 0.60), ("SHARED", 0.25), ("RESTRICTED", 0.12), ("CONFIDENTIAL", 0.03))
)
MINOR_RATE = 0.55  # ordinary dishonest records: MINOR, else GENERAL
SERIOUS_MEASURES = (
    "PROCUREMENT_EXCLUDED",
    "BID_RESTRICTED",
    "LAND_AUCTION_BARRED",
    "MINING_RIGHT_BARRED",
    "LOAN_REVIEW",
    "SUBSIDY_REFUSED",
    "KEY_INSPECTION",
)
ABNORMAL_MEASURES = ["KEY_INSPECTION", "MINING_RIGHT_BARRED"]


class Item(NamedTuple):
    """A credit catalogue item: how its records are classified, titled, numbered and based."""

    code: str
    category: str
    document: str  # kind character of the document number; "" means a court case number
    titles: tuple[str, ...]
    bases: tuple[str, ...]


_LAND_LAW = "《中华人民共和国土地管理法》"
MINERAL_LAW = "《中华人民共和国矿产资源法》"
ITEMS = {
    item.code: item
    for item in (
        Item("REGISTRATION", "BASIC", "登", ("企业登记基本信息", "不动产登记信息"),
              ("《不动产登记暂行条例》第十四条", "《中华人民共和国市场主体登记管理条例》第八条")),
        Item("ADMIN_LICENCE", "BASIC", "许",
              ("建设用地规划许可", "采矿权延续登记", "探矿权新立登记", "测绘资质审批"),
              ("《中华人民共和国行政许可法》第三十八条", MINERAL_LAW + "第三条")),
        Item("ADMIN_PENALTY", "DISHONEST", "罚",
              ("非法占用土地行政处罚决定", "未经批准擅自采矿行政处罚决定",
               "越界开采矿产资源行政处罚决定", "破坏耕地行政处罚决定",
               "测绘成果质量不合格行政处罚决定"),
              (_LAND_LAW + "第七十七条", _LAND_LAW + "第七十五条", MINERAL_LAW + "第三十九条",
               MINERAL_LAW + "第四十条", "《中华人民共和国测绘法》第六十三条")),
        Item("LAND_CONTRACT_BREACH", "DISHONEST", "函",
              ("未按出让合同约定期限动工开发", "未按期缴纳土地出让价款", "擅自改变土地用途"),
              ("《中华人民共和国城镇国有土地使用权出让和转让暂行条例》第十四条",
               _LAND_LAW + "第五十六条")),
        Item("IDLE_LAND", "DISHONEST", "闲", ("闲置土地认定", "闲置土地处置决定"),
              ("《闲置土地处置办法》第十四条", _LAND_LAW + "第三十八条")),
        Item("MINING_FILING_ABNORMAL", "DISHONEST", "异",
              ("未按期报送矿业权人勘查开采信息", "公示信息隐瞒真实情况、弄虚作假"),
              ("《矿业权人勘查开采信息公示办法（试行）》第十二条",)),
        Item("SURVEYING_MARKET_CREDIT", "BASIC", "测", ("测绘地理信息市场信用评价",),
              ("《测绘地理信息市场信用管理暂行办法》第十条",)),
        Item("PROJECT_PERFORMANCE", "TRUSTWORTHY", "评",
              ("土地整治项目履约评价优良", "矿山生态修复项目履约评价优良"),
              ("《土地复垦条例》第十七条",)),
        Item("COMMENDATION", "TRUSTWORTHY", "发",
              ("自然资源系统先进集体表彰", "绿色矿山名录遴选", "守合同重信用企业公示"),
              ("《国务院关于建立完善守信联合激励和失信联合惩戒制度加快推进社会诚信建设的指导意见》",)),
        Item("COURT_JUDGMENT", "DISHONEST", "", ("拒不履行生效判决", "失信被执行人"),
              ("《中华人民共和国民事诉讼法》第二百六十二条",)),
        Item("CREDIT_COMMITMENT", "TRUSTWORTHY", "诺", ("行政许可信用承诺", "矿业权出让信用承诺"),
              ("《国务院办公厅关于加快推进社会信用体系建设构建以信用为基础的新型监管机制的指导意见》",)),
    )
}  # fmt: skip
ORDINARY_ITEMS = Weighted(
    (ITEMS[code], weight)
    for code, weight in (
        ("REGISTRATION", 18), ("ADMIN_LICENCE", 18), ("CREDIT_COMMITMENT", 14),
        ("COMMENDATION", 5), ("PROJECT_PERFORMANCE", 6), ("SURVEYING_MARKET_CREDIT", 5),
        ("ADMIN_PENALTY", 16), ("LAND_CONTRACT_BREACH", 5), ("IDLE_LAND", 5),
        ("COURT_JUDGMENT", 5), ("MINING_FILING_ABNORMAL", 3),
    )
)  # fmt: skip
SERIOUS_ITEMS = tuple(
    ITEMS[code] for code in ("ADMIN_PENALTY", "LAND_CONTRACT_BREACH", "IDLE_LAND", "COURT_JUDGMENT")
)
TERM_MONTHS = {"MINOR": 3, "GENERAL": 12, "SERIOUS": 12 * SERIOUS_TERM_YEARS}


class _LicenceSpec(NamedTuple):
    issuer_level: str  # "LEAGUE", or "BANNER" (the banner office mostly, else the league)
    terms: tuple[int, ...]  # possible validity in years


LICENCE_SPECS = {
    "LAND_USE": _LicenceSpec("BANNER", (40, 50, 70)),
    "MINING": _LicenceSpec("LEAGUE", (10, 15, 20, 30)),
    "EXPLORATION": _LicenceSpec("LEAGUE", (5,)),
    "SURVEYING": _LicenceSpec("LEAGUE", (5,)),
    "GEOLOGICAL": _LicenceSpec("LEAGUE", (5,)),
}
MINERAL_LICENCES = ("MINING", "EXPLORATION")


class _ProjectKind(NamedTuple):
    code: str
    labels: tuple[str, ...]


PROJECT_KINDS = Weighted(
    (
        (_ProjectKind("LAND_CONSOLIDATION", ("土地整治", "高标准农田建设", "土地复垦")), 0.35),
        (_ProjectKind("MINE_RESTORATION", ("历史遗留矿山生态修复", "废弃矿山地质环境治理")), 0.2),
        (_ProjectKind("SURVEY", ("地籍调查", "国土变更调查", "不动产测绘")), 0.2),
        (_ProjectKind("GEOLOGICAL_HAZARD", ("地质灾害综合治理", "地质灾害隐患点排查")), 0.15),
        (_ProjectKind("CONSTRUCTION", ("自然资源业务用房建设", "土地储备基础设施建设")), 0.1),
    )
)
BIDDERS = (3, 8)
BIDDER_DRAWS = 4  # tries per wanted bidder and pool: few companies predate early projects
