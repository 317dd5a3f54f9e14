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

        Record a successful change inside the action's unit of work, last, just before
        ``commit()``: the record joins that transaction, so it commits with the action or
        not at all, and when it cannot be stored it raises, rolling the action back.
        Record a refusal or failure (``outcome`` other than ``"success"``) outside any
        open writing unit: it is written in a transaction of its own, so the refused
        action's rollback does not take it along (on SQLite it needs the write lock an
        open writing unit would still hold), and it does not raise when it cannot be
        stored; it is logged instead, as is a success recorded with no unit open.
        """
        ...


class NullAuditTrail:
    """Records nothing: for unit tests of services that do not assert on the trail."""

    async def record(self, action: str, **_: object) -> None:
        return None
