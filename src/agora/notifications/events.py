"""The event notifications publishes: a message was queued for sending (version 1).

The address and body stay in ``mail_messages``: the event names the message, and the
sender reads the row, so a message re-sent by staff goes out as it is stored now.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from agora.platform.events import EventPayload, EventType

MAIL_QUEUED = "notifications.MailQueued"


class MailQueued(EventPayload):
    message_id: UUID
    kind: str


EVENT_TYPES: tuple[EventType[Any], ...] = (
    EventType(
        MAIL_QUEUED,
        MailQueued,
        "An email was queued (or re-queued by staff); the mail sender delivers it.",
    ),
)
