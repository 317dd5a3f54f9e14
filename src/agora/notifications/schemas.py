"""Response shapes of the staff mail API (never storage rows)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from pydantic import BaseModel, Field

from agora.notifications.domain import MailMessage, MailStatus


class MailMessageSummaryOut(BaseModel):
    id: UUID
    to: str
    subject: str
    kind: str = Field(examples=["ordering.confirmation", "identity.password-reset"])
    status: MailStatus
    attempts: int = Field(description="Attempts made so far, re-sends included.")
    last_error: str | None
    provider_message_id: str | None = Field(description="The Message-ID the server accepted.")
    created_at: datetime
    sent_at: datetime | None
    last_attempt_at: datetime | None
    user_id: UUID | None


class MailMessageOut(MailMessageSummaryOut):
    text: str | None = Field(
        description="The plain-text body; null when it holds a one-time sign-in or reset "
        "link (`body_withheld`)."
    )
    html: str | None
    body_withheld: bool


def summary_out(message: MailMessage) -> dict[str, Any]:
    return {
        "id": message.id,
        "to": message.to,
        "subject": message.subject,
        "kind": message.kind,
        "status": message.status.value,
        "attempts": message.attempts,
        "last_error": message.last_error,
        "provider_message_id": message.provider_message_id,
        "created_at": message.created_at,
        "sent_at": message.sent_at,
        "last_attempt_at": message.last_attempt_at,
        "user_id": message.user_id,
    }


def message_out(message: MailMessage) -> dict[str, Any]:
    secret = message.body_is_secret
    return summary_out(message) | {
        "text": None if secret else message.text,
        "html": None if secret else message.html,
        "body_withheld": secret,
    }
