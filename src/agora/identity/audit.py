"""What identity writes to the audit trail most: a user acting on their own account."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from agora.identity.domain import User
from agora.platform.audit import AuditTrail


async def record_own_action(
    audit: AuditTrail,
    action: str,
    user: User | None,
    *,
    outcome: str = "success",
    details: Mapping[str, Any] | None = None,
) -> None:
    """Record ``action`` by ``user`` on their own account; with no user (an attempt on an
    unknown account), the record names neither an actor nor a target."""
    await audit.record(
        action,
        actor_id=None if user is None else user.id,
        target_type=None if user is None else "user",
        target_id=None if user is None else str(user.id),
        outcome=outcome,
        details=details,
    )
