"""HTML: the same report as the PDF in one self-contained page (inline CSS, charts as base64 PNG)."""

from __future__ import annotations

import base64
from html import escape

from monitor import timefmt
from monitor.locales import LOCALE_TAGS, long_date_time
from monitor.reports.charts import report_charts
from monitor.reports.content import ReportContent, headline, marker_lines, model_text, when_text
from monitor.reports.tables import track_rows

CSS = """
:root { --ink: #1d2733; --muted: #5b6773; --accent: #1b4f72; --rule: #d9dee3; }
* { box-sizing: border-box; }
body { margin: 0; background: #f3f5f7; color: var(--ink);
       font: 15px/1.5 "DejaVu Sans", "Segoe UI", Roboto, Helvetica, Arial, "Noto Sans CJK SC",
             "WenQuanYi Micro Hei", "Microsoft YaHei", "PingFang SC", sans-serif; }
main { max-width: 860px; margin: 24px auto; padding: 32px 40px; background: #fff;
       box-shadow: 0 1px 4px rgba(0, 0, 0, .08); }
.kicker { margin: 0; font-size: 12px; font-weight: bold; letter-spacing: .06em; color: var(--accent); }
h1 { margin: 2px 0 4px; font-size: 30px; line-height: 1.2; }
.meta { margin: 0 0 16px; color: var(--muted); }
h2 { margin: 28px 0 8px; font-size: 18px; color: var(--accent); }
.banner { padding: 10px 14px; background: #fff4d6; border: 1px solid #e0a800; font-weight: bold; }
ul.summary { padding-left: 20px; margin: 0; }
ul.summary li { margin: 3px 0; }
figure { margin: 0; }
figure img { display: block; width: 100%; height: auto; }
figcaption, .footnote { color: var(--muted); font-size: 12.5px; }
table { width: 100%; border-collapse: collapse; font-size: 14px; }
th { text-align: left; border-bottom: 2px solid var(--ink); padding: 5px 6px; }
td { border-bottom: 1px solid var(--rule); padding: 5px 6px; }
tbody tr:nth-child(even) { background: #f6f8fa; }
.note { font-size: 13.5px; }
footer { margin-top: 28px; padding-top: 8px; border-top: 1px solid var(--rule); color: var(--muted);
         font-size: 12px; }
@media print { body { background: #fff; } main { box-shadow: none; margin: 0; max-width: none; } }
"""


def _table(c: ReportContent) -> str:
    header, rows, footnote = track_rows(c)
    note = f'<p class="footnote">{escape(footnote)}</p>' if footnote else ""
    if not rows:
        return note
    head = "".join(f"<th>{escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{escape(v)}</td>" for v in row) + "</tr>" for row in rows)
    return f'<table id="tracks"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>{note}'


def render_html(c: ReportContent) -> bytes:
    """The report as a UTF-8 HTML document with no external resources."""
    _ = c.gettext
    s = c.session
    title = s["label"] or _("Session %(id)s") % {"id": s["id"]}
    status = "in progress" if c.in_progress else "ended"
    progress_text = _(
        "In progress: this session is still running. The report shows only the data stored so far and will "
        "change."
    )
    banner = f'<p class="banner" id="in-progress">{escape(progress_text)}</p>' if c.in_progress else ""
    heading = {
        key: escape(text)
        for key, text in {
            "kicker": _("CLASS SESSION REPORT") + (" · " + _("IN PROGRESS") if c.in_progress else ""),
            "title": _("%(label)s: class session report") % {"label": title}
            + (" " + _("(in progress)") if c.in_progress else ""),
            "camera": _("Camera"),
            "summary": _("Summary"),
            "markers": _("Markers"),
            "tracks": _("Anonymous tracks"),
            "model": _("Model"),
            "limits": _("What these figures can and cannot tell"),
        }.items()
    }
    summary = "".join(f"<li>{escape(line)}</li>" for line in headline(c))
    marks = "".join(f"<li>{escape(line)}</li>" for line in marker_lines(c))
    markers = f'<h2>{heading["markers"]}</h2>\n<ul class="summary" id="markers">{marks}</ul>' if marks else ""
    figures = "".join(
        f'<h2>{escape(ch.title)}</h2><figure><img alt="{escape(ch.title)}" '
        f'src="data:image/png;base64,{base64.b64encode(ch.png).decode()}">'
        f"<figcaption>{escape(ch.caption)}</figcaption></figure>"
        for ch in report_charts(c)
    )
    generated = long_date_time(c.generated_at, c.zone or timefmt.UTC_ZONE, c.locale)
    footer = _("classroom-monitor · session %(id)s (%(status)s) · generated %(when)s") % {
        "id": int(s["id"]),
        "status": _("in progress") if c.in_progress else _("ended"),
        "when": generated,
    }
    page = f"""<!DOCTYPE html>
<html lang="{LOCALE_TAGS.get(c.locale, "en")}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{heading["title"]}</title>
<style>{CSS}</style>
</head>
<body>
<main data-session="{int(s["id"])}" data-status="{status}" data-mode="{escape(s["mode"])}">
<p class="kicker">{heading["kicker"]}</p>
<h1>{escape(title)}</h1>
<p class="meta">{heading["camera"]} <strong>{escape(c.camera)}</strong> · {escape(when_text(c))}</p>
{banner}
<h2>{heading["summary"]}</h2>
<ul class="summary">{summary}</ul>
{markers}
{figures}
<h2>{heading["tracks"]}</h2>
{_table(c)}
<h2>{heading["model"]}</h2>
<p id="model">{escape(model_text(c))}</p>
<h2>{heading["limits"]}</h2>
<p class="note">{escape(c.note)}</p>
<footer>{escape(footer)}</footer>
</main>
</body>
</html>
"""
    return page.encode()
