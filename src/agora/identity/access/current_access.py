"""The current role and activation of privileged accounts, known to every process within
seconds, so a demotion or deactivation reaches credentials that were issued before it.

An access token carries the role it was issued with and is verified from its signature
alone (ADR 0016); cookie sessions and API keys are trusted from memory for up to 30
seconds. Without a further check a staff member demoted or deactivated meanwhile would
keep reading and changing staff data until the token expires. So every credential whose
role holds permissions (staff, admin) is checked against the account as it is now:

- each process keeps the role, activation and version of the privileged accounts it
  has met: on the warm path the check is a dictionary lookup, no database read;
- the process that changes an account's access records the new state at once;
- every process re-reads all the accounts it keeps, in one query, every
  ``poll_interval`` seconds, inline on the request that finds it due (as
  ``RevokedSessions`` does), so a change made elsewhere (another instance, the CLI)
  shows within that interval. States are ordered by the account's version, so a poll
  that read the database before a change committed never undoes it.

Credentials of customers never come here: their role grants nothing that depends on it
being current, and a deactivation ends their sessions through the revoked sessions.
See ADR 0025.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from uuid import UUID

from agora.identity.access.domain import AccountAccess
from agora.identity.access.ports import AccessFeed
from agora.platform.access import PERMISSIONS, Authenticator, Principal
from agora.platform.errors import AuthenticationError
from agora.platform.logging import get_logger

log = get_logger("agora.identity.current_access")

RETRY_AFTER_FAILURE = 5.0
MAX_KNOWN = 10_000


class CurrentAccess:
    def __init__(
        self,
        feed: AccessFeed,
        *,
        poll_interval: float,
        forget_after: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._feed = feed
        self._poll_interval = poll_interval
        # An account no credential has used for this long is dropped, and read again
        # (one query) when it comes back.
        self._forget_after = forget_after
        self._clock = clock
        self._known: dict[UUID, AccountAccess] = {}
        self._used: dict[UUID, float] = {}  # monotonic time of the last check
        self._next_poll = 0.0
        self._polling = False

    def __len__(self) -> int:
        return len(self._known)

    async def check(self, principal: Principal) -> Principal | None:
        """``principal`` as the account allows now, or None if it is deactivated or gone."""
        if not PERMISSIONS[principal.role]:
            return principal  # a customer's credential: nothing to narrow, no lookup
        await self.poll_if_due()
        user_id = principal.user_id
        state = self._known.get(user_id)
        if state is None:
            state = await self._load(user_id)
        self._used[user_id] = self._clock()
        if not state.is_active:
            return None
        return principal.limited_to(state.role)

    def record(self, state: AccountAccess) -> None:
        """The access an account has now, from the process that just changed it."""
        self._store(state)

    async def poll_if_due(self) -> None:
        if self._polling or self._clock() < self._next_poll:
            return
        await self.poll()

    async def poll(self) -> None:
        """Re-read every account this process keeps, in one query."""
        self._polling = True
        self._forget_idle()
        ids = list(self._known)
        try:
            found = await self._feed(ids) if ids else []
        except Exception as exc:
            # Keep what is known and try again shortly, as revocations do: a database
            # that cannot be read fails the requests that need it, not this check.
            log.warning("access_poll_failed", error=type(exc).__name__, detail=str(exc)[:200])
            self._next_poll = self._clock() + RETRY_AFTER_FAILURE
            return
        finally:
            self._polling = False
        missing = set(ids)
        for state in found:
            missing.discard(state.user_id)
            self._store(state)
        for user_id in missing:
            self._store(AccountAccess.gone(user_id))
        self._next_poll = self._clock() + self._poll_interval

    async def _load(self, user_id: UUID) -> AccountAccess:
        found = await self._feed([user_id])
        self._store(found[0] if found else AccountAccess.gone(user_id))
        return self._known[user_id]

    def _store(self, state: AccountAccess) -> None:
        known = self._known.get(state.user_id)
        if known is not None and known.version > state.version:
            return  # read before a change this process already knows of
        if known is None and len(self._known) >= MAX_KNOWN:
            self._forget_idle()
            if len(self._known) >= MAX_KNOWN:
                self._known.clear()  # crude, but bounded; a miss costs one read
                self._used.clear()
        self._known[state.user_id] = state

    def _forget_idle(self) -> None:
        horizon = self._clock() - self._forget_after
        for user_id in [u for u in self._known if self._used.get(u, horizon) <= horizon]:
            del self._known[user_id]
            self._used.pop(user_id, None)


class CurrentRoleAuthenticator:
    """The platform ``Authenticator`` with the account's current role and activation
    applied to privileged credentials (access tokens and API keys alike)."""

    def __init__(self, credentials: Authenticator, access: CurrentAccess) -> None:
        self._credentials = credentials
        self._access = access

    async def authenticate(self, credential: str) -> Principal:
        principal = await self._access.check(await self._credentials.authenticate(credential))
        if principal is None:
            raise AuthenticationError("This account is deactivated.")
        return principal
