"""Hostile input never gets a 500: explicit reproductions of the 500s seen, and Hypothesis over every route.

The property test walks the app's URL map: for every rule and method it substitutes real and absurd ids,
and generates query parameters, form fields and JSON bodies, as an admin and as a teacher (with the CSRF
token the app requires, and sometimes without). Every answer must be below 500.
"""

from __future__ import annotations

import json
import string
from datetime import UTC
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import update

from dashboard.auth import hash_password
from dashboard.live import WATCH_ERROR_EVENT
from monitor.store.schema import User
from tests.dashboard.conftest import running_app
from tests.dashboard.helpers import PASSWORD, csrf_of, log_in

EXAMPLES_PER_ROUTE = 20
UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}


@pytest.fixture
def hostile_app(world):
    """The dashboard with a login throttle that never trips: the fuzzer fails many logins on purpose."""
    with running_app(world, LOGIN_FAILURES_ALLOWED=10**6) as app:
        yield app


def _client(app, name: str):
    client = app.test_client()
    resp = log_in(client, name)
    assert resp.status_code == 302, resp.data
    return client


# ---- the 500s seen, one by one ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "query",
    [
        "to=9999-12-31",
        "from=0001-01-01T00:00:00%2B14:00",
        "to=9999-12-31T23:59:59-14:00",
        "from=9999-12-31&to=9999-12-31",
    ],
)
@pytest.mark.parametrize("path", ["/api/sessions", "/sessions"])
def test_extreme_dates_are_a_400(school, login, path, query):
    resp = login("admin").get(f"{path}?{query}")
    assert resp.status_code == 400, resp.data[:300]
    assert b"out of range" in resp.data


def test_a_json_body_nested_20000_deep_is_a_400(school, login):
    client = login("admin")
    body = "[" * 20_000 + "]" * 20_000
    resp = client.put(
        "/api/settings", data=body, content_type="application/json", headers={"X-CSRFToken": csrf_of(client)}
    )
    assert resp.status_code == 400
    assert resp.get_json()["status"] == 400
    nested = '{"mode":' * 6_000 + '"attention"' + "}" * 6_000  # 48 kB: under the body limit
    resp = client.put(
        "/api/settings",
        data=nested,
        content_type="application/json",
        headers={"X-CSRFToken": csrf_of(client)},
    )
    assert resp.status_code == 400


@pytest.mark.parametrize("user_id", ["²", "١٢", "1_0", " 1", "99999999999999999999999", "-1", ""])
def test_assigning_cameras_with_a_strange_user_number_is_a_400(school, login, user_id):
    client = login("admin")
    resp = client.post(
        "/admin/users",
        data={
            "action": "cameras",
            "user_id": user_id,
            "camera_id": str(school["room_a"]),
            "csrf_token": csrf_of(client),
        },
    )
    assert resp.status_code == 400, resp.data[:300]


@pytest.mark.parametrize(
    "next_url",
    ["/cameras\r\nSet-Cookie: evil=1", "/x\nLocation: https://evil.example", "/\\evil.example", "/a\x00b"],
)
def test_login_with_control_characters_in_next_goes_to_the_index(school, app, next_url):
    client = app.test_client()
    client.get("/login")
    resp = client.post(
        "/login",
        data={"username": "alice", "password": PASSWORD, "csrf_token": csrf_of(client), "next": next_url},
    )
    assert resp.status_code == 302
    assert resp.headers["Location"] == "/"
    assert "evil" not in str(resp.headers)
    assert client.get("/api/me").status_code == 200  # the crafted link did not break the login


def test_login_keeps_a_plain_next(school, app):
    client = app.test_client()
    client.get("/login")
    resp = client.post(
        "/login",
        data={
            "username": "alice",
            "password": PASSWORD,
            "csrf_token": csrf_of(client),
            "next": "/sessions?x=1",
        },
    )
    assert resp.status_code == 302 and resp.headers["Location"] == "/sessions?x=1"


def test_socketio_watch_without_a_payload_gets_an_answer(school, app, login, caplog):
    sio = app.extensions["socketio"].test_client(app, flask_test_client=login("alice"))
    assert sio.is_connected()
    ack = sio.emit("watch", callback=True)
    assert ack == {"ok": False, "error": "camera_id must be a positive whole number"}
    sio.emit("watch")  # no payload and no ack: the answer comes as an event
    errors = [m["args"][0] for m in sio.get_received() if m["name"] == WATCH_ERROR_EVENT]
    assert errors and all(e["ok"] is False for e in errors)
    assert "TypeError" not in caplog.text
    assert sio.emit("watch", {"camera_id": school["room_a"]}, callback=True)["ok"] is True
    sio.disconnect()


# ---- every route, generated input -------------------------------------------------------------------------

_text = st.text(st.characters(exclude_categories=("Cs",)), max_size=40)
_ints = st.integers(min_value=-(2**70), max_value=2**70).map(str)
_nasty = st.sampled_from(
    [
        "9999-12-31",
        "0001-01-01",
        "0001-01-01T00:00:00+14:00",
        "9999-12-31T23:59:59-14:00",
        "2025-02-30",
        "²",
        "١٢",
        "1_000",
        "NaN",
        "inf",
        "-0",
        "auto",
        "99999999999999999999999",
        "\r\n",
        "\x00",
        "/\\evil.example",
        "//evil.example",
        "../../etc/passwd",
        "<script>",
        "' OR 1=1 --",
        "🙂",
    ]
)
_dates = st.one_of(
    st.dates().map(lambda d: d.isoformat()),
    st.datetimes(timezones=st.just(UTC)).map(lambda d: d.isoformat()),
    st.datetimes().map(lambda d: d.isoformat()),
)
_values = st.one_of(_nasty, _ints, _dates, _text)
QUERY_KEYS = ["from", "to", "camera_id", "limit", "bucket", "next", "format", "session_id", "user_id"]
FORM_KEYS = [
    "action",
    "user_id",
    "camera_id",
    "mode",
    "class_only",
    "retention_days",
    "username",
    "password",
    "new_password",
    "next",
    "class_size",
    "mounting",
    "name",
]
ACTIONS = ["privacy", "assign", "unassign", "passwd", "disable", "enable", "camera", "add", "delete"]
SETTING_KEYS = ["mode", "class_only", "retention_days", "sample_fps", "detector", "camera_id", "user_id"]

_json = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(min_value=-(2**70), max_value=2**70),
        st.floats(),
        _text,
        _nasty,
    ),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.one_of(st.sampled_from(SETTING_KEYS), _text), inner, max_size=4)
    ),
    max_leaves=12,
)


def _json_body(value) -> str:
    return json.dumps(value, allow_nan=True)  # NaN and Infinity: not JSON, but what a client may send


def _segment(converter: str, ids: list[int]) -> st.SearchStrategy[str]:
    if converter == "IntegerConverter":
        return st.one_of(st.sampled_from(ids), st.integers(min_value=0, max_value=2**80)).map(str)
    if converter == "PathConverter":
        return st.one_of(st.sampled_from(["style.css", "js/live.js", "vendor/chart.umd.min.js"]), _text)
    return st.one_of(st.sampled_from(["csv", "json", "pdf", "html", "zip"]), _text)


def _routes(app) -> list[tuple]:
    out = []
    for rule in app.url_map.iter_rules():
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            out.append((rule, method))
    return out


def _url(rule, values: dict[str, str]) -> str:
    """The rule's path with each ``<converter:name>`` replaced by its (percent-encoded) value."""
    path = rule.rule
    for name, conv in rule._converters.items():
        token = next(
            part for part in _placeholders(path) if part.endswith(f":{name}>") or part == f"<{name}>"
        )
        safe = "/" if type(conv).__name__ == "PathConverter" else ""
        path = path.replace(token, quote(values[name], safe=safe) or "x", 1)
    return path


def _placeholders(path: str) -> list[str]:
    parts, rest = [], path
    while "<" in rest:
        start = rest.index("<")
        end = rest.index(">", start)
        parts.append(rest[start : end + 1])
        rest = rest[end + 1 :]
    return parts


class Actor:
    """A logged-in client that logs back in (password and account restored) when an action ended it."""

    def __init__(self, app, world, name: str, admin: bool) -> None:
        self.app, self.world, self.name, self.admin = app, world, name, admin
        self.client = _client(app, name)

    def ensure_logged_in(self) -> None:
        if self.client.get("/api/me").status_code == 200:
            return
        with self.world.Session.begin() as db:
            db.execute(
                update(User)
                .where(User.username == self.name)
                .values(password_hash=hash_password(PASSWORD), is_active=True, is_admin=self.admin)
            )
        self.client = _client(self.app, self.name)


def test_no_route_answers_5xx_to_generated_input(hostile_app, world, school):
    app = hostile_app
    actors = [Actor(app, world, "admin", True), Actor(app, world, "alice", False)]
    ids = sorted({v for v in school.values()} | {1, 2, 3})
    failures: list[str] = []
    routes = _routes(app)
    assert len(routes) >= 20, [r.rule for r, _ in routes]

    for rule, method in routes:
        _fuzz_route(app, actors, rule, method, ids, failures)
    assert not failures


def _fuzz_route(app, actors: list[Actor], rule, method: str, ids: list[int], failures: list[str]) -> None:
    """Hypothesis on one rule and method: every answer below 500 (failures are collected for the report)."""
    segments = {name: _segment(type(conv).__name__, ids) for name, conv in rule._converters.items()}

    @settings(
        max_examples=EXAMPLES_PER_ROUTE,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(
        who=st.integers(min_value=0, max_value=len(actors)),  # len(actors): not logged in
        path_values=st.fixed_dictionaries(segments),
        query=st.dictionaries(st.one_of(st.sampled_from(QUERY_KEYS), _text), _values, max_size=4),
        form=st.dictionaries(
            st.one_of(st.sampled_from(FORM_KEYS), _text),
            _values,
            max_size=5,
        ),
        action=st.one_of(st.sampled_from(ACTIONS), _text),
        body=st.one_of(_json, st.dictionaries(st.sampled_from(SETTING_KEYS), _json, max_size=3)),
        kind=st.sampled_from(["form", "json", "none"]),
        with_csrf=st.sampled_from([True, True, True, False]),
    )
    def run(who, path_values, query, form, action, body, kind, with_csrf):
        if who < len(actors):
            actor = actors[who]
            actor.ensure_logged_in()
            client = actor.client
        else:
            client = app.test_client()
        url = _url(rule, path_values)
        headers = {}
        kwargs: dict = {"query_string": query}
        if method in UNSAFE:
            token = csrf_of(client)
            if with_csrf:
                headers["X-CSRFToken"] = token
            if kind == "form":
                form = {**form, "action": action, **({"csrf_token": token} if with_csrf else {})}
                kwargs["data"] = form
            elif kind == "json":
                kwargs["data"] = _json_body(body)
                kwargs["content_type"] = "application/json"
        if rule.endpoint == "auth.logout" and who < len(actors):
            client = _client(app, actors[who].name)  # log out a second session, not the actor's
        resp = client.open(url, method=method, headers=headers, **kwargs)
        if resp.status_code >= 500:
            failures.append(f"{method} {url} {kwargs} -> {resp.status_code}: {resp.data[:200]!r}")
        assert resp.status_code < 500, failures[-1]

    run()


def test_the_property_test_covers_every_route(hostile_app):
    """A new route is fuzzed automatically; this guards the placeholder substitution for it."""
    for rule, _method in _routes(hostile_app):
        values = {name: "7" for name in rule._converters}
        url = _url(rule, values)
        assert "<" not in url and ">" not in url, rule.rule
        assert set(string.printable) >= set(url)
