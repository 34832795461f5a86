"""Who is asking: the site's privacy rules, the school's time zone, the locale and the visible cameras.

Loaded once per request, export or poll, and passed to the views, so that every figure a consumer reads was
filtered by the same settings, read at the same moment.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from monitor.locales import LOCALES, gettext_for
from monitor.store.site_settings import all_settings, school_zone
from monitor.views.privacy import Privacy


@dataclass(frozen=True)
class Audience:
    """The settings one request (export, poll) is answered under."""

    privacy: Privacy
    zone: ZoneInfo
    locale: str
    camera_ids: tuple[int, ...] | None = None  # None: every camera (an admin, the CLI, the live poller)

    @classmethod
    def load(
        cls, db: Session, camera_ids: Sequence[int] | None = None, locale: str | None = None
    ) -> Audience:
        """The site's settings now; ``locale``: the requester's language (None or unknown: the site's)."""
        return cls.from_settings(all_settings(db), school_zone(db), camera_ids, locale)

    @classmethod
    def from_settings(
        cls,
        site: dict[str, Any],
        zone: ZoneInfo,
        camera_ids: Sequence[int] | None = None,
        locale: str | None = None,
    ) -> Audience:
        """The audience of settings already read (``all_settings``, ``school_zone``): the worker's."""
        return cls(
            privacy=Privacy.from_settings(site),
            zone=zone,
            locale=locale if locale in LOCALES else site["locale"],
            camera_ids=None if camera_ids is None else tuple(camera_ids),
        )

    @property
    def gettext(self) -> Callable[[str], str]:
        """``gettext`` in the audience's language."""
        return gettext_for(self.locale)

    @property
    def emotions(self) -> bool:
        """Whether the site shows emotions at all (attention-only mode: no)."""
        return self.privacy.emotions

    @property
    def tracks(self) -> bool:
        """Whether per-track rows may leave the server (class-only mode: no)."""
        return self.privacy.tracks

    def may_see(self, camera_id: int) -> bool:
        return self.camera_ids is None or camera_id in self.camera_ids
