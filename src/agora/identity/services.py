"""Identity use cases: register, log in, refresh, log out, profile, roles.

Password hashing is slow by design, so it always runs *outside* a writing transaction
(on SQLite a writing unit holds the database write lock).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from uuid import UUID

from email_validator import EmailNotValidError, validate_email

from agora.identity.current_access import AccountAccess, CurrentAccess
from agora.identity.domain import (
    MAX_EMAIL_LENGTH,
    MAX_NAME_LENGTH,
    InvalidCredentialsError,
    RefreshToken,
    SessionKind,
    SessionLifetime,
    TokenPair,
    User,
    hash_refresh_token,
    new_refresh_token,
    user_registered,
)
from agora.identity.login_throttle import (
    LoginAttempt,
    LoginThrottledError,
    NoLoginThrottle,
    email_fingerprint,
    ip_key,
    retry_after_seconds,
)
from agora.identity.mfa_ports import SecondFactor
from agora.identity.password_policy import PasswordPolicy
from agora.identity.ports import (
    AccessTokens,
    IdentityUnitOfWork,
    IdentityUnitOfWorkFactory,
    LoginThrottle,
    PasswordHasher,
)
from agora.identity.revocation import RevokedSessions
from agora.identity.second_factor import SecondFactorRequired
from agora.platform.access import Principal, Role
from agora.platform.audit import AuditTrail, NullAuditTrail
from agora.platform.clock import utcnow
from agora.platform.errors import (
    AlreadyExistsError,
    AuthenticationError,
    NotFoundError,
    ValidationError,
)
from agora.platform.ids import new_id
from agora.platform.logging import get_logger
from agora.platform.request_context import current_client_ip

log = get_logger("agora.identity")

MAX_USER_AGENT = 255
MAX_IP = 45


class InvalidRefreshTokenError(AuthenticationError):
    code = "INVALID_REFRESH_TOKEN"
    default_message = "The refresh token is invalid, expired or revoked; log in again."


def normalise_email(email: str) -> str:
    """Trimmed, lower-cased and syntactically valid; ``ValidationError`` otherwise."""
    candidate = email.strip()
    if not candidate or len(candidate) > MAX_EMAIL_LENGTH:
        raise ValidationError("Enter a valid email address.", field="email")
    try:
        valid = validate_email(candidate, check_deliverability=False)
    except EmailNotValidError as exc:
        raise ValidationError(f"Enter a valid email address: {exc}", field="email") from None
    return valid.normalized.lower()


def clean_name(name: str) -> str:
    cleaned = " ".join(name.split())
    if not cleaned or len(cleaned) > MAX_NAME_LENGTH or not cleaned.isprintable():
        raise ValidationError(
            f"The name must be 1 to {MAX_NAME_LENGTH} printable characters.", field="name"
        )
    return cleaned


@dataclass
class IdentityService:
    uow: IdentityUnitOfWorkFactory
    hasher: PasswordHasher
    tokens: AccessTokens
    policy: PasswordPolicy
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
    # Role and activation changes made here reach this process's authenticators at once.
    access: CurrentAccess | None = None

    @property
    def lifetime(self) -> SessionLifetime:
        return SessionLifetime(idle=self.refresh_ttl, absolute=self.session_max_age)

    # -- accounts -------------------------------------------------------------------

    async def register(self, email: str, password: str, name: str) -> User:
        """Self-service sign-up: always a customer."""
        return await self.create_user(email=email, password=password, name=name, role=Role.CUSTOMER)

    async def create_user(self, *, email: str, password: str, name: str, role: Role) -> User:
        email = normalise_email(email)
        name = clean_name(name)
        self.policy.check(password, email=email, name=name)
        async with self.uow(read_only=True) as uow:
            if await uow.users.get_by_email(email) is not None:
                raise _email_taken()
        password_hash = await self.hasher.hash(password)
        now = utcnow()
        user = User(
            id=new_id(),
            email=email,
            name=name,
            password_hash=password_hash,
            role=role,
            is_active=True,
            email_verified_at=None,
            created_at=now,
            updated_at=now,
        )
        async with self.uow() as uow:
            await uow.users.add(user)  # raises AlreadyExistsError if a concurrent sign-up won
            uow.record(user_registered(user))
            await uow.commit()
        return user

    async def find_by_email(self, email: str) -> User | None:
        """For operators (CLI, seed): look an account up by its email in any spelling."""
        async with self.uow(read_only=True) as uow:
            return await uow.users.get_by_email(normalise_email(email))

    async def set_role(self, email: str, role: Role) -> User:
        """Change a user's role (operators): a demotion reaches running processes within
        their access poll interval, a promotion shows at the next refresh."""
        email = normalise_email(email)
        async with self.uow() as uow:
            user = await uow.users.get_by_email(email)
            if user is None:
                raise NotFoundError("No user has this email address.", field="email")
            previous = user.role
            if user.role is not role:
                changed = user.with_role(role, utcnow())
                await uow.users.update(changed, expected_version=user.version)
                user = changed
            await uow.commit()
        if previous is not role:
            self._changed_access(user)
            await self.audit.record(
                "users.role_changed",
                target_type="user",
                target_id=str(user.id),
                details={"from": previous.value, "to": role.value},
            )
        return user

    async def deactivate(self, email: str) -> User:
        """Block the account (operators): no login, every session and API key revoked."""
        email = normalise_email(email)
        now = utcnow()
        async with self.uow() as uow:
            user = await uow.users.get_by_email(email)
            if user is None:
                raise NotFoundError("No user has this email address.", field="email")
            changed = user.deactivated(now)
            await uow.users.update(changed, expected_version=user.version)
            await uow.refresh_tokens.revoke_all_for_user(user.id, now)
            await uow.api_keys.revoke_all_for_user(user.id, now)
            await uow.commit()
        self._changed_access(changed)
        await self.revocations.poll()
        await self.audit.record("users.deactivated", target_type="user", target_id=str(user.id))
        return changed

    def _changed_access(self, user: User) -> None:
        if self.access is not None:
            self.access.record(AccountAccess.of(user))

    # -- sessions ---------------------------------------------------------------------

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
        await self._password_accepted(attempt, user)
        if self.hasher.needs_rehash(user.password_hash):
            new_hash = await self.hasher.hash(password)
            async with self.uow() as uow:
                await uow.users.set_password_hash(user.id, new_hash)
                await uow.commit()
        # -- multi-factor authentication: the password step hands over to the second factor
        if self.second_factor is not None:
            challenge = await self.second_factor.challenge(user)
            if challenge is not None:
                return challenge
        return await self.start_session(user, user_agent, ip)

    async def start_session(
        self, user: User, user_agent: str | None, ip: str | None, *, mfa: bool = False
    ) -> TokenPair:
        """Open a new session (refresh-token family) for an authenticated user.

        Every way of signing in (password, second factor, OpenID Connect) ends here.
        """
        family_id = new_id()
        await self.tokens.sync_keys()
        async with self.uow() as uow:
            refresh = await self._issue_refresh(
                uow, user.id, family_id, user_agent, ip, mfa=mfa, started_at=utcnow()
            )
            await uow.commit()
        return self._pair(user, family_id, refresh, mfa=mfa)

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
                await uow.refresh_tokens.revoke_family(stored.family_id, now)
                await uow.commit()
                self.revocations.add(stored.family_id, now)
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
                await uow.refresh_tokens.revoke_family(stored.family_id, now)
                await uow.commit()
                self.revocations.add(stored.family_id, now)
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
            await uow.commit()
        self.revocations.add(stored.family_id, now)
        await self.audit.record(
            "auth.logout",
            actor_id=stored.user_id,
            target_type="session",
            target_id=str(stored.family_id),
        )

    # -- profile ------------------------------------------------------------------------

    async def get_profile(self, principal: Principal) -> User:
        async with self.uow(read_only=True) as uow:
            user = await uow.users.get(principal.user_id)
        if user is None or not user.is_active:
            raise AuthenticationError()
        return user

    async def update_profile(
        self, principal: Principal, *, name: str | None = None, expected_version: int | None = None
    ) -> User:
        """Change the caller's own profile; only the name is theirs to change."""
        async with self.uow() as uow:
            user = await uow.users.get(principal.user_id)
            if user is None or not user.is_active:
                raise AuthenticationError()
            base_version = user.version if expected_version is None else expected_version
            if name is not None:
                changed = user.renamed(clean_name(name), utcnow())
                # Bump from the version the client saw, so a stale write is refused.
                await uow.users.update(changed, expected_version=base_version)
                user = changed
            await uow.commit()
        return user

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
        await self.audit.record(
            "auth.login",
            actor_id=None if user is None else user.id,
            target_type=None if user is None else "user",
            target_id=None if user is None else str(user.id),
            outcome="failure",
            details=details,
        )
        return InvalidCredentialsError()

    async def _password_accepted(self, attempt: LoginAttempt, user: User) -> None:
        await self.throttle.succeeded(attempt.account, attempt.ip)
        await self.audit.record(
            "auth.login",
            actor_id=user.id,
            target_type="user",
            target_id=str(user.id),
            details={"factor": "password"},
        )

    # -- internals ----------------------------------------------------------------------

    async def _issue_refresh(
        self,
        uow: IdentityUnitOfWork,
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
            RefreshToken(
                id=new_id(),
                user_id=user_id,
                family_id=family_id,
                token_hash=token_hash,
                created_at=now,
                expires_at=self.lifetime.expires_at(started_at, now),
                user_agent=(user_agent or None) and user_agent[:MAX_USER_AGENT],
                ip=(ip or None) and ip[:MAX_IP],
                mfa=mfa,
                session_started_at=started_at,
                last_used_at=now,
            )
        )
        return token

    def _pair(self, user: User, family_id: UUID, refresh: str, *, mfa: bool = False) -> TokenPair:
        access = self.tokens.issue(user.id, user.role, family_id, mfa=mfa)
        return TokenPair(access, refresh, self.tokens.ttl_seconds)


def _email_taken() -> AlreadyExistsError:
    return AlreadyExistsError("An account with this email address already exists.", field="email")
