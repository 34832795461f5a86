"""dashboard/API.md names every route the dashboard serves (each method and path), so that a new page or
form is never left undocumented."""

from __future__ import annotations

import re
from pathlib import Path

API_MD = Path(__file__).resolve().parents[2] / "dashboard" / "API.md"
METHODS = ("GET", "POST", "PUT", "DELETE")
ROUTE = re.compile(r"`((?:(?:GET|POST|PUT|DELETE)`?/?`?)+) (/[^` ?]*)")


def shape(path: str) -> str:
    """``/api/cameras/<int:camera_id>/live`` and ``/api/cameras/<id>/live`` alike (``<>`` for each part)."""
    return re.sub(r"<[^>]+>", "<>", path)


def documented() -> set[tuple[str, str]]:
    """(method, path shape) of each route API.md names, ``GET`/`POST /account/email`` included."""
    out = set()
    for methods, path in ROUTE.findall(API_MD.read_text(encoding="utf-8")):
        out |= {(m, shape(path)) for m in re.findall("|".join(METHODS), methods)}
    return out


def test_every_route_is_in_the_api_doc(app):
    served = {
        (method, shape(rule.rule))
        for rule in app.url_map.iter_rules()
        if not rule.rule.startswith("/static")
        for method in rule.methods & set(METHODS)
    }
    assert served - documented() == set()
