"""The printable credit certificate (信用等级证书): one A4 page in Chinese stating the subject,
its grade, the issue and expiry days, and a QR code that opens the live verification page.

The QR code (segno, error correction level M) is drawn as vector squares, so it stays sharp at
any print size; the URL it holds carries the signed token (hub/portal/tokens.py). Set with the
Adobe CID font STSong-Light, which PDF readers supply, like the recommendation letter.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date

import segno
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen.canvas import Canvas

FONT = "STSong-Light"
pdfmetrics.registerFont(UnicodeCIDFont(FONT))
ISSUER = "内蒙古自治区自然资源厅"
CLASS = {"A": "守信"}
QUIET = 4  # modules of white around the code, as ISO/IEC 18004 asks


@dataclass(frozen=True, slots=True)
class CertificateFacts:
    certificate: str
    name: str
    credit_code: str
    grade: str
    issued_on: date
    expires_on: date
    verify_url: str


def _day(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def _qr(canvas: Canvas, data: str, x: float, y: float, size: float) -> None:
    """Draw the QR code for ``data`` as a ``size`` square with its lower left at (x, y)."""
    code = segno.make(data, error="m", micro=False)
    modules = len(code.matrix) + 2 * QUIET
    unit = size / modules
    canvas.setFillColorRGB(1, 1, 1)
    canvas.rect(x, y, size, size, stroke=0, fill=1)
    canvas.setFillColorRGB(0, 0, 0)
    for row, bits in enumerate(code.matrix):
        for col, bit in enumerate(bits):
            if bit:
                left = x + (col + QUIET) * unit
                top = y + size - (row + QUIET + 1) * unit
                canvas.rect(left, top, unit, unit, stroke=0, fill=1)


def render(facts: CertificateFacts) -> bytes:
    out = io.BytesIO()
    width, height = A4
    canvas = Canvas(out, pagesize=A4, pageCompression=1)
    canvas.setTitle(f"信用等级证书 {facts.certificate}")
    canvas.setAuthor(ISSUER)
    canvas.setStrokeColorRGB(0.55, 0, 0.06)
    canvas.setLineWidth(3)
    canvas.rect(15 * mm, 15 * mm, width - 30 * mm, height - 30 * mm)
    canvas.setFont(FONT, 28)
    canvas.drawCentredString(width / 2, height - 50 * mm, "信用等级证书")
    canvas.setFont(FONT, 13)
    lines = [
        ("证书编号", facts.certificate),
        ("主体名称", facts.name),
        ("统一社会信用代码", facts.credit_code),
        ("信用等级", f"{facts.grade}（{CLASS.get(facts.grade[0], '')}）"),
        ("发证日期", _day(facts.issued_on)),
        ("有效期至", _day(facts.expires_on)),
        ("发证机关", ISSUER),
    ]
    y = height - 80 * mm
    for label, value in lines:
        canvas.drawString(30 * mm, y, f"{label}：")
        canvas.drawString(75 * mm, y, value)
        y -= 11 * mm
    size = 60 * mm
    _qr(canvas, facts.verify_url, (width - size) / 2, 50 * mm, size)
    canvas.setFont(FONT, 11)
    canvas.drawCentredString(width / 2, 44 * mm, "手机扫描二维码核验本证书的实时状态")
    canvas.setFont(FONT, 9)
    canvas.drawCentredString(
        width / 2,
        30 * mm,
        "信用等级以扫码核验结果为准。主体被列入失信名单或信用等级下降的，本证书即时失效。",
    )
    canvas.showPage()
    canvas.save()
    return out.getvalue()
