"""PDF: the two-page teacher's report, laid out with reportlab's platypus."""

from __future__ import annotations

import io
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.enums import TA_LEFT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import (
    Image,
    KeepTogether,
    ListFlowable,
    ListItem,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from monitor import timefmt
from monitor.locales import long_date_time
from monitor.reports.charts import Chart, report_charts
from monitor.reports.content import ReportContent, headline, marker_lines, model_text, when_text
from monitor.reports.fonts import has_cjk, pdf_fonts
from monitor.reports.tables import track_rows

MARGIN = 16 * mm
INK = colors.HexColor("#1d2733")
MUTED = colors.HexColor("#5b6773")
ACCENT = colors.HexColor("#1b4f72")
BANNER = colors.HexColor("#fff4d6")
BANNER_EDGE = colors.HexColor("#e0a800")
RULE = colors.HexColor("#d9dee3")


def _fonts(c: ReportContent) -> tuple[str, str]:
    """A CJK font when the report is in Chinese or any of its text is (``monitor.reports.fonts``), else
    DejaVu Sans (shipped with matplotlib), else Helvetica."""
    texts = [c.session.get("label"), c.camera, *marker_lines(c), *headline(c)]
    return pdf_fonts(c.locale == "zh_Hans_CN" or has_cjk(*texts))


def _styles(regular: str, bold: str) -> dict[str, ParagraphStyle]:
    base = ParagraphStyle(
        "base", fontName=regular, fontSize=9.5, leading=13, textColor=INK, alignment=TA_LEFT
    )
    return {
        "base": base,
        "kicker": ParagraphStyle("kicker", base, fontName=bold, fontSize=8.5, textColor=ACCENT, leading=11),
        "title": ParagraphStyle("title", base, fontName=bold, fontSize=20, leading=24, spaceAfter=2),
        "meta": ParagraphStyle("meta", base, fontSize=10, textColor=MUTED, spaceAfter=8),
        "h2": ParagraphStyle(
            "h2", base, fontName=bold, fontSize=12, leading=15, spaceBefore=8, spaceAfter=4, textColor=ACCENT
        ),
        "caption": ParagraphStyle("caption", base, fontSize=8, leading=10, textColor=MUTED),
        "banner": ParagraphStyle("banner", base, fontName=bold, fontSize=10, leading=13),
        "note": ParagraphStyle("note", base, fontSize=8.5, leading=11.5, textColor=INK),
        "cell": ParagraphStyle("cell", base, fontSize=8.5, leading=10.5),
        "cellhead": ParagraphStyle("cellhead", base, fontName=bold, fontSize=8.5, leading=10.5),
    }


def _chart_block(chart: Chart, width: float, st: dict[str, ParagraphStyle]) -> KeepTogether:
    img = Image(io.BytesIO(chart.png))
    img.drawHeight = img.drawHeight * width / img.drawWidth
    img.drawWidth = width
    return KeepTogether(
        [Paragraph(escape(chart.title), st["h2"]), img, Paragraph(escape(chart.caption), st["caption"])]
    )


def _banner(text: str, width: float, st: dict[str, ParagraphStyle]) -> Table:
    box = Table([[Paragraph(escape(text), st["banner"])]], colWidths=[width])
    box.setStyle(
        TableStyle(
            [
                ("BACKGROUND", (0, 0), (-1, -1), BANNER),
                ("BOX", (0, 0), (-1, -1), 1, BANNER_EDGE),
                ("LEFTPADDING", (0, 0), (-1, -1), 8),
                ("TOPPADDING", (0, 0), (-1, -1), 6),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 6),
            ]
        )
    )
    return box


def _track_table(c: ReportContent, width: float, st: dict[str, ParagraphStyle]) -> list:
    header, rows, footnote = track_rows(c)
    if not rows:
        return [Paragraph(escape(footnote), st["base"])]
    data = [[Paragraph(escape(h), st["cellhead"]) for h in header]]
    data += [[Paragraph(escape(v), st["cell"]) for v in row] for row in rows]
    ratios = [0.16, 0.34, 0.2, 0.3] if len(header) == 4 else [0.2, 0.45, 0.35]
    table = Table(data, colWidths=[width * r for r in ratios], repeatRows=1)
    table.setStyle(
        TableStyle(
            [
                ("LINEBELOW", (0, 0), (-1, 0), 0.8, INK),
                ("LINEBELOW", (0, 1), (-1, -1), 0.3, RULE),
                ("ROWBACKGROUNDS", (0, 1), (-1, -1), [colors.white, colors.HexColor("#f6f8fa")]),
                ("TOPPADDING", (0, 0), (-1, -1), 3),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
            ]
        )
    )
    out: list = [table]
    if footnote:
        out += [Spacer(1, 3), Paragraph(escape(footnote), st["caption"])]
    return out


def render_pdf(c: ReportContent) -> bytes:
    """The report as PDF bytes."""
    _ = c.gettext
    regular, bold = _fonts(c)
    st = _styles(regular, bold)
    width = A4[0] - 2 * MARGIN
    s = c.session
    status = _("IN PROGRESS") if c.in_progress else _("ended")
    kicker = _("CLASS SESSION REPORT") + (" · " + _("IN PROGRESS") if c.in_progress else "")
    story: list = [
        Paragraph(escape(kicker), st["kicker"]),
        Paragraph(escape(s["label"] or _("Session %(id)s") % {"id": s["id"]}), st["title"]),
        Paragraph(f"{escape(_('Camera'))} <b>{escape(c.camera)}</b> · {escape(when_text(c))}", st["meta"]),
    ]
    if c.in_progress:
        story += [
            _banner(
                _(
                    "In progress: this session is still running. The report shows only the data stored so "
                    "far and will change."
                ),
                width,
                st,
            ),
            Spacer(1, 6),
        ]
    bullets = [ListItem(Paragraph(escape(line), st["base"]), leftIndent=10) for line in headline(c)]
    story += [
        Paragraph(escape(_("Summary")), st["h2"]),
        ListFlowable(bullets, bulletType="bullet", start="•", leftIndent=10, bulletFontSize=8),
    ]
    marks = [ListItem(Paragraph(escape(line), st["base"]), leftIndent=10) for line in marker_lines(c)]
    if marks:
        story += [
            Paragraph(escape(_("Markers")), st["h2"]),
            ListFlowable(marks, bulletType="bullet", start="•", leftIndent=10, bulletFontSize=8),
        ]
    for chart in report_charts(c):
        story.append(_chart_block(chart, width, st))
    story += [Paragraph(escape(_("Anonymous tracks")), st["h2"]), *_track_table(c, width, st)]
    story += [
        Paragraph(escape(_("Model")), st["h2"]),
        Paragraph(escape(model_text(c)), st["base"]),
        Paragraph(escape(_("What these figures can and cannot tell")), st["h2"]),
        Paragraph(escape(c.note), st["note"]),
    ]

    def footer(canvas, doc) -> None:
        canvas.saveState()
        canvas.setFont(regular, 7.5)
        canvas.setFillColor(MUTED)
        generated = long_date_time(c.generated_at, c.zone or timefmt.UTC_ZONE, c.locale)
        line = _("classroom-monitor · session %(id)s (%(status)s) · generated %(when)s")
        canvas.drawString(MARGIN, 10 * mm, line % {"id": s["id"], "status": status, "when": generated})
        canvas.drawRightString(A4[0] - MARGIN, 10 * mm, _("page %(n)s") % {"n": doc.page})
        canvas.restoreState()

    buf = io.BytesIO()
    doc = SimpleDocTemplate(
        buf,
        pagesize=A4,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=MARGIN,
        bottomMargin=MARGIN + 4 * mm,
        title=f"{s['label']}: class session report",
        author="classroom-monitor",
        subject=f"Session {s['id']} on camera {c.camera}",
    )
    doc.build(story, onFirstPage=footer, onLaterPages=footer)
    return buf.getvalue()
