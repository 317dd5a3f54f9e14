"""Audit use cases: record an action, query the trail, verify the chain.

``AuditService`` is the platform's ``AuditTrail``: every context records through it.
The record of a successful action joins the caller's open unit of work (see ADR 0022):
it commits with the action or not at all, so a crash cannot keep one without the other,
and a record that cannot be written raises, which rolls the action back. A refused or
failed attempt has no transaction to join (its unit rolls back, or never wrote): its
record is written in a short transaction of its own, and when that write fails the
caller gets no error; the record goes to the application log in full instead, at ERROR
level, so it is not lost and operators are alerted. A successful action recorded with
no unit open (it stores nothing itself) is written the same way.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from agora.audit.domain import (
    Anchor,
    AuditEntry,
    AuditQuery,
    AuditRecord,
    ChainReport,
    ChainVerifier,
)
from agora.audit.ports import AuditUnitOfWork, AuditUnitOfWorkFactory
from agora.platform.access import Permission, Principal
from agora.platform.clock import utcnow
from agora.platform.errors import ValidationError
from agora.platform.ids import new_id
from agora.platform.logging import get_logger
from agora.platform.request_context import current_client_ip, current_request_id

log = get_logger("agora.audit")

VERIFY_BATCH = 1000


class AuditService:
    def __init__(self, uow: AuditUnitOfWorkFactory) -> None:
        self._uow = uow

    # -- recording (the AuditTrail port) ---------------------------------------------

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
        """Append one record: a success inside the caller's open unit, raising when it
        cannot be stored; anything else in its own transaction, logged when it cannot."""
        entry = AuditEntry.create(
            action,
            occurred_at=utcnow(),
            actor_id=actor_id,
            target_type=target_type,
            target_id=target_id,
            outcome=outcome,
            ip=current_client_ip(),
            request_id=current_request_id(),
            details=details,
        )
        uow = self._uow(join=outcome == "success")
        try:
            async with uow:
                await self._append_in(uow, entry)
        except Exception as exc:
            if uow.joined:  # no action without its record: the caller's unit rolls back
                log.error(
                    "audit_record_not_written",
                    error=type(exc).__name__,
                    detail=str(exc)[:200],
                    audit_action=entry.action,
                    action_rolled_back=True,
                )
                raise
            # Nothing to roll back (a refusal, or an action already committed): keep the
            # record somewhere.
            log.error(
                "audit_record_not_written",
                error=type(exc).__name__,
                detail=str(exc)[:200],
                audit_action=entry.action,
                audit_actor_id=None if entry.actor_id is None else str(entry.actor_id),
                audit_target_type=entry.target_type,
                audit_target_id=entry.target_id,
                audit_outcome=entry.outcome,
                audit_ip=entry.ip,
                audit_occurred_at=entry.occurred_at.isoformat(),
                audit_details=dict(entry.details),
            )

    async def append(self, entry: AuditEntry) -> AuditRecord:
        """Chain ``entry`` after the current head; raises when it cannot be stored."""
        async with self._uow() as uow:
            return await self._append_in(uow, entry)

    @staticmethod
    async def _append_in(uow: AuditUnitOfWork, entry: AuditEntry) -> AuditRecord:
        # The head stays locked until the unit (or, joined, the caller's) ends: appenders
        # queue on it (FOR UPDATE on PostgreSQL, the write lock on SQLite), so the chain
        # never forks.
        head = await uow.chain.lock_head()
        record = AuditRecord.chained(entry, new_id(), head.seq + 1, head.hash)
        await uow.records.add(record)
        await uow.chain.advance(record)
        await uow.commit()
        return record

    # -- reading ------------------------------------------------------------------------

    async def query(
        self, principal: Principal, query: AuditQuery, offset: int, limit: int
    ) -> tuple[Sequence[AuditRecord], int]:
        """Records matching ``query``, newest first; only for holders of ``audit:read``."""
        principal.require(Permission.AUDIT_READ)
        since, until = _utc(query.since, "since"), _utc(query.until, "until")
        if since is not None and until is not None and since > until:
            raise ValidationError("'since' must not be later than 'until'.", field="since")
        query = AuditQuery(query.actor_id, query.action, since, until)
        async with self._uow(read_only=True) as uow:
            return await uow.records.search(query, offset, limit)

    async def verify(self, anchor: Anchor | None = None) -> ChainReport:
        """Walk the whole chain in one snapshot and report the first break, if any.

        Head and records are read in the same snapshot, so records appended while the
        walk runs are neither missed nor mistaken for a forged tail.
        """
        verifier = ChainVerifier(anchor)
        async with self._uow(read_only=True, snapshot=True) as uow:
            head = await uow.chain.head()
            after = 0
            while True:
                batch = await uow.records.after(after, VERIFY_BATCH)
                if not batch or not verifier.feed(batch):
                    break
                after = batch[-1].seq
        return verifier.finish(head)


def _utc(moment: datetime | None, name: str) -> datetime | None:
    """Filters without an offset are read as UTC; instants beyond year 1-9999 are refused."""
    if moment is None:
        return None
    try:
        return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    except (OverflowError, ValueError):
        raise ValidationError(f"'{name}' is out of range.", field=name) from None
