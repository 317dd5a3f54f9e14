"""Sending mail on behalf of the other contexts.

Contexts never import each other, so identity declares a small port of its own
(``send(to, subject, text)``) and the composition root hands it this service.
"""

from __future__ import annotations

from agora.notifications.domain import EmailMessage
from agora.notifications.ports import Mailer


class MailService:
    def __init__(self, mailer: Mailer, sender: str) -> None:
        self._mailer = mailer
        self._sender = sender

    async def send(self, to: str, subject: str, text: str) -> None:
        """Send a plain-text email; ``DependencyUnavailableError`` when mail is down."""
        await self._mailer.send(
            EmailMessage(sender=self._sender, to=to, subject=subject, text=text)
        )
