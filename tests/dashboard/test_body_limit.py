"""A body over the limit gets a 413 that says ``Connection: close`` and closes, under gunicorn and Werkzeug.

gunicorn used to answer ``Connection: keep-alive`` and then drop the socket (it drains at most 64 kB of an
unread body), so a client that believed the header lost the request it sent next on that connection.
These tests speak raw HTTP/1.1 to the real ``classroom-monitor dashboard`` process on loopback.
"""

from __future__ import annotations

import socket

import pytest

from dashboard import MAX_BODY_BYTES
from tests.dashboard.test_production_server import served  # noqa: F401  (the real server fixture)

OVER_LIMIT = MAX_BODY_BYTES + 40_000  # small enough for the kernel's buffers: the answer is always read


class Conn:
    """One keep-alive HTTP/1.1 connection, read response by response."""

    def __init__(self, base: str) -> None:
        host, port = base.removeprefix("http://").split(":")
        self.sock = socket.create_connection((host, int(port)), timeout=10)
        self.buf = b""

    def send(self, method: str, path: str, body: bytes = b"", **headers: str) -> None:
        lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1"]
        lines += [f"{k.replace('_', '-')}: {v}" for k, v in headers.items()]
        if body or method == "POST":
            lines += ["Content-Type: application/x-www-form-urlencoded", f"Content-Length: {len(body)}"]
        self.sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode() + body)

    def _fill(self) -> bool:
        chunk = self.sock.recv(65536)
        self.buf += chunk
        return bool(chunk)

    def response(self) -> tuple[int, dict[str, str]]:
        """(status, headers) of the next response; its body is read and dropped."""
        while b"\r\n\r\n" not in self.buf:
            assert self._fill(), "the server closed the connection without an answer"
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        status_line, *lines = head.decode("latin-1").split("\r\n")
        headers = {k.strip().lower(): v.strip() for k, v in (line.split(":", 1) for line in lines)}
        length = int(headers.get("content-length", 0))
        while len(self.buf) < length:
            assert self._fill(), "the server closed the connection in the middle of an answer"
        self.buf = self.buf[length:]
        return int(status_line.split()[1]), headers

    def closed_by_server(self) -> bool:
        """Whether the server has closed its side (EOF or reset) rather than waiting for a next request."""
        self.sock.settimeout(5)
        try:
            return not self.sock.recv(1)
        except ConnectionResetError:
            return True
        except TimeoutError:
            return False

    def close(self) -> None:
        self.sock.close()


@pytest.fixture(params=["gunicorn", "werkzeug"])
def server(request, world, served) -> tuple[str, str]:  # noqa: F811
    """(kind, base URL): the production server, and ``--dev``'s Werkzeug (one request per connection)."""
    url, _proc = served(*(("--dev",) if request.param == "werkzeug" else ()))
    return request.param, url


@pytest.mark.parametrize("path", ["/login", "/api/settings"])  # a page's form, and the API before login
def test_a_body_over_the_limit_is_refused_and_the_connection_closed_as_announced(server, path) -> None:
    kind, base = server
    conn = Conn(base)
    try:
        conn.send("POST", path, b"x" * OVER_LIMIT)
        status, headers = conn.response()
        assert status in (401, 413)
        assert status == 413 or path.startswith("/api/")  # the API refuses a stranger before reading
        assert headers["connection"].lower() == "close"
        if kind == "gunicorn":  # Werkzeug's server reads on until the client hangs up (it closes then)
            assert conn.closed_by_server()
    finally:
        conn.close()


def test_gunicorn_keeps_the_connection_after_a_small_bad_request(world, served) -> None:  # noqa: F811
    base, _proc = served()
    conn = Conn(base)
    try:
        conn.send("POST", "/login", b"username=x")
        status, headers = conn.response()
        assert status == 400 and headers.get("connection", "keep-alive").lower() == "keep-alive"
        conn.send("GET", "/login")
        assert conn.response()[0] == 200
    finally:
        conn.close()
