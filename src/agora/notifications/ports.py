"""Ports of the notifications context: where mail goes, where queued mail is kept, what
a mailbox shows and who a user's mail goes to."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Protocol
from uuid import UUID

from agora.notifications.domain import (
    DeliveredMessage,
    EmailMessage,
    MailMessage,
    MailQuery,
    Recipient,
)
from agora.platform.unit_of_work import UnitOfWork


class Mailer(Protocol):
    async def send(self, message: EmailMessage) -> str:
        """Hand the message over for delivery; returns the Message-ID it was sent with.

        Raises ``DependencyUnavailableError`` when the mail server cannot take it now.
        """
        ...


class Mailbox(Protocol):
    """A mailer that keeps what it was given, for developers to read."""

    def recent(self) -> Sequence[DeliveredMessage]:
        """The kept messages, newest first."""
        ...


class MailMessages(Protocol):
    """The queued, sent and failed messages (``mail_messages``)."""

    async def add(self, message: MailMessage) -> bool:
        """Keep a new message; False (and nothing written) when one with the same
        ``dedupe_key`` is already kept."""
        ...

    async def get(self, message_id: UUID) -> MailMessage | None: ...

    async def search(
        self, query: MailQuery, offset: int, limit: int
    ) -> tuple[Sequence[MailMessage], int]:
        """Matching messages, newest first, and how many match in all."""
        ...

    async def record_sent(
        self, message_id: UUID, provider_message_id: str, at: datetime
    ) -> None: ...

    async def record_failure(
        self, message_id: UUID, error: str, at: datetime, *, final: bool
    ) -> None:
        """Count a failed attempt; ``final`` marks the message failed, otherwise it
        stays queued for the next one."""
        ...

    async def requeue(self, message_id: UUID) -> bool:
        """Mark a sent or failed message queued again; False when it is queued already."""
        ...

    async def last_outcome(self) -> MailMessage | None:
        """The message attempted most recently (None when nothing was attempted yet)."""
        ...


class NotificationsUnitOfWork(UnitOfWork, Protocol):
    @property
    def mail(self) -> MailMessages: ...


NotificationsUnitOfWorkFactory = Callable[..., NotificationsUnitOfWork]

# The mail store inside another context's unit of work: a message queued there commits
# (or rolls back) together with the change that caused it.
MailMessagesIn = Callable[[UnitOfWork], MailMessages]


class RecipientDirectory(Protocol):
    """Who a user is for mail (implemented over identity's accounts)."""

    async def recipient(self, user_id: UUID) -> Recipient | None: ...


class MailServerProbe(Protocol):
    async def __call__(self) -> None:
        """Return when the mail server answers; raise when it cannot be reached."""
        ...
