"""Response shapes of the audit API (never storage rows)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from pydantic import BaseModel, Field

from agora.audit.domain import AuditRecord


class AuditEventOut(BaseModel):
    id: UUID
    seq: int = Field(description="Position in the hash chain, contiguous from 1.")
    occurred_at: datetime
    actor_id: UUID | None = Field(description="Who acted; null for anonymous or operator actions.")
    action: str = Field(examples=["auth.login"])
    target_type: str | None = Field(examples=["user"])
    target_id: str | None
    outcome: str = Field(examples=["success", "failure"])
    ip: str | None
    request_id: str | None
    details: dict[str, Any]


def audit_event_out(record: AuditRecord) -> dict[str, Any]:
    return {
        "id": record.id,
        "seq": record.seq,
        "occurred_at": record.occurred_at,
        "actor_id": record.actor_id,
        "action": record.action,
        "target_type": record.target_type,
        "target_id": record.target_id,
        "outcome": record.outcome,
        "ip": record.ip,
        "request_id": record.request_id,
        "details": dict(record.details),
    }
