"""Site-wide settings that admins change in the dashboard and workers obey (stored as JSON text).

Keys: ``mode`` ("emotion" | "attention"), ``class_only`` (bool: no per-track rows anywhere in the UI),
``retention_days`` (int, 0 = keep forever).
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy.orm import Session

from monitor.store.schema import Setting, utcnow

DEFAULTS: dict[str, Any] = {"mode": "emotion", "class_only": False, "retention_days": 0}


def get_setting(db: Session, key: str) -> Any:
    row = db.get(Setting, key)
    return DEFAULTS.get(key) if row is None else json.loads(row.value)


def all_settings(db: Session) -> dict[str, Any]:
    return {key: get_setting(db, key) for key in DEFAULTS}


def set_setting(db: Session, key: str, value: Any) -> None:
    """Store ``value`` (caller commits). Unknown keys are refused so typos do not pass silently."""
    if key not in DEFAULTS:
        raise KeyError(f"unknown setting {key!r}")
    row = db.get(Setting, key)
    text = json.dumps(value)
    if row is None:
        db.add(Setting(key=key, value=text, updated_at=utcnow()))
    else:
        row.value, row.updated_at = text, utcnow()
