"""Sessions a user can see and end, and the browser cookie session with its CSRF token.

A session is one family of refresh-token rows (see ``agora.identity.sessions.domain``).
A bearer session's live row is its newest unused refresh token; a cookie session has one
row whose secret sits in an HttpOnly cookie and never rotates (a browser sends concurrent
requests, which a rotating secret would turn into false reuse alarms).

Authenticating a cookie needs the database only when this process has not seen the
cookie for ``COOKIE_RECHECK_SECONDS``: in between, the session is taken from memory
and only checked against the revoked sessions. See ADR 0017.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from uuid import UUID

from agora.identity.domain import CsrfFailedError
from agora.identity.sessions.domain import (
    CookieSession,
    InvalidRefreshTokenError,
    RefreshToken,
    SessionKind,
    SessionLifetime,
    SessionNotFoundError,
    hash_refresh_token,
    new_refresh_token,
)
from agora.identity.sessions.ports import AccessCheck, SessionsUnitOfWorkFactory
from agora.identity.sessions.revocation import RevokedSessions
from agora.platform.access import Principal, Role
from agora.platform.audit import AuditTrail, NullAuditTrail
from agora.platform.clock import utcnow

# A cookie session's last use is written at most this often (not on every request).
TOUCH_INTERVAL = timedelta(seconds=60)
# How long a process trusts what it read about a cookie: an idle expiry (or a promotion)
# shows after at most this long; revocations show at once (revoked sessions), and a
# demotion or deactivation within the access poll interval (``CurrentAccess``).
COOKIE_RECHECK_SECONDS = 30.0
COOKIE_CACHE_SIZE = 10_000
MAX_COOKIE_LENGTH = 200
# Ended sessions' rows stay a day: longer than any access token lives (the revocation
# feed reads revocations that recent), so purging them never un-revokes a token.
ENDED_SESSION_RETENTION = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class _KnownCookie:
    principal: Principal
    recheck_at: float  # monotonic


@dataclass
class SessionService:
    uow: SessionsUnitOfWorkFactory
    lifetime: SessionLifetime
    revocations: RevokedSessions
    csrf_key: bytes
    audit: AuditTrail = field(default_factory=NullAuditTrail)
    # Roles that act without permissions unless the session was opened with a second
    # factor (the same rule ``TokenAuthenticator`` applies to bearer tokens).
    mfa_required_roles: frozenset[Role] = frozenset()
    # Narrows privileged cookie sessions to the account's current role and activation.
    access: AccessCheck | None = None
    _cookies: dict[str, _KnownCookie] = field(default_factory=dict, init=False, repr=False)

    # -- my sessions ------------------------------------------------------------------

    async def list_sessions(self, principal: Principal) -> Sequence[RefreshToken]:
        """The caller's active sessions, most recently used first."""
        async with self.uow(read_only=True) as uow:
            return await uow.refresh_tokens.list_current(principal.user_id, utcnow())

    async def revoke(self, principal: Principal, session_id: UUID) -> None:
        """End one of the caller's sessions; anyone else's (or an ended one) is a 404."""
        now = utcnow()
        async with self.uow() as uow:
            mine = await uow.refresh_tokens.list_current(principal.user_id, now)
            if session_id not in {s.family_id for s in mine}:
                raise SessionNotFoundError()
            await uow.refresh_tokens.revoke_family(session_id, now)
            await self.audit.record(
                "auth.session_revoked",
                actor_id=principal.user_id,
                target_type="session",
                target_id=str(session_id),
                details={"reason": "revoked", "current": session_id == principal.session_id},
            )
            await uow.commit()
        self.revocations.add(session_id, now)

    async def revoke_all(self, principal: Principal) -> int:
        """End every session of the caller, this one included; returns how many."""
        now = utcnow()
        async with self.uow() as uow:
            mine = await uow.refresh_tokens.list_current(principal.user_id, now)
            await uow.refresh_tokens.revoke_all_for_user(principal.user_id, now)
            await self.audit.record(
                "auth.logout_all",
                actor_id=principal.user_id,
                target_type="user",
                target_id=str(principal.user_id),
                details={"sessions": len(mine)},
            )
            await uow.commit()
        ended = {s.family_id for s in mine}
        if principal.session_id is not None:
            ended.add(principal.session_id)
        for session_id in ended:
            self.revocations.add(session_id, now)
        return len(mine)

    async def purge_ended_sessions(self) -> int:
        """Delete refresh-token rows (bearer and cookie sessions) a day after they expired
        (a scheduled job; idempotent). An expired token is refused before it is ever
        checked for reuse, so its row has no use left. Returns how many went."""
        async with self.uow() as uow:
            removed = await uow.refresh_tokens.delete_ended(utcnow() - ENDED_SESSION_RETENTION)
            await uow.commit()
        return removed

    # -- cookie sessions ----------------------------------------------------------------

    async def open_cookie_session(
        self, refresh_token: str, user_agent: str | None = None, ip: str | None = None
    ) -> CookieSession:
        """Turn a just-opened bearer session into a cookie session (same session id).

        The refresh token is used up in the process, so the session has one secret: the
        cookie. Every way of signing in that yields a token pair can end here.
        """
        now = utcnow()
        token, token_hash = new_refresh_token()
        async with self.uow() as uow:
            stored = await uow.refresh_tokens.get_by_hash(
                hash_refresh_token(refresh_token), for_update=True
            )
            if (
                stored is None
                or stored.kind is not SessionKind.BEARER
                or not stored.is_current(now)
                or not await uow.refresh_tokens.mark_used(stored.id, now)
            ):
                raise InvalidRefreshTokenError()
            expires_at = self.lifetime.expires_at(stored.started_at, now)
            await uow.refresh_tokens.add(
                RefreshToken.issued(
                    stored.user_id,
                    stored.family_id,
                    token_hash,
                    now=now,
                    expires_at=expires_at,
                    started_at=stored.started_at,
                    mfa=stored.mfa,
                    user_agent=user_agent,
                    ip=ip,
                    kind=SessionKind.COOKIE,
                )
            )
            await uow.commit()
        return CookieSession(
            token=token,
            csrf_token=self.csrf_token_for(token),
            session_id=stored.family_id,
            expires_at=stored.started_at + self.lifetime.absolute,
        )

    def csrf_token_for(self, cookie: str) -> str:
        """The session's CSRF token: an HMAC of the cookie, so it needs no storage and
        is worthless for any other session."""
        digest = hmac.new(self.csrf_key, b"csrf:" + cookie.encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")

    async def authenticate_cookie(
        self, cookie: str, *, csrf_token: str | None, unsafe: bool
    ) -> Principal | None:
        if not cookie or len(cookie) > MAX_COOKIE_LENGTH:
            return None
        await self.revocations.poll_if_due()
        key = hash_refresh_token(cookie)
        known = self._cookies.get(key)
        if known is None or known.recheck_at <= time.monotonic():
            known = await self._load_cookie(key)
            if known is None:
                self._cookies.pop(key, None)
                return None
            if len(self._cookies) >= COOKIE_CACHE_SIZE:
                del self._cookies[next(iter(self._cookies))]
            self._cookies[key] = known
        if known.principal.session_id in self.revocations:
            del self._cookies[key]
            return None
        if unsafe and not hmac.compare_digest(
            (csrf_token or "").encode(), self.csrf_token_for(cookie).encode()
        ):
            raise CsrfFailedError()
        if self.access is None:
            return known.principal
        return await self.access.check(known.principal)  # None: deactivated meanwhile

    async def end_cookie_session(self, cookie: str | None, csrf_token: str | None) -> None:
        """Log out the cookie's session; a cookie naming no live session is ignored."""
        principal = await self.authenticate_cookie(cookie or "", csrf_token=csrf_token, unsafe=True)
        if principal is None or principal.session_id is None:
            return
        now = utcnow()
        async with self.uow() as uow:
            await uow.refresh_tokens.revoke_family(principal.session_id, now)
            await self.audit.record(
                "auth.session_revoked",
                actor_id=principal.user_id,
                target_type="session",
                target_id=str(principal.session_id),
                details={"reason": "logout"},
            )
            await uow.commit()
        self.revocations.add(principal.session_id, now)
        self._cookies.pop(hash_refresh_token(cookie or ""), None)

    async def _load_cookie(self, token_hash: str) -> _KnownCookie | None:
        now = utcnow()
        async with self.uow(read_only=True) as uow:
            stored = await uow.refresh_tokens.get_by_hash(token_hash)
            if (
                stored is None
                or stored.kind is not SessionKind.COOKIE
                or not stored.is_current(now)
            ):
                return None
            user = await uow.users.get(stored.user_id)
        if user is None or not user.is_active:
            return None
        expires_at = stored.expires_at
        if now - stored.used_last_at >= TOUCH_INTERVAL:
            expires_at = self.lifetime.expires_at(stored.started_at, now)
            async with self.uow() as uow:
                await uow.refresh_tokens.touch(stored.id, now, expires_at)
                await uow.commit()
        trust = min(COOKIE_RECHECK_SECONDS, (expires_at - now).total_seconds())
        principal = Principal.for_user(
            user.id,
            user.role,
            stored.family_id,
            mfa=stored.mfa,
            mfa_required_roles=self.mfa_required_roles,
        )
        return _KnownCookie(principal, time.monotonic() + trust)
