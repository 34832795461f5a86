"""The audit log as the admins read it: newest first, filtered by who acted and by kind, a page at a time."""

from __future__ import annotations

from sqlalchemy.orm import Session

from monitor.store import audit
from monitor.store.audit import AuditPage

PAGE_SIZE = 50
MAX_PAGE = 100_000
# Each kind on the page and the audit_log actions written under it (dashboard and CLI alike).
KINDS: dict[str, tuple[str, ...]] = {
    "settings": ("settings",),
    "users": ("user_add", "user_passwd", "user_enable", "user_disable", "assign", "unassign"),
    "cameras": ("camera", "camera_add", "camera_snapshot", "timetable", "timetable_import"),
    "logins": ("login", "login_failed", "login_blocked", "login_refused", "logout", "passwd_refused"),
    "data": ("export", "marker", "marker delete", "purge"),
}


def kind_of(action: str) -> str:
    """The kind an action is listed under (``other`` for an action no kind names)."""
    return next((kind for kind, actions in KINDS.items() if action in actions), "other")


def audit_page(db: Session, actor: str | None, kind: str | None, page: int) -> AuditPage:
    """Rows ``page`` (1-based) of the log, newest first, by ``actor`` (exact) and of ``kind`` if given."""
    named = [a for acts in KINDS.values() for a in acts]
    return audit.audit_page(
        db,
        actor=actor,
        actions=KINDS[kind] if kind and kind != "other" else None,
        other_than=named if kind == "other" else None,
        page=page,
        page_size=PAGE_SIZE,
    )
