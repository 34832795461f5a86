"""``sqlite_file``: the one parser of SQLite URLs (export safety, ``db upgrade``, secret key, training)."""

from __future__ import annotations

from pathlib import Path

import pytest

from monitor.store.db import sqlite_file


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("sqlite:////srv/school/monitor.db", Path("/srv/school/monitor.db")),
        ("/srv/school/monitor.db", Path("/srv/school/monitor.db")),  # a plain path is an SQLite file
        ("sqlite:///~/monitor.db", Path.home() / "monitor.db"),
        ("sqlite://", None),
        ("sqlite:///:memory:", None),
        ("postgresql://monitor@db/school", None),
        ("no-such-dialect+://x", None),
    ],
)
def test_sqlite_file_names_the_file_or_none(url: str, expected: Path | None) -> None:
    assert sqlite_file(url) == expected
