"""PDF: opens, reads as a teacher's report, and says nothing of emotion in attention-only mode."""

from __future__ import annotations

import io
import re
import shutil
import subprocess

import pytest
from pypdf import PdfReader

from monitor.reports import render
from monitor.store import make_engine, session_factory

from .helpers import emotion_words


def pdf_text(db, session_id: int) -> tuple[PdfReader, str]:
    data = b"".join(render(db, session_id, "pdf"))
    assert data.startswith(b"%PDF-")
    reader = PdfReader(io.BytesIO(data))
    text = "\n".join(page.extract_text() for page in reader.pages)
    return reader, re.sub(r"\s+", " ", text)


def test_pdf_has_the_expected_sections(db, seeded):
    reader, text = pdf_text(db, seeded.ended)
    assert 1 <= len(reader.pages) <= 3
    for expected in (
        "Maths 7B",
        "Camera Room 101",
        "09:00–09:20",
        "Summary",
        "Dominant expressions across the class: neutral",
        "Lowest heads-up periods: 09:08",
        "Expressions over the session",
        "Engagement over the session",
        "Anonymous tracks",
        "Expression model test-cnn-1: measured test accuracy 64%",
        "not a feeling",
        "Do not use this report for grading, discipline",
    ):
        assert expected in text
    assert "in progress" not in text.lower()
    assert reader.metadata.title.startswith("Maths 7B")


def test_attention_only_pdf_has_no_emotion_words(db, seeded):
    _, text = pdf_text(db, seeded.attention)
    assert "History 8A" in text and "Engagement over the session" in text
    assert not emotion_words(text)


def test_running_session_pdf_is_marked_in_progress(db, seeded):
    _, text = pdf_text(db, seeded.running)
    assert "IN PROGRESS" in text
    assert "still running" in text


@pytest.mark.skipif(shutil.which("pdftoppm") is None, reason="pdftoppm (apt: poppler-utils) not installed")
def test_pdf_first_page_renders_to_an_image(db, seeded, tmp_path):
    pdf = tmp_path / "report.pdf"
    pdf.write_bytes(b"".join(render(db, seeded.ended, "pdf")))
    subprocess.run(
        ["pdftoppm", "-png", "-r", "50", "-f", "1", "-l", "1", str(pdf), str(tmp_path / "p")], check=True
    )
    [png] = tmp_path.glob("p*.png")
    assert png.read_bytes().startswith(b"\x89PNG") and png.stat().st_size > 10_000


@pytest.mark.slow
def test_pdf_of_a_real_worker_session(recorded_session):
    db_url, session_id = recorded_session
    with session_factory(make_engine(db_url))() as db:
        _, text = pdf_text(db, session_id)
    assert "Maths 7B" in text and "room-101" in text
    assert "Dominant expressions across the class" in text
