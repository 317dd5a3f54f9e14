"""The audit trail port: security and admin actions, recorded append-only.

Services call ``AuditTrail.record`` for what an auditor must be able to reconstruct
(logins, MFA and password changes, role changes, API keys, refunds, deletions). The
request ID and client IP come from the request context, so callers pass only what they
know: the action, the actor and the target.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol
from uuid import UUID


class AuditTrail(Protocol):
    async def record(
        self,
        action: str,
        *,
        actor_id: UUID | None = None,
        target_type: str | None = None,
        target_id: str | None = None,
        outcome: str = "success",
        details: Mapping[str, Any] | None = None,
    ) -> None:
        """Append one record; ``action`` is dotted, e.g. ``auth.login``.

        Call it once the action has committed, outside any open writing unit of work:
        the record is written in a transaction of its own (on SQLite it needs the write
        lock that an open writing unit still holds). It does not raise when the record
        cannot be stored; the record is logged instead.
        """
        ...


class NullAuditTrail:
    """Records nothing: for unit tests of services that do not assert on the trail."""

    async def record(self, action: str, **_: object) -> None:
        return None
