"""The audit log as it is read back: newest first, filtered by who acted and by action, a page at a time."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from monitor.store.schema import AuditLog


@dataclass(frozen=True)
class AuditPage:
    rows: list[AuditLog]
    total: int
    page: int
    pages: int
    actors: list[str]


def audit_page(
    db: Session,
    *,
    actor: str | None,
    actions: Collection[str] | None,
    other_than: Collection[str] | None,
    page: int,
    page_size: int,
) -> AuditPage:
    """Rows ``page`` (1-based, past the last: the last) of the log, newest first, by ``actor`` (exact), of
    one of ``actions`` and of none of ``other_than`` (None: any); ``actors``: everyone who ever acted."""
    query = select(AuditLog)
    if actor:
        query = query.where(AuditLog.actor == actor)
    if actions is not None:
        query = query.where(AuditLog.action.in_(list(actions)))
    if other_than is not None:
        query = query.where(AuditLog.action.not_in(list(other_than)))
    total = db.scalar(select(func.count()).select_from(query.subquery())) or 0
    pages = max(1, -(-total // page_size))
    page = min(page, pages)
    rows = db.scalars(
        query.order_by(AuditLog.ts.desc(), AuditLog.id.desc()).offset((page - 1) * page_size).limit(page_size)
    ).all()
    actors = db.scalars(select(AuditLog.actor).where(AuditLog.actor.is_not(None)).distinct()).all()
    return AuditPage(list(rows), total, page, pages, sorted(actors, key=str.casefold))
