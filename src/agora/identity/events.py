"""The events identity publishes (version 1)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from agora.platform.events import EventPayload, EventType


class UserRegistered(EventPayload):
    user_id: UUID
    email: str
    role: str


class PasswordResetRequested(EventPayload):
    # As typed (normalised): whether an account uses it is decided by the consumer.
    email: str


EVENT_TYPES: tuple[EventType[Any], ...] = (
    EventType("identity.UserRegistered", UserRegistered, "A customer account was created."),
    EventType(
        "identity.PasswordResetRequested",
        PasswordResetRequested,
        "Someone asked for a password reset link for an address (which may have no account).",
    ),
)
