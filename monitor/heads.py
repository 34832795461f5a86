"""The heads-up share with its base, from posture counts summed over any span of frames.

One meaning of attention everywhere (issue 20): the share of READABLE heads that are up. Heads whose posture
could not be read (tiny faces, rear views) are counted apart and never count as up, so every figure can say
what it rests on: "3 of 18 readable heads up; 5 not readable".

The store keeps counts summed over frames (``session_rollups.up_heads`` ...), so a second, a bucket, a lesson
or a term pools the same way: up / (up + down + away). Rows written before migration 0012 have only per-frame
shares summed over frames (``heads_up_sum`` ...); ``HeadCount`` falls back to them for those rows.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from monitor.locales import N_

HEAD_COUNT_COLUMNS = ("up_heads", "down_heads", "away_heads", "unknown_heads")
"""The rollup columns (session_rollups, lesson_stats) that keep the counts, in ``HeadCount`` order."""
HEAD_SHARE_COLUMNS = ("heads_up_sum", "heads_down_sum", "turned_away_sum")
"""The per-frame shares summed over frames: all that rows older than the counts (migration 0012) have."""
WARMUP_S = 2.0
"""The first seconds of a run: tracks are being confirmed and heads read for the first time, so the live view
says "warming up" instead of figures."""
NOT_READABLE = N_("no head could be read (faces too small or seen from behind)")
"""What a page or report says instead of a heads-up share when no head in view could be read."""


@dataclass(frozen=True)
class HeadCount:
    """Heads read up, down and away, and heads not readable, summed over ``frames`` frames."""

    frames: int = 0
    up: int = 0
    down: int = 0
    away: int = 0
    unknown: int = 0
    # rows older than the counts: (heads up, heads down, turned away) per-frame shares summed over frames
    legacy: tuple[float, float, float] | None = None

    @classmethod
    def from_sums(
        cls,
        frames: int | None,
        faces: int | None,
        counts: tuple[int | None, int | None, int | None, int | None],
        shares: tuple[float | None, float | None, float | None] = (None, None, None),
    ) -> HeadCount:
        """From summed rollup columns: (up, down, away, unknown) counts and, for old rows, summed shares."""
        up, down, away, unknown = (int(c or 0) for c in counts)
        legacy = None
        if not (up or down or away or unknown) and faces and any(s for s in shares):
            legacy = tuple(float(s or 0.0) for s in shares)
        return cls(int(frames or 0), up, down, away, unknown, legacy)  # type: ignore[arg-type]

    def __add__(self, other: HeadCount) -> HeadCount:
        legacy = None
        if self.legacy or other.legacy:
            a, b = self.legacy or (0.0, 0.0, 0.0), other.legacy or (0.0, 0.0, 0.0)
            legacy = (a[0] + b[0], a[1] + b[1], a[2] + b[2])
        return HeadCount(
            self.frames + other.frames,
            self.up + other.up,
            self.down + other.down,
            self.away + other.away,
            self.unknown + other.unknown,
            legacy,
        )

    @property
    def readable(self) -> int:
        return self.up + self.down + self.away

    def shares(self) -> tuple[float, float, float] | None:
        """(up, down, away) as shares of the readable heads; None when no head could be read."""
        if self.readable:
            return self.up / self.readable, self.down / self.readable, self.away / self.readable
        if self.legacy and self.frames:
            return tuple(s / self.frames for s in self.legacy)  # type: ignore[return-value]
        return None

    @property
    def heads_up(self) -> float | None:
        """The heads-up share: up / readable heads; None when nothing was readable (never 0 for "unknown")."""
        s = self.shares()
        return None if s is None else s[0]

    def per_frame(self) -> tuple[float, float] | None:
        """Readable and not-readable heads per frame on average; None for old rows without counts."""
        if not self.frames or self.legacy:
            return None
        return self.readable / self.frames, self.unknown / self.frames

    def text(self, gettext: Callable[[str], str] | None = None) -> str:
        """The base of the share, in words: "3 of 18 readable heads up; 5 not readable" (means per frame),
        in the language of ``gettext`` (``monitor.locales.gettext_for``; English by default)."""
        _ = gettext or (lambda text: text)
        base = self.per_frame()
        if base is None:
            return (
                _("heads-up share measured before posture counts were kept")
                if self.legacy
                else _("no heads seen")
            )
        readable, unknown = base
        if not self.readable:
            return _("no head readable; %(n)s not readable") % {"n": f"{unknown:.0f}"}
        up = self.up / self.frames
        words = _("%(up)s of %(readable)s readable heads up") % {
            "up": f"{up:.0f}",
            "readable": f"{readable:.0f}",
        }
        return words + (_("; %(n)s not readable") % {"n": f"{unknown:.0f}"} if round(unknown) else "")

    def as_dict(self, gettext: Callable[[str], str] | None = None) -> dict:
        """JSON: shares of the readable heads and their base (what ``summary.heads_up`` carries); ``text`` in
        the language of ``gettext`` (English by default). ``up_per_frame`` with the two other per-frame means
        lets a script word the base in its own language."""
        s = self.shares()
        base = self.per_frame()
        return {
            "up": None if s is None else round(s[0], 4),
            "down": None if s is None else round(s[1], 4),
            "away": None if s is None else round(s[2], 4),
            "readable_per_frame": None if base is None else round(base[0], 2),
            "unknown_per_frame": None if base is None else round(base[1], 2),
            "up_per_frame": None if base is None else round(self.up / self.frames, 2),
            "text": self.text(gettext),
        }
