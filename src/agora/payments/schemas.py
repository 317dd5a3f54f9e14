"""Response shapes of the payments API."""

from __future__ import annotations

from pydantic import BaseModel


class WebhookReceipt(BaseModel):
    event_id: str
    type: str
