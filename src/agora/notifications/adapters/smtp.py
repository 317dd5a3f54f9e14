"""The SMTP mailer (aiosmtplib): one connection per message, bounded by a timeout.

Account mail is rare (a sign-up, a reset), so a connection per message is simpler than
a pool and never holds a stale connection to a relay that restarted.
"""

from __future__ import annotations

import asyncio
import contextlib
import email.message
import email.utils
from typing import Literal

import aiosmtplib

from agora.notifications.domain import EmailMessage
from agora.platform.errors import DependencyUnavailableError
from agora.platform.logging import get_logger

log = get_logger("agora.notifications.smtp")

SmtpSecurity = Literal["starttls", "tls", "none"]


class SmtpMailer:
    def __init__(
        self,
        *,
        host: str,
        port: int,
        security: SmtpSecurity,
        timeout: float,
        username: str | None = None,
        password: str | None = None,
    ) -> None:
        self._host = host
        self._port = port
        self._security = security
        self._timeout = timeout
        self._username = username
        self._password = password

    async def send(self, message: EmailMessage) -> str:
        mime = _mime(message)
        try:
            await aiosmtplib.send(
                mime,
                hostname=self._host,
                port=self._port,
                username=self._username,
                password=self._password,
                use_tls=self._security == "tls",
                # Explicit, never "if offered": a relay that stops offering STARTTLS must
                # fail the send rather than silently downgrade to clear text.
                start_tls=self._security == "starttls",
                timeout=self._timeout,
            )
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            # The cause is for operators; the caller (and a client) learns only "mail is down".
            log.warning(
                "smtp_send_failed",
                host=self._host,
                port=self._port,
                error=f"{type(exc).__name__}: {exc}"[:300],
            )
            raise DependencyUnavailableError(
                "The mail server is unavailable; the email was not sent.", dependency="mail"
            ) from exc
        return str(mime["Message-ID"])

    async def probe(self) -> None:
        """Readiness: the server accepts a TCP connection within two seconds (no SMTP
        session: the check runs often and must not fill the relay's log)."""
        try:
            _, writer = await asyncio.wait_for(
                asyncio.open_connection(self._host, self._port), timeout=min(2.0, self._timeout)
            )
        except (OSError, TimeoutError) as exc:
            raise DependencyUnavailableError(
                "The mail server is unreachable.", dependency="mail"
            ) from exc
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()


def _mime(message: EmailMessage) -> email.message.EmailMessage:
    mime = email.message.EmailMessage()
    mime["From"] = message.sender
    mime["To"] = message.to
    mime["Subject"] = message.subject
    mime["Date"] = email.utils.formatdate(localtime=False)
    sender_domain = email.utils.parseaddr(message.sender)[1].rpartition("@")[2] or None
    mime["Message-ID"] = email.utils.make_msgid(domain=sender_domain)
    mime.set_content(message.text)
    if message.html is not None:
        mime.add_alternative(message.html, subtype="html")
    return mime
