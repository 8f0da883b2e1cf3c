"""Email senders: the log (development only) or SMTP over TLS (production), chosen by AUTH_EMAIL_SENDER."""

from __future__ import annotations

import asyncio
import logging
import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import Literal

log = logging.getLogger(__name__)
Tls = Literal["starttls", "implicit", "none"]


class LogSenderInProduction(Exception):
    """AUTH_EMAIL_SENDER=log where AUTH_ENVIRONMENT=production: every verification token would be in the log."""

    def __init__(self) -> None:
        super().__init__(
            "the log sender writes verification tokens to the log, development only; "
            "AUTH_ENVIRONMENT=production needs AUTH_EMAIL_SENDER=smtp"
        )


class SmtpPasswordFileError(Exception):
    """The SMTP password file is needed (a username is set) but missing, unreadable or empty."""


class SmtpCaFileError(Exception):
    """The CA bundle to verify the SMTP server with cannot be loaded."""


class SmtpLoginWithoutTls(Exception):
    """A login over a connection without TLS would send the password in clear."""

    def __init__(self) -> None:
        super().__init__("none sends the SMTP password in clear: use starttls or implicit with AUTH_SMTP_USERNAME")


class LogSender:
    """Development only: the message, verification token included, goes to the log instead of a mailbox."""

    async def send(self, to: str, subject: str, body: str) -> None:
        log.info("email (development sender, not sent) to=%s subject=%r\n%s", to, subject, body)


def read_password_file(path: Path | None) -> str:
    """A secret from a file (a compose or Kubernetes secret), never from the environment; one trailing newline
    (what editors and `echo` add) is not part of it."""
    if path is None:
        raise SmtpPasswordFileError("not set, but AUTH_SMTP_USERNAME is: the SMTP login needs its password file")
    try:
        password = path.read_text(encoding="utf-8").removesuffix("\n").removesuffix("\r")
    except (OSError, UnicodeDecodeError) as exc:
        raise SmtpPasswordFileError(f"cannot read {path}: {getattr(exc, 'strerror', None) or exc}") from None
    if not password:
        raise SmtpPasswordFileError(f"{path} is empty")
    return password


def tls_context(ca_file: Path | None) -> ssl.SSLContext:
    """Certificates and host names verified: against the system's CAs, or only those in `ca_file`."""
    try:
        return ssl.create_default_context(cafile=str(ca_file) if ca_file else None)
    except (OSError, ssl.SSLError) as exc:
        raise SmtpCaFileError(f"cannot load {ca_file}: {getattr(exc, 'strerror', None) or exc}") from None


@dataclass(frozen=True)
class SmtpSender:
    host: str
    port: int
    sender: str
    tls: Tls = "starttls"
    context: ssl.SSLContext | None = None  # None: the system's CAs
    username: str = ""
    password: str = ""
    timeout: float = 10.0

    def __post_init__(self) -> None:
        if self.username and self.tls == "none":
            raise SmtpLoginWithoutTls()

    async def send(self, to: str, subject: str, body: str) -> None:
        message = EmailMessage()
        message["From"], message["To"], message["Subject"] = self.sender, to, subject
        message.set_content(body)
        await asyncio.to_thread(self._send, message)  # smtplib blocks: keep it off the event loop

    def _send(self, message: EmailMessage) -> None:
        context = self.context or ssl.create_default_context()
        smtp: smtplib.SMTP
        if self.tls == "implicit":
            smtp = smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout, context=context)
        else:
            smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        with smtp:
            if self.tls == "starttls":
                # Raises if the server does not offer it: never falls back to sending in clear.
                smtp.starttls(context=context)
            if self.username:
                smtp.login(self.username, self.password)
            smtp.send_message(message)
