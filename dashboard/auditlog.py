"""The audit log as the admins read it: newest first, filtered by who acted and by kind, a page at a time."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from monitor.store.schema import AuditLog

PAGE_SIZE = 50
MAX_PAGE = 100_000
# Each kind on the page and the audit_log actions written under it (dashboard and CLI alike).
KINDS: dict[str, tuple[str, ...]] = {
    "settings": ("settings",),
    "users": ("user_add", "user_passwd", "user_enable", "user_disable", "assign", "unassign"),
    "cameras": ("camera", "camera_add"),
    "logins": ("login", "login_failed", "login_blocked", "login_refused", "logout", "passwd_refused"),
    "data": ("export", "marker", "marker delete", "purge"),
}


@dataclass(frozen=True)
class AuditPage:
    rows: list[AuditLog]
    total: int
    page: int
    pages: int
    actors: list[str]


def kind_of(action: str) -> str:
    """The kind an action is listed under (``other`` for an action no kind names)."""
    return next((kind for kind, actions in KINDS.items() if action in actions), "other")


def audit_page(db: Session, actor: str | None, kind: str | None, page: int) -> AuditPage:
    """Rows ``page`` (1-based) of the log, newest first, by ``actor`` (exact) and of ``kind`` if given."""
    query = select(AuditLog)
    if actor:
        query = query.where(AuditLog.actor == actor)
    if kind == "other":
        query = query.where(AuditLog.action.not_in([a for acts in KINDS.values() for a in acts]))
    elif kind:
        query = query.where(AuditLog.action.in_(KINDS[kind]))
    total = db.scalar(select(func.count()).select_from(query.subquery())) or 0
    pages = max(1, -(-total // PAGE_SIZE))
    page = min(page, pages)
    rows = db.scalars(
        query.order_by(AuditLog.ts.desc(), AuditLog.id.desc()).offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE)
    ).all()
    actors = db.scalars(select(AuditLog.actor).where(AuditLog.actor.is_not(None)).distinct()).all()
    return AuditPage(list(rows), total, page, pages, sorted(actors, key=str.casefold))
