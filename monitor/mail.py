"""Sending mail: alerts and the weekly digest, through the school's own SMTP server.

The server, port, STARTTLS, sender and login name are site settings (``monitor.store.site_settings``); the
login's password is the per-process setting ``smtp_password`` (environment
``CLASSROOM_MONITOR_SMTP_PASSWORD``), never stored in the database. Each message is plain text plus an HTML
alternative, sent to one recipient, so that no teacher sees another's address.
"""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Any

from sqlalchemy.orm import Session

from monitor.store.site_settings import all_settings

SMTP_TIMEOUT_S = 20.0


class MailError(Exception):
    """Mail that could not be sent; the message (one line) is meant for the user."""


@dataclass(frozen=True)
class MailSettings:
    host: str
    port: int
    starttls: bool
    sender: str
    username: str = ""
    password: str | None = None

    @classmethod
    def from_site(cls, site: dict[str, Any], password: str | None) -> MailSettings | None:
        """The mail settings of the site; None when no mail server (or no sender) is set."""
        if not site.get("smtp_host") or not site.get("smtp_sender"):
            return None
        return cls(
            host=site["smtp_host"],
            port=site["smtp_port"],
            starttls=site["smtp_starttls"],
            sender=site["smtp_sender"],
            username=site["smtp_username"],
            password=password,
        )

    @classmethod
    def load(cls, db: Session, password: str | None) -> MailSettings | None:
        return cls.from_site(all_settings(db), password)


@dataclass(frozen=True)
class Mail:
    """One message to one recipient."""

    to: str
    subject: str
    text: str
    html: str | None = None


def build_message(settings: MailSettings, mail: Mail) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = settings.sender
    msg["To"] = mail.to
    msg["Subject"] = " ".join(mail.subject.split())  # one line: no header can be smuggled in
    msg["Date"] = formatdate(localtime=False)
    msg["Message-ID"] = make_msgid(domain=settings.sender.rsplit("@", 1)[-1])
    msg["Auto-Submitted"] = "auto-generated"  # RFC 3834: out-of-office replies should not answer
    msg.set_content(mail.text)
    if mail.html is not None:
        msg.add_alternative(mail.html, subtype="html")
    return msg


def send_all(settings: MailSettings, mails: list[Mail]) -> dict[str, str | None]:
    """Send ``mails`` over one connection; returns each recipient's error (None: accepted).

    Raises ``MailError`` when the server cannot be reached or refuses the login (nothing was sent)."""
    if not mails:
        return {}
    where = f"{settings.host}:{settings.port}"
    try:
        server = smtplib.SMTP(settings.host, settings.port, timeout=SMTP_TIMEOUT_S)
    except (OSError, smtplib.SMTPException) as exc:
        raise MailError(f"cannot reach the mail server {where}: {exc}") from exc
    results: dict[str, str | None] = {}
    try:
        server.ehlo_or_helo_if_needed()
        if settings.starttls:
            server.starttls(context=ssl.create_default_context())
            server.ehlo()
        if settings.username:
            if settings.password is None:
                raise MailError(
                    f"smtp_username is set but no password: set CLASSROOM_MONITOR_SMTP_PASSWORD for {where}"
                )
            server.login(settings.username, settings.password)
        for mail in mails:
            try:
                server.send_message(build_message(settings, mail))
                results[mail.to] = None
            except smtplib.SMTPRecipientsRefused as exc:
                results[mail.to] = f"refused by {where}: {exc.recipients.get(mail.to, exc)}"
            except smtplib.SMTPResponseException as exc:
                results[mail.to] = f"refused by {where}: {exc.smtp_code} {exc.smtp_error!r}"
    except smtplib.SMTPAuthenticationError as exc:
        raise MailError(f"the mail server {where} refused the login {settings.username!r}") from exc
    except (OSError, smtplib.SMTPException) as exc:
        raise MailError(f"mail to {where} failed: {exc}") from exc
    finally:
        try:
            server.quit()
        except (OSError, smtplib.SMTPException):
            server.close()
    return results
