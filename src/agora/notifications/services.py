"""Sending mail on behalf of the other contexts, and what the development mailbox kept.

Contexts never import each other, so identity declares a small port of its own
(``send(to, subject, text)``) and the composition root hands it this service.
"""

from __future__ import annotations

from collections.abc import Sequence

from agora.notifications.domain import DeliveredMessage, EmailMessage
from agora.notifications.ports import Mailbox, Mailer


class MailService:
    def __init__(self, mailer: Mailer, sender: str, *, mailbox: Mailbox | None = None) -> None:
        self._mailer = mailer
        self._sender = sender
        # The development mailbox, when mail goes there (``/dev/mailbox`` reads it).
        self._mailbox = mailbox

    async def send(self, to: str, subject: str, text: str) -> None:
        """Send a plain-text email; ``DependencyUnavailableError`` when mail is down."""
        await self._mailer.send(
            EmailMessage(sender=self._sender, to=to, subject=subject, text=text)
        )

    def kept_messages(self) -> Sequence[DeliveredMessage] | None:
        """The development mailbox's messages, newest first; None when mail goes out
        through SMTP and is kept nowhere here."""
        return None if self._mailbox is None else self._mailbox.recent()
