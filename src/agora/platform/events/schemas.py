"""Payload pieces several contexts' event schemas share."""

from __future__ import annotations

from pydantic import Field

from agora.platform.events.catalogue import EventPayload


class MoneyPayload(EventPayload):
    amount: int = Field(description="Integer minor units")
    currency: str = Field(min_length=3, max_length=3, description="ISO 4217 code")
