"""The anonymous per-track table, as plain strings for the PDF and the HTML."""

from __future__ import annotations

from monitor.reports.content import TABLE_TRACKS, ReportContent, duration_text, pct


def track_rows(c: ReportContent) -> tuple[list[str], list[list[str]], str]:
    """Header, rows (the tracks longest in view first) and a footnote (empty when nothing to add)."""
    if c.class_only:
        return [], [], "Per-track figures are hidden on this site (class-level reporting only)."
    if not c.tracks:
        return [], [], "No faces have been tracked in this session yet."
    header = ["Track", "Time in view", "Facing the front"]
    if c.emotion:
        header.append("Most frequent expression")
    span = max(c.duration_s, 1.0)
    ordered = sorted(c.tracks, key=lambda t: (-t["seconds_in_view"], t["track_id"]))
    rows = []
    for t in ordered[:TABLE_TRACKS]:
        seen = t["seconds_in_view"]
        row = [
            f"#{t['track_id']}",
            f"{duration_text(seen)} ({pct(min(seen / span, 1.0))} of session)",
            pct(t["attention"]),
        ]
        if c.emotion:
            row.append(t.get("dominant") or "n/a")
        rows.append(row)
    hidden = len(ordered) - len(rows)
    footnote = "Track numbers are anonymous and restart with every session; they are not linked to names."
    if hidden:
        footnote = f"{hidden} shorter tracks not listed (all are in the JSON export). " + footnote
    return header, rows, footnote
