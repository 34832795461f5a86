"""A site settings change and its audit row are one transaction, for the API and the CLI alike: a failing
audit insert (a real SQLite trigger refusing it) leaves the settings as they were."""

from __future__ import annotations

import json

from sqlalchemy import select, text

from monitor.store.schema import AuditLog
from monitor.store.site_settings import all_settings
from tests.conftest import cli_env, run_cli
from tests.dashboard.helpers import csrf_of

REFUSE_AUDIT = (
    "CREATE TRIGGER refuse_audit BEFORE INSERT ON audit_log BEGIN SELECT RAISE(ABORT, 'audit log full'); END"
)


def refuse_audit(world, on: bool) -> None:
    with world.engine.begin() as conn:
        conn.execute(text(REFUSE_AUDIT if on else "DROP TRIGGER refuse_audit"))


def settings_rows(world) -> list[tuple[str, dict]]:
    with world.Session() as db:
        rows = db.scalars(select(AuditLog).where(AuditLog.action == "settings").order_by(AuditLog.id))
        return [(r.actor, json.loads(r.detail)) for r in rows]


def mode(world) -> str:
    with world.Session() as db:
        return all_settings(db)["mode"]


def test_an_api_change_whose_audit_row_fails_changes_nothing(school, world, login) -> None:
    admin = login("admin")
    headers = {"X-CSRFToken": csrf_of(admin)}
    refuse_audit(world, True)
    resp = admin.put("/api/settings", json={"mode": "attention"}, headers=headers)
    assert resp.status_code == 503
    assert resp.get_json()["message"] == "the database did not take the change; nothing was saved"
    refuse_audit(world, False)
    assert mode(world) == "emotion"  # the old code had committed the change before the audit failed
    assert settings_rows(world) == []


def test_a_cli_change_whose_audit_row_fails_changes_nothing(world) -> None:
    refuse_audit(world, True)
    proc = run_cli("--db", world.url, "settings", "set", "mode", "attention", env=cli_env())
    assert proc.returncode == 1 and "Traceback" not in proc.stderr, proc.stderr
    assert proc.stderr.strip().splitlines()[-1].endswith(": audit log full"), proc.stderr  # one line
    refuse_audit(world, False)
    assert mode(world) == "emotion"


def test_the_api_and_the_cli_each_leave_one_audit_row_per_change(school, world, login) -> None:
    admin = login("admin")
    headers = {"X-CSRFToken": csrf_of(admin)}
    assert admin.put("/api/settings", json={"mode": "attention"}, headers=headers).status_code == 200
    assert admin.put("/api/settings", json={"mode": "attention"}, headers=headers).status_code == 200
    proc = run_cli("--db", world.url, "settings", "set", "retention_days", "30", env=cli_env())
    assert proc.returncode == 0, proc.stderr
    run_cli("--db", world.url, "settings", "set", "retention_days", "30", env=cli_env())  # unchanged
    assert settings_rows(world) == [("admin", {"mode": "attention"}), ("cli", {"retention_days": 30})]
