"""Revoked sessions, known to every process within seconds, checked without a database read.

Access tokens are verified from their signature alone, so revoking a session in the
database (logout, reuse detection, "log out everywhere", deactivation) would leave its
access tokens working until they expire. Each process therefore keeps the ids of
recently revoked sessions in memory: the process that revokes adds the id at once, and
every process polls the database for revocations at a short interval. An entry is kept
for as long as an access token of that session can live, then forgotten.

The poll runs inline on the request that finds it due; it is one indexed query every
few seconds per process, never one per request. See ADR 0017.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timedelta
from uuid import UUID

from agora.identity.sessions.ports import SessionsUnitOfWorkFactory
from agora.platform.clock import utcnow
from agora.platform.logging import get_logger

log = get_logger("agora.identity.revocation")

RevocationFeed = Callable[[datetime], Awaitable[Sequence[tuple[UUID, datetime]]]]
"""Returns ``(session_id, revoked_at)`` for every session revoked at or after a time."""


def stored_revocations(uow: SessionsUnitOfWorkFactory) -> RevocationFeed:
    """The feed as identity's storage answers it: one read-only unit of work per poll."""

    async def revoked_since(since: datetime) -> Sequence[tuple[UUID, datetime]]:
        async with uow(read_only=True) as unit:
            return await unit.refresh_tokens.revoked_since(since)

    return revoked_since


# A revocation committed by a transaction that started before the previous poll carries
# an earlier ``revoked_at``; reading a little further back than the last poll catches it.
POLL_OVERLAP = timedelta(seconds=60)
# Tokens issued by a refresh racing the revocation may outlive it by a moment.
CLOCK_MARGIN = timedelta(seconds=60)
RETRY_AFTER_FAILURE = 5.0


class RevokedSessions:
    def __init__(
        self,
        *,
        token_ttl: timedelta,
        poll_interval: float,
        feed: RevocationFeed | None = None,
    ) -> None:
        self._keep = token_ttl + CLOCK_MARGIN
        self._poll_interval = poll_interval
        self._feed = feed
        # session id -> when the entry may be forgotten (its access tokens have expired)
        self._until: dict[UUID, datetime] = {}
        self._next_poll = 0.0  # monotonic; 0 polls on first use
        self._polled_until: datetime | None = None
        self._polling = False

    def __contains__(self, session_id: object) -> bool:
        return session_id in self._until

    def __len__(self) -> int:
        return len(self._until)

    def add(self, session_id: UUID, revoked_at: datetime | None = None) -> None:
        until = (revoked_at or utcnow()) + self._keep
        known = self._until.get(session_id)
        if known is None or until > known:
            self._until[session_id] = until

    async def poll_if_due(self) -> None:
        """Read the revocations since the last poll, if the interval has passed."""
        if self._feed is None or self._polling or time.monotonic() < self._next_poll:
            return
        await self.poll()

    async def poll(self) -> None:
        if self._feed is None:
            return
        self._polling = True
        started = utcnow()
        since = (
            started - self._keep
            if self._polled_until is None
            else self._polled_until - POLL_OVERLAP
        )
        try:
            revoked = await self._feed(since)
        except Exception as exc:
            # Fail open to the token lifetime: requests keep working on what is known,
            # and the next request after a short pause tries again.
            log.warning("revocation_poll_failed", error=type(exc).__name__, detail=str(exc)[:200])
            self._next_poll = time.monotonic() + RETRY_AFTER_FAILURE
            return
        finally:
            self._polling = False
        for session_id, revoked_at in revoked:
            self.add(session_id, revoked_at)
        self._forget_expired(started)
        self._polled_until = started
        self._next_poll = time.monotonic() + self._poll_interval

    def _forget_expired(self, now: datetime) -> None:
        for session_id in [s for s, until in self._until.items() if until <= now]:
            del self._until[session_id]
