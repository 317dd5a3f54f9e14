"""The events identity publishes (version 1)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from agora.platform.events import EventPayload, EventType


class UserRegistered(EventPayload):
    user_id: UUID
    email: str
    role: str


EVENT_TYPES: tuple[EventType[Any], ...] = (
    EventType("identity.UserRegistered", UserRegistered, "A customer account was created."),
)
