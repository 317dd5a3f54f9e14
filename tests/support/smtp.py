"""A real SMTP server for tests: aiosmtpd on a free loopback port, keeping what it accepts."""

from __future__ import annotations

import email
import email.policy
from dataclasses import dataclass, field
from email.message import EmailMessage as MimeMessage
from typing import Any

from aiosmtpd.controller import Controller

from tests.e2e.served import free_port


@dataclass
class Inbox:
    """An aiosmtpd handler: every accepted message as (MAIL FROM, RCPT TOs, parsed message)."""

    messages: list[tuple[str, list[str], MimeMessage]] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(parsed, MimeMessage)
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), parsed))
        return "250 Message accepted for delivery"


class SmtpServer:
    """The server on a fixed port that a test can take down and bring back."""

    def __init__(self, **options: Any) -> None:
        self.port = free_port()
        self.inbox = Inbox()
        self._options = options
        self._controller: Controller | None = None

    def start(self) -> None:
        self._controller = Controller(
            self.inbox, hostname="127.0.0.1", port=self.port, **self._options
        )
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None
