"""The report's charts, drawn with matplotlib's object API on the Agg canvas (no pyplot, no display).

Their words follow the report's locale where a CJK font is at hand (``monitor.reports.fonts``); without one a
Chinese report keeps English labels in its charts rather than print empty boxes. Chinese in the data itself
(a marker) is drawn in that font too."""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import matplotlib
from matplotlib import dates as mdates
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import PercentFormatter

from monitor import timefmt
from monitor.labels import EMOTIONS
from monitor.reports.content import ReportContent, marker_lines
from monitor.reports.fonts import chart_cjk_family, has_cjk

EMOTION_COLOURS: dict[str, str] = {
    "angry": "#d1495b",
    "disgust": "#8a7b3d",
    "fear": "#8e6bbf",
    "happy": "#f2b134",
    "sad": "#3d7dca",
    "surprise": "#3fb5b0",
    "neutral": "#c4c8cc",
}
ENGAGEMENT_COLOUR = "#1b4f72"
ATTENTION_COLOUR = "#e07a1f"
LOW_COLOUR = "#f4c7c3"
MARKER_COLOUR = "#b3403a"
WIDTH_IN = 7.2
DPI = 200


@dataclass
class Chart:
    """One rendered chart: a PNG and the words that go with it."""

    title: str
    caption: str
    png: bytes


def _figure(height_in: float) -> Figure:
    fig = Figure(figsize=(WIDTH_IN, height_in), dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _png(fig: Figure) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI, facecolor="white")
    return buf.getvalue()


def _style(ax) -> None:
    ax.spines[["top", "right"]].set_visible(False)
    ax.tick_params(labelsize=8, colors="#333333")
    ax.grid(axis="y", color="#e5e5e5", linewidth=0.6)
    ax.set_axisbelow(True)


def _time_axis(ax, c: ReportContent) -> None:
    tz = c.zone
    locator = mdates.AutoDateLocator(tz=tz, minticks=4, maxticks=9)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%H:%M:%S" if c.duration_s < 600 else "%H:%M", tz=tz))
    end = c.timeline[-1].start + timedelta(seconds=c.bucket_s)
    ax.set_xlim(c.timeline[0].start, end)
    _ = _words(c)
    ax.set_xlabel(_("time (%(zone)s)") % {"zone": timefmt.zone_name(c.zone)}, fontsize=8, color="#555555")


def emotion_timeline(c: ReportContent) -> Chart:
    """Stacked shares of the seven expressions per time bucket."""
    _ = _words(c)
    fig = _figure(2.6)
    ax = fig.add_subplot()
    buckets = [b for b in c.timeline if b.emotions]
    width = timedelta(seconds=c.bucket_s)
    starts = [b.start for b in buckets]
    bottom = [0.0] * len(buckets)
    for label in EMOTIONS:
        values = [b.emotions[label] for b in buckets]
        ax.bar(
            starts,
            values,
            width=width,
            bottom=bottom,
            align="edge",
            color=EMOTION_COLOURS[label],
            label=_(label),
            linewidth=0,
        )
        bottom = [a + v for a, v in zip(bottom, values, strict=True)]
    ax.set_ylim(0, 1)
    ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    _time_axis(ax, c)
    _style(ax)
    ax.legend(
        ncols=7,
        loc="lower center",
        bbox_to_anchor=(0.5, 1.0),
        fontsize=7.5,
        frameon=False,
        handlelength=1.2,
        columnspacing=1.0,
    )
    return Chart(
        c.gettext("Expressions over the session"),
        c.gettext("Share of each facial expression among the faces in view, per %(n)s-second interval.")
        % {"n": c.bucket_s},
        _png(fig),
    )


def engagement_line(c: ReportContent) -> Chart:
    """Class engagement index and the heads-up share over time, with the lowest heads-up periods shaded."""
    _ = _words(c)
    fig = _figure(2.4)
    ax = fig.add_subplot()
    mid = timedelta(seconds=c.bucket_s / 2)
    for p in c.low_periods:
        ax.axvspan(p.start, p.end, color=LOW_COLOUR, alpha=0.7, linewidth=0)
    for attr, colour, label, style in (
        ("engagement", ENGAGEMENT_COLOUR, _("engagement index"), "-"),
        ("attention", ATTENTION_COLOUR, _("heads up (of the readable heads)"), "--"),
    ):
        points = [(b.start + mid, getattr(b, attr)) for b in c.timeline if getattr(b, attr) is not None]
        if points:
            xs, ys = zip(*points, strict=True)
            ax.plot(
                xs,
                ys,
                style,
                color=colour,
                linewidth=1.6,
                label=label,
                marker="o" if len(points) < 3 else None,
                markersize=3,
            )
    for i, m in enumerate(c.markers):  # the teacher's markers, as in the Markers list
        at = datetime.fromisoformat(m["at"])
        ax.axvline(
            at, color=MARKER_COLOUR, linewidth=0.9, linestyle=":", label=_("marker") if i == 0 else None
        )
    ax.set_ylim(0, 1.02)
    ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    _time_axis(ax, c)
    _style(ax)
    handles, labels = ax.get_legend_handles_labels()
    if c.low_periods:
        from matplotlib.patches import Patch

        handles.append(Patch(color=LOW_COLOUR, alpha=0.7))
        labels.append(_("lowest heads-up share"))
    ax.legend(
        handles, labels, ncols=4, loc="lower center", bbox_to_anchor=(0.5, 1.0), fontsize=7.5, frameon=False
    )
    return Chart(
        c.gettext("Engagement over the session"),
        (
            c.gettext(
                "Class engagement index (presence, attention and, where measured, expression, combined) and "
                "the heads-up share of the readable heads, per %(n)s-second interval."
            )
            if c.emotion
            else c.gettext(
                "Class engagement index and the heads-up share of the readable heads, per %(n)s-second "
                "interval."
            )
        )
        % {"n": c.bucket_s},
        _png(fig),
    )


def emotion_distribution(c: ReportContent) -> Chart:
    """Share of each expression over the whole session."""
    _ = _words(c)
    shares = c.emotion_shares or {}
    fig = _figure(2.0)
    ax = fig.add_subplot()
    labels = list(reversed(EMOTIONS))
    values = [shares.get(label, 0.0) for label in labels]
    bars = ax.barh(
        [_(label) for label in labels], values, color=[EMOTION_COLOURS[label] for label in labels], height=0.7
    )
    ax.bar_label(bars, labels=[f"{v * 100:.0f}%" for v in values], padding=3, fontsize=7.5)
    ax.set_xlim(0, max(max(values, default=0) * 1.15, 0.1))
    ax.xaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    _style(ax)
    ax.grid(axis="y", visible=False)
    ax.grid(axis="x", color="#e5e5e5", linewidth=0.6)
    return Chart(
        c.gettext("Expressions over the whole session"),
        c.gettext("Share of each facial expression among all faces seen."),
        _png(fig),
    )


def _words(c: ReportContent) -> Callable[[str], str]:
    """``gettext`` in the report's locale where a CJK font can draw it; English otherwise."""
    if c.locale == "en" or chart_cjk_family() is None:
        return lambda text: text
    return c.gettext


def report_charts(c: ReportContent) -> list[Chart]:
    """The charts of a report, in reading order; none without data, no expression charts in attention mode.

    Titles and captions (set by the PDF and HTML as text, not drawn) are always in the report's locale."""
    if not c.timeline:
        return []
    family = chart_cjk_family()
    cjk = family is not None and (c.locale != "en" or has_cjk(*marker_lines(c)))
    rc = {"font.family": "sans-serif", "font.sans-serif": [family, "DejaVu Sans"]} if cjk else {}
    with matplotlib.rc_context(rc):
        if c.emotion and c.emotion_shares:
            charts = [emotion_timeline(c), engagement_line(c), emotion_distribution(c)]
        else:
            charts = [engagement_line(c)]
    return charts
