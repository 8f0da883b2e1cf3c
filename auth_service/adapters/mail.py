"""Email senders: the log (development) or SMTP (production), chosen by AUTH_EMAIL_SENDER."""

from __future__ import annotations

import asyncio
import logging
import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage

log = logging.getLogger(__name__)


class LogSender:
    """Development only: the message, verification token included, goes to the log instead of a mailbox."""

    async def send(self, to: str, subject: str, body: str) -> None:
        log.info("email (development sender, not sent) to=%s subject=%r\n%s", to, subject, body)


@dataclass(frozen=True)
class SmtpSender:
    host: str
    port: int
    sender: str
    username: str = ""
    password: str = ""
    starttls: bool = True
    timeout: float = 10.0

    async def send(self, to: str, subject: str, body: str) -> None:
        message = EmailMessage()
        message["From"], message["To"], message["Subject"] = self.sender, to, subject
        message.set_content(body)
        await asyncio.to_thread(self._send, message)  # smtplib blocks: keep it off the event loop

    def _send(self, message: EmailMessage) -> None:
        with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
            if self.starttls:
                smtp.starttls(context=ssl.create_default_context())
            if self.username:
                smtp.login(self.username, self.password)
            smtp.send_message(message)
