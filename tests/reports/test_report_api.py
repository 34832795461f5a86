"""The library API the CLI and the dashboard share: eager validation, file names, files and zips."""

from __future__ import annotations

import zipfile
from datetime import datetime

import pytest

from monitor.reports import (
    FORMATS,
    MEDIA_TYPES,
    ReportError,
    find_sessions,
    render,
    report_filename,
    write_bulk_zip,
    write_report,
)
from monitor.store.queries import session_dict
from monitor.store.schema import ClassSession


def test_every_format_has_a_media_type():
    assert FORMATS == ("csv", "json", "pdf", "html")
    assert set(FORMATS) <= set(MEDIA_TYPES)
    assert MEDIA_TYPES["pdf"] == "application/pdf"


@pytest.mark.parametrize("fmt", FORMATS)
def test_unknown_session_fails_before_the_iterator_is_returned(db, fmt):
    with pytest.raises(ReportError, match="no session with id 9999"):
        render(db, 9999, fmt)


def test_unknown_format_fails_before_the_iterator_is_returned(db, seeded):
    with pytest.raises(ReportError, match="unknown report format 'xml'"):
        render(db, seeded.ended, "xml")


def test_format_names_are_case_insensitive(db, seeded):
    assert next(iter(render(db, seeded.ended, "CSV"))).startswith(b"timestamp,")


def test_report_filename_is_descriptive_and_safe():
    session = {
        "id": 12,
        "label": "Maths / Year 7 — Fractions!",
        "started_at": "2026-11-21T09:00:00.000+00:00",
        "in_progress": False,
    }
    day = datetime.fromisoformat(session["started_at"]).astimezone().strftime("%Y-%m-%d")
    assert report_filename(session, "csv") == f"session-12-maths-year-7-fractions-{day}.csv"
    assert report_filename({**session, "in_progress": True}, "pdf").endswith(f"{day}-in-progress.pdf")
    assert report_filename({**session, "label": "../../etc"}, "json") == f"session-12-etc-{day}.json"
    with pytest.raises(ReportError):
        report_filename(session, "exe")


def test_write_report_into_a_folder_uses_the_report_filename(db, seeded, tmp_path):
    path = write_report(db, seeded.ended, "json", tmp_path)
    expected = report_filename(session_dict(db.get(ClassSession, seeded.ended)), "json")
    assert path == tmp_path / expected
    assert path.read_bytes().startswith(b"{")
    assert [p.name for p in tmp_path.iterdir()] == [expected]  # no temporary file left behind


def test_write_report_to_a_missing_folder_is_a_clear_error(db, seeded, tmp_path):
    with pytest.raises(ReportError, match="does not exist"):
        write_report(db, seeded.ended, "csv", tmp_path / "nope" / "out.csv")
    blocker = tmp_path / "file.txt"
    blocker.write_text("x")
    with pytest.raises(ReportError, match="cannot write"):
        write_report(db, seeded.ended, "csv", blocker / "out.csv")


def test_failed_render_leaves_no_partial_file(db, seeded, tmp_path, monkeypatch):
    import monitor.reports.csv_export as csv_export

    def broken(*_args, **_kwargs):
        yield b"timestamp\n"
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(csv_export, "iter_csv", broken)
    with pytest.raises(RuntimeError):
        write_report(db, seeded.ended, "csv", tmp_path / "out.csv")
    assert list(tmp_path.iterdir()) == []


def test_bulk_zip_holds_every_session_in_every_format(db, seeded, tmp_path):
    ids = find_sessions(db, camera="Room 101")
    assert ids == [seeded.ended, seeded.attention]
    path = write_bulk_zip(db, ids, ["csv", "json"], tmp_path / "room.zip")
    with zipfile.ZipFile(path) as zf:
        assert zf.testzip() is None
        names = zf.namelist()
        assert len(names) == 4
        for sid in ids:
            stem = report_filename(session_dict(db.get(ClassSession, sid)), "csv")[: -len(".csv")]
            assert {f"{stem}.csv", f"{stem}.json"} <= set(names)
        csv_name = next(n for n in names if n.endswith(".csv"))
        assert zf.read(csv_name) == b"".join(render(db, ids[0], "csv"))


def test_find_sessions_by_date_and_unknown_camera(db, seeded):
    day = datetime(2026, 11, 20, 12).astimezone().date()
    assert set(find_sessions(db, date_from=day, date_to=day)) >= {seeded.ended, seeded.attention}
    assert seeded.running not in find_sessions(db, date_from=day, date_to=day)
    with pytest.raises(ReportError, match="no camera named 'Gym'"):
        find_sessions(db, camera="Gym")
    with pytest.raises(ReportError, match="no sessions match"):
        find_sessions(db, date_from=datetime(2001, 1, 1).date(), date_to=datetime(2001, 1, 2).date())


def test_bulk_zip_with_unknown_session_writes_nothing(db, seeded, tmp_path):
    with pytest.raises(ReportError, match="no session with id 424242"):
        write_bulk_zip(db, [seeded.ended, 424242], ["csv"], tmp_path / "x.zip")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_session_with_nothing_stored_yet_still_renders(db, seeded, fmt):
    data = b"".join(render(db, seeded.empty, fmt))
    assert data
    if fmt == "csv":
        assert data.count(b"\n") == 1  # the header only
    if fmt == "html":
        assert b"No faces or frames have been stored" in data
