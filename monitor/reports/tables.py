"""The anonymous per-track table, as plain strings for the PDF and the HTML, in the report's language."""

from __future__ import annotations

from monitor.locales import duration as locale_duration
from monitor.reports.content import TABLE_TRACKS, ReportContent, pct


def track_rows(c: ReportContent) -> tuple[list[str], list[list[str]], str]:
    """Header, rows (the tracks longest in view first) and a footnote (empty when nothing to add)."""
    _ = c.gettext
    if c.class_only:
        return [], [], _("Per-track figures are hidden on this site (class-level reporting only).")
    if not c.tracks:
        return [], [], _("No faces have been tracked in this session yet.")
    header = [_("Track"), _("Time in view"), _("Facing the front")]
    if c.emotion:
        header.append(_("Most frequent expression"))
    span = max(c.duration_s, 1.0)
    ordered = sorted(c.tracks, key=lambda t: (-t["seconds_in_view"], t["track_id"]))
    rows = []
    for t in ordered[:TABLE_TRACKS]:
        seen = t["seconds_in_view"]
        share = pct(min(seen / span, 1.0))
        row = [
            f"#{t['track_id']}",
            _("%(time)s (%(share)s of session)") % {"time": locale_duration(seen, c.locale), "share": share},
            pct(t["attention"]),
        ]
        if c.emotion:
            row.append(_(t["dominant"]) if t.get("dominant") else _("n/a"))
        rows.append(row)
    hidden = len(ordered) - len(rows)
    footnote = _("Track numbers are anonymous and restart with every session; they are not linked to names.")
    if hidden:
        footnote = (
            _("%(n)s shorter tracks not listed (all are in the JSON export).") % {"n": hidden}
            + " "
            + footnote
        )
    return header, rows, footnote
