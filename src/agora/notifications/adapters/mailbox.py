"""The development mailbox: keeps the most recent messages in memory, sends nothing.

Each process has its own mailbox, so with several workers a message is in the mailbox
of the worker that handled the request. Bounded, so a long-running development server
does not grow without limit.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence

from agora.notifications.domain import DeliveredMessage, EmailMessage
from agora.platform.clock import utcnow
from agora.platform.ids import new_id
from agora.platform.logging import get_logger

log = get_logger("agora.notifications")


class MailboxMailer:
    def __init__(self, capacity: int = 100) -> None:
        self._messages: deque[DeliveredMessage] = deque(maxlen=capacity)

    async def send(self, message: EmailMessage) -> str:
        delivered = DeliveredMessage(id=new_id(), message=message, sent_at=utcnow())
        self._messages.appendleft(delivered)
        log.info("mail_kept_in_mailbox", id=str(delivered.id), see="/dev/mailbox")
        return f"<{delivered.id}@mailbox.invalid>"

    def recent(self) -> Sequence[DeliveredMessage]:
        return tuple(self._messages)
