"""The printable joint-sanction recommendation (联合惩戒建议函) for partners not yet connected:
an official letter in Chinese, as a PDF, addressed to the partner organisation, stating the
subject, the facts, the determination, the legal basis and the measures asked of the partner's
kind, and signed (落款) by the sending unit with the date.

reportlab sets it with the Adobe CID font STSong-Light, which PDF readers supply, so no font
file ships with the hub.
"""

from __future__ import annotations

import io
from datetime import date
from typing import Any

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from policies.credit.listings import NAMES
from policies.credit.measures import Catalogue
from policies.divisions import find_division
from policies.units import units_by_code

FONT = "STSong-Light"
pdfmetrics.registerFont(UnicodeCIDFont(FONT))
_BODY = ParagraphStyle("body", fontName=FONT, fontSize=11, leading=17, wordWrap="CJK")
_TITLE = ParagraphStyle("title", parent=_BODY, fontSize=16, leading=24, alignment=1)
_HEAD = ParagraphStyle("head", parent=_BODY, fontSize=12, leading=20, spaceBefore=6)
_CELL = ParagraphStyle("cell", parent=_BODY, fontSize=9, leading=13)
_SIGN = ParagraphStyle("sign", parent=_BODY, alignment=2)  # 落款: right, above the seal
_FAULTS = {"NEGLIGENCE": "过失", "INTENT": "故意", "MALICE": "恶意"}


def _table(rows: list[list[str]], widths: list[float]) -> Table:
    table = Table(
        [[Paragraph(cell or "—", _CELL) for cell in row] for row in rows],
        colWidths=[w * mm for w in widths],
        repeatRows=1,
    )
    table.setStyle(
        TableStyle(
            [
                ("GRID", (0, 0), (-1, -1), 0.5, colors.grey),
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e8eef4")),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ]
        )
    )
    return table


def _determination(
    listing: str, unit: str, sanction: dict[str, Any], case: dict[str, Any] | None
) -> str:
    parts = [f"名单类别：{listing}", f"认定单位：{unit}"]
    if case and case.get("document"):
        parts.append(f"认定文书：{case['document']}")
    if case:
        parts.append(f"过错认定：{_FAULTS.get(case['fault'], case['fault'])}")
    until = sanction.get("endDate") or "移出名单之日"
    parts.append(f"公示期限：{sanction.get('startDate') or ''} 至 {until}")
    return "；".join(parts) + "。"


def _chinese_date(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def render(
    facts: dict[str, Any],
    catalogue: Catalogue,
    kind: str | None,
    today: date,
    *,
    addressee: str,
    issuer: str,
) -> bytes:
    """The recommendation to ``addressee`` (a registered partner, or the generic addressee of
    its kind) asking for the measures of ``kind`` (all kinds when None), signed by ``issuer``,
    the unit that sends it."""
    sanction, subject, case = facts["sanction"], facts["subject"], facts["case"]
    place = find_division(subject.get("division") or "")
    unit = units_by_code().get(sanction.get("authority") or "")
    measures = [
        catalogue.measures[code]
        for code in sanction.get("measures") or []
        if code in catalogue.measures
        and (kind is None or catalogue.measures[code].partner_kind == kind)
    ]
    unit_name = unit.name if unit else sanction.get("authority") or ""
    listing = NAMES.get(sanction["listing"], sanction["listing"])
    bases = sorted(
        {r["legalBasis"] for r in facts["records"] if r.get("legalBasis")}
        | {m.basis for m in measures}
    )
    story: list[Any] = [
        Paragraph(f"关于对{subject['name']}实施联合惩戒的建议函", _TITLE),
        Spacer(1, 4 * mm),
        Paragraph(f"{addressee}：", _BODY),
        Paragraph(
            f"经依法认定，{subject['name']}已被列入{listing}。根据有关规定，现将相关情况函告"
            "如下，请依法依规对其实施联合惩戒措施，并将实施情况反馈我单位。",
            _BODY,
        ),
        Paragraph("一、主体信息", _HEAD),
        _table(
            [
                ["名称", "统一社会信用代码", "所在地区"],
                [subject["name"], subject["creditCode"], place.name if place else ""],
            ],
            [70, 55, 45],
        ),
        Paragraph("二、失信事实", _HEAD),
        _table(
            [["事项", "决定文书号", "决定日期", "法律依据"]]
            + [
                [
                    r.get("title") or "",
                    r.get("document") or "",
                    r.get("decidedOn") or "",
                    r.get("legalBasis") or "",
                ]
                for r in facts["records"]
            ],
            [55, 40, 25, 50],
        ),
        Paragraph("三、认定情况", _HEAD),
        Paragraph(_determination(listing, unit_name, sanction, case), _BODY),
        Paragraph("四、法律依据", _HEAD),
        *[Paragraph(f"{n}. {basis}", _BODY) for n, basis in enumerate(bases, start=1)],
        Paragraph("五、建议采取的惩戒措施", _HEAD),
        _table(
            [["措施", "实施单位", "依据"]]
            + [
                [m.name, catalogue.partner_kinds.get(m.partner_kind, m.partner_kind), m.basis]
                for m in measures
            ],
            [70, 40, 60],
        ),
        Paragraph("六、其他事项", _HEAD),
        Paragraph(
            "该主体信用修复或公示期满移出名单后，我单位将另行函告，请及时停止实施相关措施。"
            "请将措施实施情况函告我单位，或通过自然资源信用信息共享交换平台报送。",
            _BODY,
        ),
        Paragraph(f"名单编号：{sanction['id']}。", _BODY),
        Spacer(1, 12 * mm),
        Paragraph(issuer, _SIGN),
        Paragraph(_chinese_date(today), _SIGN),
    ]
    out = io.BytesIO()
    SimpleDocTemplate(
        out,
        pagesize=A4,
        title=f"联合惩戒建议函：{subject['name']}",
        author=issuer,
        leftMargin=20 * mm,
        rightMargin=20 * mm,
        topMargin=20 * mm,
        bottomMargin=20 * mm,
    ).build(story)
    return out.getvalue()
