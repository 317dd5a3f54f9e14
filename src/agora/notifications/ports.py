"""Ports of the notifications context: where mail goes, and what a mailbox shows."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from agora.notifications.domain import DeliveredMessage, EmailMessage


class Mailer(Protocol):
    async def send(self, message: EmailMessage) -> None:
        """Hand the message over for delivery.

        Raises ``DependencyUnavailableError`` when the mail server cannot take it now.
        """
        ...


class Mailbox(Protocol):
    """A mailer that keeps what it was given, for developers to read."""

    def recent(self) -> Sequence[DeliveredMessage]:
        """The kept messages, newest first."""
        ...
