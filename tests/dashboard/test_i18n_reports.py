"""Reports that carry Chinese, through the real dashboard: the PDF (read back with pdftotext), the HTML,
the CSV and the download's file name, for a lesson labelled 数学 初二(3)班 in a Shanghai school."""

from __future__ import annotations

import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import unquote

import pytest

from monitor.store.markers import add_marker
from tests.dashboard.helpers import log_in

LABEL = "数学 初二(3)班"
CAMERA = "教学楼301"
MARKER = "小组讨论开始"
ZH = {"Accept-Language": "zh-CN,zh;q=0.9"}
# 17:30 UTC on 7 Dec is 01:30 on 8 Dec in Shanghai: the file name carries the school's date.
START = datetime(2026, 12, 7, 17, 30, tzinfo=UTC)


@pytest.fixture
def chinese_lesson(world) -> int:
    world.setting("timezone", "Asia/Shanghai")
    room = world.camera(CAMERA)
    lesson = world.lesson(room, LABEL, start=START, seconds=120)
    with world.Session.begin() as db:
        add_marker(db, lesson, datetime(2026, 12, 7, 17, 31, tzinfo=UTC), MARKER, None)
    world.user("admin", admin=True)
    return lesson


def _get(app, path: str, headers: dict | None = None):
    client = app.test_client()
    assert log_in(client, "admin").status_code == 302
    resp = client.get(path, headers=headers or {})
    assert resp.status_code == 200, resp.data[:300]
    return resp


def _pdf_text(data: bytes, folder: Path) -> str:
    pdf = folder / "report.pdf"
    pdf.write_bytes(data)
    cmd = ["pdftotext", "-enc", "UTF-8", str(pdf), "-"]
    return subprocess.run(cmd, capture_output=True, text=True, check=True).stdout


def _file_name(resp) -> tuple[str, str]:
    """(the ASCII filename, the RFC 6266 filename* decoded)."""
    header = resp.headers["Content-Disposition"]
    assert header.startswith("attachment; ")
    plain = header.split('filename="', 1)[1].split('"', 1)[0]
    assert plain.isascii()
    star = header.split("filename*=UTF-8''", 1)[1].split(";", 1)[0]
    return plain, unquote(star, encoding="utf-8")


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="pdftotext (poppler-utils) is not installed")
def test_pdf_prints_the_chinese_label(app, chinese_lesson, tmp_path: Path) -> None:
    resp = _get(app, f"/sessions/{chinese_lesson}/export.pdf", ZH)
    text = _pdf_text(resp.data, tmp_path)
    squeezed = "".join(text.split())
    assert "".join(LABEL.split()) in squeezed, text[:400]
    assert CAMERA in squeezed and MARKER in squeezed
    assert "课堂报告" in squeezed and "摘要" in squeezed  # the headings are in Chinese too
    assert "整节课的参与度" in squeezed  # and the charts' titles
    assert "画面中人数：通常3人" in squeezed and "整节课的参与度指数平均为" in squeezed  # the summary too
    assert "2026年12月8日" in squeezed  # the day in the school's zone, written the Chinese way
    plain, full = _file_name(resp)
    assert full == f"session-{chinese_lesson}-数学-初二(3)班-2026-12-08.pdf"
    assert plain == f"session-{chinese_lesson}-3-2026-12-08.pdf"


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="pdftotext (poppler-utils) is not installed")
def test_english_pdf_of_a_chinese_lesson_still_prints_it(app, chinese_lesson, tmp_path: Path) -> None:
    """The font follows the text, not only the locale: an English report keeps the Chinese label."""
    resp = _get(app, f"/sessions/{chinese_lesson}/export.pdf", {"Accept-Language": "en"})
    text = _pdf_text(resp.data, tmp_path)
    squeezed = "".join(text.split())
    assert "".join(LABEL.split()) in squeezed and MARKER in squeezed, text[:400]
    assert "CLASS SESSION REPORT" in text


def test_html_report_keeps_the_label_in_chinese(app, chinese_lesson) -> None:
    resp = _get(app, f"/sessions/{chinese_lesson}/export.html", ZH)
    html = resp.get_data(as_text=True)
    assert '<html lang="zh-Hans-CN">' in html
    assert LABEL in html and CAMERA in html and MARKER in html
    assert "课堂报告" in html and "CLASS SESSION REPORT" not in html
    _plain, full = _file_name(resp)
    assert full.endswith("-数学-初二(3)班-2026-12-08.html")


def test_csv_for_a_chinese_reader_starts_with_a_bom(app, chinese_lesson) -> None:
    data = _get(app, f"/sessions/{chinese_lesson}/export.csv", ZH).data
    assert data.startswith(b"\xef\xbb\xbf")  # Excel on Chinese Windows reads it as UTF-8
    assert MARKER in data.decode("utf-8-sig")
    english = _get(app, f"/sessions/{chinese_lesson}/export.csv", {"Accept-Language": "en"}).data
    assert not english.startswith(b"\xef\xbb\xbf") and MARKER in english.decode()
    # The option overrides the locale either way.
    assert not _get(app, f"/sessions/{chinese_lesson}/export.csv?bom=0", ZH).data.startswith(b"\xef\xbb\xbf")
    assert _get(app, f"/sessions/{chinese_lesson}/export.csv?bom=1").data.startswith(b"\xef\xbb\xbf")


def test_csv_gives_utc_and_the_school_clock_with_rounded_figures(app, chinese_lesson) -> None:
    import csv
    import io

    text = _get(app, f"/sessions/{chinese_lesson}/export.csv", ZH).data.decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    first = rows[0]
    assert first["timestamp"] == "2026-12-07T17:30:00.000+00:00"
    assert first["school_time"] == "2026-12-08 01:30:00.000"  # Asia/Shanghai, UTC+8
    for row in rows:
        for name in ("attention", "confidence", "p_happy", "p_neutral"):
            assert len(row[name].partition(".")[2]) <= 4, (name, row[name])
    assert rows[-1]["marker"] == MARKER
