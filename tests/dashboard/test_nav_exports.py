"""A teacher finds the bulk export from the navigation: the Sessions list links to it, and on /exports the
top bar marks Sessions as where they are (the top bar has no room for a tenth entry)."""

from __future__ import annotations

import re

ACTIVE = re.compile(r'<a href="([^"]+)" class="active"')


def test_the_exports_page_sits_under_sessions_in_the_nav(school, login):
    alice = login("alice")
    sessions = alice.get("/sessions").get_data(as_text=True)
    assert 'id="bulk-export-link" href="/exports"' in sessions
    page = alice.get("/exports").get_data(as_text=True)
    assert ACTIVE.findall(page) == ["/sessions"]
