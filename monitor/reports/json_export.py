"""JSON: session metadata, headline figures, bucketed timeline, engagement series and per-track summaries.

The shape is documented by ``report.schema.json`` (JSON Schema 2020-12) beside this file.
"""

from __future__ import annotations

import json
from pathlib import Path

from monitor.reports.content import ReportContent, headline
from monitor.store.retention import purged_note

SCHEMA_PATH = Path(__file__).with_name("report.schema.json")
REPORT_KIND = "classroom-monitor/session-report"
REPORT_VERSION = 1


def _ts(dt) -> str:
    return dt.isoformat(timespec="milliseconds")


def _r(value: float | None, ndigits: int = 4) -> float | None:
    return None if value is None else round(value, ndigits)


def _without_emotions(track: dict) -> dict:
    """A per-track row without its hidden emotion keys (``monitor.views.lesson.track_rows``: None)."""
    return {k: v for k, v in track.items() if k not in ("emotions", "dominant")}


def report_dict(c: ReportContent) -> dict:
    """The JSON report as plain data. Attention-only sessions carry no emotion keys at all."""
    s = c.session
    session = {
        "id": s["id"],
        "label": s["label"],
        "camera": {"id": s["camera_id"], "name": c.camera},
        "started_at": s["started_at"],
        "ended_at": s["ended_at"],
        "in_progress": c.in_progress,
        "status": "in progress" if c.in_progress else "ended",
        "data_until": _ts(c.data_until),
        "duration_s": round(c.duration_s, 3),
        "mode": s["mode"],
        "detector": s["detector"],
        "frames": s["frames"],
        "faces": s["faces"],
        "tracks": s["tracks"],
        "attention_basis": s.get("attention_basis"),
        "class_size": s.get("class_size"),
        "model": c.model,
        # the retention policy deleted (some of) its observations: when, and the sentence saying so
        "observations_purged_at": s.get("observations_purged_at"),
        "retention_note": purged_note(s.get("observations_purged_at"), c.zone, all_gone=not c.timeline),
    }
    summary: dict = {
        "mean_engagement": _r(c.mean_engagement),
        "mean_attention": _r(c.mean_attention),
        # the sentences in the requester's language, as the PDF and HTML reports word them
        "lines": headline(c),
        "heads_up": c.heads.as_dict(c.gettext) if c.heads.frames else None,
        "engagement_by_third": [_r(v) for v in c.engagement_thirds],
        "lowest_attention_periods": [
            {"start": _ts(p.start), "end": _ts(p.end), "attention": _r(p.attention)} for p in c.low_periods
        ],
        "people_in_view": c.people.as_dict() if c.people else {"typical": 0.0, "peak": 0.0, "seconds": 0},
    }
    buckets = [b.as_dict() for b in c.timeline]
    if c.emotion:
        shares = c.emotion_shares or {}
        summary["emotion_shares"] = {k: _r(v) for k, v in shares.items()} if c.emotion_shares else None
        summary["dominant_emotions"] = [
            {"label": k, "share": _r(v)} for k, v in sorted(shares.items(), key=lambda kv: -kv[1])[:3]
        ]
    else:  # an attention-only report names no emotion: hidden (None) emotion keys are left out
        for b in buckets:
            b.pop("emotions", None)
    tracks = c.tracks if c.emotion else [_without_emotions(t) for t in c.tracks]
    return {
        "report": {"kind": REPORT_KIND, "version": REPORT_VERSION, "generated_at": _ts(c.generated_at)},
        "session": session,
        "summary": summary,
        "timeline": {"bucket_seconds": c.bucket_s, "buckets": buckets},
        "engagement": [{"start": b["start"], "engagement": b["engagement"]} for b in buckets],
        "class_only": c.class_only,
        "tracks": tracks,
        "markers": c.markers,
        "note": c.note,
    }


def render_json(c: ReportContent) -> bytes:
    return json.dumps(report_dict(c), indent=2, ensure_ascii=False).encode() + b"\n"
