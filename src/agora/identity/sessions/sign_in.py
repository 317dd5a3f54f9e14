"""Signing in: log in with a password, rotate a refresh token, log out.

Password hashing is slow by design, so it always runs *outside* a writing transaction
(on SQLite a writing unit holds the database write lock). Every way of signing in
(password, second factor, OpenID Connect) opens its session through ``start_session``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from agora.identity.audit import record_own_action
from agora.identity.domain import InvalidCredentialsError, User, normalise_email
from agora.identity.ports import PasswordHasher
from agora.identity.sessions.domain import (
    InvalidRefreshTokenError,
    RefreshToken,
    SecondFactorRequired,
    SessionKind,
    SessionLifetime,
    TokenPair,
    hash_refresh_token,
    new_refresh_token,
)
from agora.identity.sessions.ports import (
    LoginThrottle,
    SecondFactor,
    SessionsUnitOfWork,
    SessionsUnitOfWorkFactory,
)
from agora.identity.sessions.revocation import RevokedSessions
from agora.identity.sessions.throttle import (
    LoginAttempt,
    LoginThrottledError,
    NoLoginThrottle,
    email_fingerprint,
    ip_key,
    retry_after_seconds,
)
from agora.identity.tokens.ports import AccessTokens
from agora.platform.audit import AuditTrail, NullAuditTrail
from agora.platform.clock import utcnow
from agora.platform.errors import AuthenticationError, ValidationError
from agora.platform.ids import new_id
from agora.platform.logging import get_logger
from agora.platform.request_context import current_client_ip

log = get_logger("agora.identity")


@dataclass
class SignInService:
    uow: SessionsUnitOfWorkFactory
    hasher: PasswordHasher
    tokens: AccessTokens
    # The idle lifetime: a session unused for this long ends (its refresh token expires).
    refresh_ttl: timedelta
    audit: AuditTrail = field(default_factory=NullAuditTrail)
    throttle: LoginThrottle = field(default_factory=NoLoginThrottle)
    # Keys the email fingerprints the throttle counts and the audit trail shows.
    fingerprint_key: bytes = b""
    # MFA's challenges (``MfaChallenges``): users with it on get a challenge from login
    # instead of tokens.
    second_factor: SecondFactor | None = None
    # The absolute lifetime: no rotation extends a session past this age.
    session_max_age: timedelta = timedelta(days=30)
    # Sessions revoked here are refused at once by this process's authenticators.
    revocations: RevokedSessions = field(
        default_factory=lambda: RevokedSessions(token_ttl=timedelta(hours=1), poll_interval=5)
    )

    @property
    def lifetime(self) -> SessionLifetime:
        return SessionLifetime(idle=self.refresh_ttl, absolute=self.session_max_age)

    async def login(
        self, email: str, password: str, user_agent: str | None = None, ip: str | None = None
    ) -> TokenPair | SecondFactorRequired:
        """Tokens for a correct password, or a challenge for the second factor when it is on."""
        try:
            email = normalise_email(email)
        except ValidationError:
            email = ""
        attempt = await self._admit_login(email, ip)  # 429 while locked out
        user: User | None = None
        if email:
            async with self.uow(read_only=True) as uow:
                user = await uow.users.get_by_email(email)
        if user is None:
            # Same work as for a real account, so timing does not reveal registrations.
            await self.hasher.verify(self.hasher.dummy_hash, password)
            raise await self._login_failed(attempt, None)
        if not await self.hasher.verify(user.password_hash, password) or not user.is_active:
            raise await self._login_failed(attempt, user)
        await self.throttle.succeeded(attempt.account, attempt.ip)
        new_hash = None
        if self.hasher.needs_rehash(user.password_hash):
            new_hash = await self.hasher.hash(password)  # hashed before the write lock
        family_id = new_id()
        await self.tokens.sync_keys()
        # One unit: the accepted password's record commits with what it opened (the
        # second factor's challenge, whose unit joins this one, or the session).
        async with self.uow() as uow:
            if new_hash is not None:
                await uow.users.set_password_hash(user.id, new_hash)
            # -- multi-factor authentication: the password step hands over to the second factor
            challenge = None
            if self.second_factor is not None:
                challenge = await self.second_factor.challenge(user)
            refresh = None
            if challenge is None:
                refresh = await self._issue_refresh(
                    uow, user.id, family_id, user_agent, ip, started_at=utcnow()
                )
            await record_own_action(self.audit, "auth.login", user, details={"factor": "password"})
            await uow.commit()
        if refresh is None:
            assert challenge is not None
            return challenge
        return self._pair(user, family_id, refresh)

    async def start_session(
        self,
        user: User,
        user_agent: str | None,
        ip: str | None,
        *,
        mfa: bool = False,
        login: Mapping[str, Any] | None = None,
    ) -> TokenPair:
        """Open a new session (refresh-token family) for an authenticated user.

        Every way of signing in (second factor, OpenID Connect) ends here; ``login``, the
        details of its ``auth.login`` record, written in the session's transaction.
        """
        family_id = new_id()
        await self.tokens.sync_keys()
        async with self.uow() as uow:
            refresh = await self._issue_refresh(
                uow, user.id, family_id, user_agent, ip, mfa=mfa, started_at=utcnow()
            )
            if login is not None:
                await record_own_action(self.audit, "auth.login", user, details=login)
            await uow.commit()
        return self._pair(user, family_id, refresh, mfa=mfa)

    async def complete_second_factor(
        self, mfa_token: str, code: str, user_agent: str | None = None, ip: str | None = None
    ) -> TokenPair:
        """The second step of a login that ``login`` handed over to the second factor:
        a correct code for the challenge opens a session marked as opened with it."""
        if self.second_factor is None:
            raise AuthenticationError()  # no second factor, so no challenge was handed out
        user, kind = await self.second_factor.verify(mfa_token, code)
        return await self.start_session(
            user, user_agent, ip, mfa=True, login={"amr": ["pwd", "otp"], "second_factor": kind}
        )

    async def refresh(
        self, refresh_token: str, user_agent: str | None = None, ip: str | None = None
    ) -> TokenPair:
        """Rotate: the presented token is used up and a new one is issued in its family.

        A token presented a second time means it was copied: the whole family is
        revoked (the legitimate client must log in again, and access tokens of the
        session stop working) and the answer is 401. Two concurrent refreshes with one
        token count as reuse too: one of them gets a pair, and the session ends.
        The new token expires after the idle lifetime, never past the absolute one.
        """
        now = utcnow()
        token_hash = hash_refresh_token(refresh_token)
        await self.tokens.sync_keys()
        async with self.uow() as uow:
            # Locked: a second use of the same token waits for the first to commit, then
            # finds it used and revokes the family, instead of deadlocking on family rows.
            stored = await uow.refresh_tokens.get_by_hash(token_hash, for_update=True)
            if (
                stored is None
                or stored.kind is not SessionKind.BEARER
                or stored.is_revoked
                or stored.is_expired(now)
                # A shortened AGORA_SESSION_ABSOLUTE_TTL_DAYS also ends older sessions.
                or self.lifetime.expires_at(stored.started_at, now) <= now
            ):
                raise InvalidRefreshTokenError()
            if stored.was_used or not await uow.refresh_tokens.mark_used(stored.id, now):
                await self._end_session(uow, stored, now)
                # After the commit, in a transaction of its own: the caller is refused.
                await self.audit.record(
                    "auth.refresh_reuse_detected",
                    actor_id=stored.user_id,
                    target_type="session",
                    target_id=str(stored.family_id),
                    outcome="failure",
                    details={"token_id": str(stored.id), "session_revoked": True},
                )
                raise InvalidRefreshTokenError()
            user = await uow.users.get(stored.user_id)
            if user is None or not user.is_active:
                await self._end_session(uow, stored, now)
                raise InvalidRefreshTokenError()
            refresh = await self._issue_refresh(
                uow,
                user.id,
                stored.family_id,
                user_agent,
                ip,
                mfa=stored.mfa,
                started_at=stored.started_at,
            )
            await uow.commit()
        return self._pair(user, stored.family_id, refresh, mfa=stored.mfa)

    async def logout(self, refresh_token: str) -> None:
        """Revoke the session the token belongs to; unknown tokens are ignored (idempotent).

        The session's access tokens stop working too (see ``RevokedSessions``).
        """
        token_hash = hash_refresh_token(refresh_token)
        now = utcnow()
        async with self.uow() as uow:
            stored = await uow.refresh_tokens.get_by_hash(token_hash)
            if stored is None or stored.kind is not SessionKind.BEARER:
                return
            await uow.refresh_tokens.revoke_family(stored.family_id, now)
            await self.audit.record(
                "auth.logout",
                actor_id=stored.user_id,
                target_type="session",
                target_id=str(stored.family_id),
            )
            await uow.commit()
        self.revocations.add(stored.family_id, now)

    # -- login throttling and its audit records ------------------------------------------

    async def _admit_login(self, email: str, ip: str | None) -> LoginAttempt:
        """Refuse (429) while the email or the client address is locked out.

        Checked before the password: a locked-out guess costs no hashing and reveals
        nothing, and an unknown email is counted and answered like a real one.
        """
        attempt = LoginAttempt(
            account=email_fingerprint(email, self.fingerprint_key) if email else None,
            ip=ip_key(ip or current_client_ip()),
        )
        wait = await self.throttle.retry_after(attempt.account, attempt.ip)
        if wait > 0:
            # Logged, not audited: refusals cost nothing to send, so an attacker could
            # otherwise make every one of them a database write.
            log.warning("login_throttled", account=attempt.account, ip=attempt.ip)
            raise LoginThrottledError(retry_after_seconds(wait))
        return attempt

    async def _login_failed(
        self, attempt: LoginAttempt, user: User | None
    ) -> InvalidCredentialsError:
        """Count and record a failed login; returns the error to raise (the same for all)."""
        locked_for = await self.throttle.failed(attempt.account, attempt.ip)
        details: dict[str, object] = {"factor": "password"}
        if user is None:
            details["reason"] = "unknown_account"
            # Never the address itself: people type passwords into the email field.
            details["email_fingerprint"] = attempt.account
        else:
            details["reason"] = "inactive" if not user.is_active else "bad_password"
        if locked_for:
            details["locked_for_seconds"] = int(locked_for)
        await record_own_action(self.audit, "auth.login", user, outcome="failure", details=details)
        return InvalidCredentialsError()

    # -- internals ----------------------------------------------------------------------

    async def _end_session(
        self, uow: SessionsUnitOfWork, stored: RefreshToken, now: datetime
    ) -> None:
        """Revoke the token's session and commit; this process refuses its tokens at once."""
        await uow.refresh_tokens.revoke_family(stored.family_id, now)
        await uow.commit()
        self.revocations.add(stored.family_id, now)

    async def _issue_refresh(
        self,
        uow: SessionsUnitOfWork,
        user_id: UUID,
        family_id: UUID,
        user_agent: str | None,
        ip: str | None,
        *,
        started_at: datetime,
        mfa: bool = False,
    ) -> str:
        token, token_hash = new_refresh_token()
        now = utcnow()
        await uow.refresh_tokens.add(
            RefreshToken.issued(
                user_id,
                family_id,
                token_hash,
                now=now,
                expires_at=self.lifetime.expires_at(started_at, now),
                started_at=started_at,
                mfa=mfa,
                user_agent=user_agent,
                ip=ip,
            )
        )
        return token

    def _pair(self, user: User, family_id: UUID, refresh: str, *, mfa: bool = False) -> TokenPair:
        access = self.tokens.issue(user.id, user.role, family_id, mfa=mfa)
        return TokenPair(access, refresh, self.tokens.ttl_seconds)
