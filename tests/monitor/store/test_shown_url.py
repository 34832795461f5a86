"""Database URLs reach people (errors, ``settings show``) through ``shown_url``: one line, no password."""

from __future__ import annotations

from monitor.store.db import shown_url
from tests.conftest import cli_env, run_cli

SECRET_URL = "postgresql://teacher:hunter2secret@127.0.0.1:1/school"  # port 1: nothing listens


def test_shown_url_hides_the_password_and_reads_a_plain_path_as_sqlite(tmp_path) -> None:
    assert shown_url(SECRET_URL) == "postgresql://teacher:***@127.0.0.1:1/school"
    assert shown_url(tmp_path / "x.db") == f"sqlite:///{(tmp_path / 'x.db').resolve()}"
    assert shown_url("postgresql://u:secret@h:notaport/db") is None  # never echoed back as given


def test_an_unreachable_server_is_one_line_without_its_password() -> None:
    for args in (("settings", "show"), ("db", "upgrade")):
        proc = run_cli("--db", SECRET_URL, *args, env=cli_env(), timeout=60)
        assert proc.returncode == 1, proc.stderr
        lines = proc.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith(
            "Error: cannot open database postgresql://teacher:***@"
        ), lines
        assert "hunter2secret" not in proc.stderr + proc.stdout
