"""Bulk export from the browser (issue 24): a class's or a camera's lessons over a date range as one zip, made
in the background with progress, holding exactly what ``classroom-monitor export`` writes for the same
choice; a teacher exports only their own classes and cameras."""

from __future__ import annotations

import io
import json
import time
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.conftest import run_cli
from tests.dashboard.helpers import csrf_of


def _start(client, **body):
    return client.post("/api/exports", json=body, headers={"X-CSRFToken": csrf_of(client)})


def _finish(client, job: dict, timeout: float = 60) -> dict:
    """Poll the job until it is no longer running; every answer's progress stays within 0..total."""
    deadline = time.monotonic() + timeout
    seen = []
    while job["state"] == "running":
        assert time.monotonic() < deadline, job
        time.sleep(0.1)
        job = client.get(f"/api/exports/{job['id']}").get_json()
        assert 0 <= job["done"] <= job["total"]
        seen.append(job["done"])
    assert seen == sorted(seen)  # progress only moves forward
    return job


def _members(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return {name: zf.read(name) for name in zf.namelist()}


def _comparable(name: str, data: bytes) -> bytes:
    """The member, less the moment it was generated (JSON ``report.generated_at``)."""
    if name.endswith(".json"):
        doc = json.loads(data)
        doc["report"].pop("generated_at", None)
        return json.dumps(doc, sort_keys=True).encode()
    return data


@pytest.fixture
def term(school, world) -> dict:
    """room-a: Maths 7A on 3 and 4 March and 1 April 2025, Art 7A on 5 March; room-b: History 8B (bob's)."""
    room_a = school["room_a"]
    world.lesson(room_a, "Maths 7A · Tue period 2", start=datetime(2025, 3, 4, 9, 0, tzinfo=UTC))
    world.lesson(room_a, "Art 7A", start=datetime(2025, 3, 5, 9, 0, tzinfo=UTC))
    world.lesson(room_a, "Maths 7A", start=datetime(2025, 4, 1, 9, 0, tzinfo=UTC))
    return school


def test_the_zip_holds_what_the_cli_writes_for_the_same_choice(app, term, world, login, tmp_path) -> None:
    admin = login("admin")
    page = admin.get("/exports")
    assert page.status_code == 200 and b'id="bulk-export-form"' in page.data
    listed = admin.get("/sessions?label=Maths+7A").get_data(as_text=True)
    assert 'id="bulk-export-link" href="/exports?label=Maths+7A"' in listed  # the sessions list links here
    for body, cli_args, lessons in [
        ({"camera_id": term["room_a"]}, ["--camera", "room-a"], 4),
        ({"label": "Maths 7A", "from": "2025-03-01", "to": "2025-03-31"}, ["--class", "Maths 7A"], 2),
    ]:
        resp = _start(admin, formats=["csv", "json"], **body)
        assert resp.status_code == 202, resp.data
        job = _finish(admin, resp.get_json())
        assert (job["state"], job["done"], job["total"]) == ("done", lessons, lessons), job
        zipped = admin.get(job["download"])
        assert zipped.status_code == 200 and zipped.mimetype == "application/zip"
        assert zipped.headers["Cache-Control"] == "no-store"
        assert job["filename"] in zipped.headers["Content-Disposition"]
        out = tmp_path / f"cli-{lessons}.zip"
        dates = ["--from", body["from"], "--to", body["to"]] if "from" in body else []
        cli = run_cli(
            "--db", world.url, "export", *cli_args, *dates, "-f", "csv", "-f", "json", "--out", str(out)
        )
        assert cli.returncode == 0, cli.stderr
        web, ours = _members(zipped.data), _members(out.read_bytes())
        assert sorted(web) == sorted(ours) and len(web) == 2 * lessons
        for name in web:
            assert _comparable(name, web[name]) == _comparable(name, ours[name]), name
            if name.endswith(".csv"):
                assert web[name] == ours[name]
    app.extensions["bulk_exports"].close()


def test_the_zip_follows_the_sites_privacy_like_the_cli(app, term, world, login, tmp_path) -> None:
    world.setting("mode", "attention")  # attention only: no expression leaves the school
    admin = login("admin")
    job = _finish(admin, _start(admin, camera_id=term["room_a"], formats=["csv"]).get_json())
    web = _members(admin.get(job["download"]).data)
    out = tmp_path / "cli.zip"
    cli = run_cli("--db", world.url, "export", "--camera", "room-a", "--out", str(out))
    assert cli.returncode == 0, cli.stderr
    assert web == _members(out.read_bytes())
    for name, data in web.items():
        header = data.decode("utf-8-sig").splitlines()[0]
        assert "happy" not in header and "emotion" not in header, (name, header)
    app.extensions["bulk_exports"].close()


def test_a_teacher_exports_only_their_own_classes_and_cameras(app, term, login) -> None:
    alice = login("alice")  # room-a: Maths 7A and Art 7A
    assert _start(alice, label="History 8B").status_code == 403  # bob's class
    assert _start(alice, camera_id=term["room_b"]).status_code == 403  # bob's camera
    assert _start(alice, label="No Such Class").status_code == 403  # the same answer: nothing to probe
    assert _start(alice, camera_id=99999).status_code == 403
    page = alice.get("/exports").get_data(as_text=True)
    assert "History 8B" not in page and "room-b" not in page and "Maths 7A" in page
    mine = _start(alice, label="Maths 7A")
    assert mine.status_code == 202
    job = _finish(alice, mine.get_json())
    assert job["state"] == "done" and job["total"] == 3
    # Nobody else may poll or download it.
    bob = login("bob")
    assert bob.get(f"/api/exports/{job['id']}").status_code == 404
    assert bob.get(f"/api/exports/{job['id']}/download").status_code == 404
    assert alice.get(job["download"]).status_code == 200
    # With no class nor camera, a teacher's zip holds their cameras' lessons only.
    everything = _finish(alice, _start(alice).get_json())
    names = list(_members(alice.get(everything["download"]).data))
    assert len(names) == 4 and not any("history" in n.lower() for n in names)
    app.extensions["bulk_exports"].close()


def test_bad_requests_get_one_clear_message(app, term, login) -> None:
    admin = login("admin")
    for body, status, words in [
        ({"from": "March"}, 400, "from must be a date"),
        ({"from": "2025-03-10", "to": "2025-03-01"}, 400, "end date is before the start date"),
        ({"formats": ["docx"]}, 400, "formats must be some of csv, json, pdf, html"),
        ({"formats": []}, 400, "formats must be some of"),
        ({"camera_id": "x"}, 400, "camera_id must be"),
        ({"camera_id": 424242}, 404, "no camera 424242"),
        (
            {"label": "Maths 7A", "from": "2030-01-01"},
            404,
            "no sessions match class 'Maths 7A' from 2030-01-01",
        ),
    ]:
        resp = _start(admin, **body)
        assert resp.status_code == status, (body, resp.data)
        assert words in resp.get_json()["message"], (body, resp.get_json())
    not_json = admin.post("/api/exports", data="x", headers={"X-CSRFToken": csrf_of(admin)})
    assert not_json.status_code == 400
    assert admin.post("/api/exports", json={}).status_code == 400  # no CSRF token
    assert admin.get("/api/exports/nope").status_code == 404
    assert app.extensions["bulk_exports"].running() == 0


def test_a_finished_zip_is_deleted_when_it_expires(app, term, login, monkeypatch) -> None:
    from dashboard import bulk_export

    admin = login("admin")
    job = _finish(admin, _start(admin, camera_id=term["room_a"]).get_json())
    jobs = app.extensions["bulk_exports"]
    path = Path(jobs.get(job["id"], jobs._jobs[job["id"]].user_id).path)
    assert path.is_file() and oct(path.parent.stat().st_mode & 0o777) == "0o700"
    monkeypatch.setattr(bulk_export, "JOB_TTL_S", -1.0)
    assert admin.get(f"/api/exports/{job['id']}").status_code == 404
    assert not path.exists() and not path.parent.exists()
