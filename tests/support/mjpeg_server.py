"""A real HTTP MJPEG camera on loopback for fault tests: it can be stopped, stalled and restarted."""

from __future__ import annotations

import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import cv2

BOUNDARY = "frameboundary"


def load_jpegs(video: Path, limit: int = 200) -> list[bytes]:
    cap = cv2.VideoCapture(str(video))
    out = []
    while len(out) < limit:
        ok, img = cap.read()
        if not ok:
            break
        out.append(cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, 80])[1].tobytes())
    return out


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class MjpegCamera:
    """Serves ``/stream.mjpg`` (multipart/x-mixed-replace) at ``fps``, looping over ``jpegs``."""

    def __init__(self, jpegs: list[bytes], port: int, fps: float = 15.0) -> None:
        self.jpegs, self.port, self.fps = jpegs, port, fps
        self.stalled = threading.Event()
        self.frames_sent = 0
        self._server: ThreadingHTTPServer | None = None
        self._alive = threading.Event()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/stream.mjpg"

    def start(self) -> None:
        camera = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def do_GET(self) -> None:
                self.send_response(200)
                self.send_header("Content-Type", f"multipart/x-mixed-replace; boundary={BOUNDARY}")
                self.end_headers()
                i = 0
                try:
                    while camera._alive.is_set():
                        if camera.stalled.is_set():
                            time.sleep(0.05)
                            continue
                        jpg = camera.jpegs[i % len(camera.jpegs)]
                        head = (
                            f"--{BOUNDARY}\r\nContent-Type: image/jpeg\r\nContent-Length: {len(jpg)}\r\n\r\n"
                        )
                        self.wfile.write(head.encode() + jpg + b"\r\n")
                        camera.frames_sent += 1
                        i += 1
                        time.sleep(1.0 / camera.fps)
                except (BrokenPipeError, ConnectionResetError):
                    pass

        ThreadingHTTPServer.allow_reuse_address = True
        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._server.daemon_threads = True
        self._alive.set()
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        """The camera goes away: open connections end and new ones are refused."""
        self._alive.clear()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
