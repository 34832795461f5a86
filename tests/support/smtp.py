"""A real SMTP server on loopback (aiosmtpd), started by a test: it keeps every message it accepts."""

from __future__ import annotations

import email
import email.policy
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from email.message import EmailMessage

from aiosmtpd.controller import Controller

from tests.support.mjpeg_server import free_port


class Inbox:
    """aiosmtpd's handler: each accepted message, parsed, with its envelope recipients."""

    def __init__(self) -> None:
        self.messages: list[tuple[list[str], EmailMessage]] = []
        self._lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: N802 (aiosmtpd's hook name)
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self._lock:
            self.messages.append((list(envelope.rcpt_tos), message))
        return "250 Message accepted for delivery"

    def received(self) -> list[tuple[list[str], EmailMessage]]:
        with self._lock:
            return list(self.messages)

    def wait_for(self, count: int, timeout: float = 60) -> list[tuple[list[str], EmailMessage]]:
        """The messages once at least ``count`` arrived (AssertionError after ``timeout`` s)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if len(got := self.received()) >= count:
                return got
            time.sleep(0.2)
        raise AssertionError(f"{count} message(s) expected within {timeout} s, got {len(self.received())}")


def text_of(message: EmailMessage) -> str:
    """The plain-text part of a message."""
    return message.get_body(preferencelist=("plain",)).get_content()


def html_of(message: EmailMessage) -> str:
    return message.get_body(preferencelist=("html",)).get_content()


class SmtpServer:
    def __init__(self) -> None:
        self.inbox = Inbox()
        self.port = free_port()
        self.controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port)

    def settings(self) -> dict[str, object]:
        """The site settings that send mail here."""
        return {"smtp_host": "127.0.0.1", "smtp_port": self.port, "smtp_sender": "monitor@school.test"}


@contextmanager
def running_smtp() -> Iterator[SmtpServer]:
    """A real SMTP server on a free loopback port for the block (a test's fixture yields it)."""
    server = SmtpServer()
    server.controller.start()
    try:
        yield server
    finally:
        server.controller.stop()
