"""One date filter for the dashboard: ``/api/sessions`` and ``/trends`` read ``2025-03-04`` as the same
school day (the site's time zone), not one as a UTC day and the other as a school day."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

AUCKLAND = "Pacific/Auckland"  # UTC+13 in March: 12:00 UTC on the 3rd is 01:00 on the 4th at school


@pytest.fixture
def late_lesson(world) -> int:
    world.setting("timezone", AUCKLAND)
    cam = world.camera("room-nz")
    world.user("head", admin=True)
    return world.lesson(cam, "Maths", start=datetime(2025, 3, 3, 12, 0, tzinfo=UTC), seconds=10)


def _listed(client, query: str) -> list[int]:
    resp = client.get(f"/api/sessions?{query}")
    assert resp.status_code == 200, resp.data
    return [s["id"] for s in resp.get_json()["sessions"]]


def test_api_sessions_reads_a_date_as_a_school_day(late_lesson, login) -> None:
    client = login("head")
    assert _listed(client, "from=2025-03-04&to=2025-03-04") == [late_lesson]
    assert _listed(client, "from=2025-03-03&to=2025-03-03") == []
    # a date-time without an offset is school time too; one with an offset is taken as it is
    assert _listed(client, "from=2025-03-04T00:30") == [late_lesson]
    assert _listed(client, "from=2025-03-03T12:30:00Z") == []


def test_trends_and_api_sessions_agree_on_a_day(late_lesson, login) -> None:
    client = login("head")
    for day, listed in (("2025-03-04", True), ("2025-03-03", False)):
        assert (late_lesson in _listed(client, f"from={day}&to={day}")) is listed
        trends = client.get(f"/api/trends?label=Maths&from={day}&to={day}")
        assert trends.status_code == 200, trends.data
        assert bool(trends.get_json()["points"]) is listed, day


def test_a_malformed_date_is_a_400_with_one_message(late_lesson, login) -> None:
    client = login("head")
    for path in ("/api/sessions?from=3/11/2025", "/api/sessions?to=2025-02-30"):
        resp = client.get(path)
        assert resp.status_code == 400
        assert b"must be a date like" in resp.data
