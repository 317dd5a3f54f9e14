"""Identity use cases: register, log in, refresh, log out, profile, roles.

Password hashing is slow by design, so it always runs *outside* a writing transaction
(on SQLite a writing unit holds the database write lock).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from uuid import UUID

from email_validator import EmailNotValidError, validate_email

from agora.identity.current_access import AccountAccess, CurrentAccess
from agora.identity.domain import (
    MAX_EMAIL_LENGTH,
    MAX_NAME_LENGTH,
    ApiKey,
    InvalidCredentialsError,
    RefreshToken,
    SessionKind,
    SessionLifetime,
    TokenPair,
    User,
    api_key_prefix,
    hash_api_key,
    hash_refresh_token,
    is_api_key,
    new_api_key,
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
    UnknownSigningKeyError,
    UserFilter,
)
from agora.identity.revocation import RevokedSessions
from agora.identity.second_factor import SecondFactorRequired
from agora.platform.access import PERMISSIONS, Authenticator, Permission, Principal, Role
from agora.platform.audit import AuditTrail, NullAuditTrail
from agora.platform.clock import utcnow
from agora.platform.errors import (
    AlreadyExistsError,
    AuthenticationError,
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
    StaleVersionError,
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
    # Set by the composition root when MFA is wired: users with it on get a challenge
    # from login instead of tokens.
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


class TokenAuthenticator:
    """The platform ``Authenticator``: a bearer access token -> a principal.

    No database read per request: the signature is checked against keys held in
    memory, and the session against the in-memory set of revoked sessions. Both are
    refreshed from the database every few seconds (by the request that finds it due),
    so a logout, a revoked session or a key rotation elsewhere takes effect here
    within ``session_revocation_poll_seconds`` / at once for an unknown key.

    Roles in ``mfa_required_roles`` act with no permissions at all unless the session
    was opened with a second factor; they can still reach their profile and enroll.
    """

    def __init__(
        self,
        tokens: AccessTokens,
        revocations: RevokedSessions | None = None,
        *,
        mfa_required_roles: frozenset[Role] = frozenset(),
    ) -> None:
        self._tokens = tokens
        self._revocations = revocations
        self._mfa_required_roles = mfa_required_roles

    async def authenticate(self, credential: str) -> Principal:
        await self._tokens.sync_keys()
        try:
            claims = self._tokens.verify(credential)
        except UnknownSigningKeyError:
            await self._tokens.sync_keys(unknown_kid=True)
            claims = self._tokens.verify(credential)
        if self._revocations is not None:
            await self._revocations.poll_if_due()
            if claims.session_id in self._revocations:
                raise AuthenticationError("The session has ended; log in again.")
        return Principal.for_user(
            claims.user_id,
            claims.role,
            claims.session_id,
            mfa=claims.mfa,
            mfa_required_roles=self._mfa_required_roles,
        )


# -- user administration ----------------------------------------------------------------


class LastAdminError(ConflictError):
    code = "LAST_ADMIN"
    default_message = "This would leave no active administrator; promote another one first."


class OwnAccessError(ConflictError):
    code = "OWN_ACCESS_CHANGE"
    default_message = (
        "Administrators cannot demote or deactivate themselves; ask another administrator."
    )


@dataclass
class UserAdministration:
    """Admins list, read, promote, demote, deactivate and reactivate accounts.

    Every method checks ``users:manage`` itself, whatever the route did. Changes that
    could remove an administrator lock the active admins' rows first, so concurrent
    demotions queue and the last active admin always survives.
    """

    uow: IdentityUnitOfWorkFactory
    keys: VerifiedKeyCache
    audit: AuditTrail = field(default_factory=NullAuditTrail)
    # Re-read after a deactivation, so the user's access tokens stop here at once.
    revocations: RevokedSessions | None = None
    # Told of every change, so the user's credentials carry the new access here at once.
    access: CurrentAccess | None = None

    async def list_users(
        self, principal: Principal, where: UserFilter, *, offset: int, limit: int
    ) -> tuple[list[User], int]:
        principal.require(Permission.USERS_MANAGE)
        async with self.uow(read_only=True) as uow:
            return await uow.users.search(where, offset, limit)

    async def get_user(self, principal: Principal, user_id: UUID) -> User:
        principal.require(Permission.USERS_MANAGE)
        async with self.uow(read_only=True) as uow:
            user = await uow.users.get(user_id)
        if user is None:
            raise _no_such_user(user_id)
        return user

    async def update_user(
        self,
        principal: Principal,
        user_id: UUID,
        *,
        role: Role | None = None,
        is_active: bool | None = None,
        expected_version: int | None = None,
    ) -> User:
        """Change a user's role and/or activation; deactivation ends every session and key.

        A demotion or deactivation reaches the user's privileged credentials at once in
        this process and within the access poll interval elsewhere (``CurrentAccess``);
        a promotion shows at the next refresh (access tokens carry the role).
        """
        principal.require(Permission.USERS_MANAGE)
        removes_an_admin = (role is not None and role is not Role.ADMIN) or is_active is False
        if user_id == principal.user_id and removes_an_admin:
            await self._refused(principal, user_id, role, is_active, "own_access")
            raise OwnAccessError()
        now = utcnow()
        async with self.uow() as uow:
            admins = await uow.users.lock_active_admins() if removes_an_admin else []
            user = await uow.users.lock(user_id)
            if user is None:
                raise _no_such_user(user_id)
            if expected_version is not None and expected_version != user.version:
                raise StaleVersionError(current_version=user.version)
            changed = user.with_access(
                user.role if role is None else role,
                user.is_active if is_active is None else is_active,
                now,
            )
            if changed is user:
                return user
            last_admin = (
                user.is_active_admin and not changed.is_active_admin and admins == [user.id]
            )
            if not last_admin:
                await self._check_actor(uow, principal)
                await uow.users.update(changed, expected_version=user.version)
                keys_revoked = 0
                if user.is_active and not changed.is_active:
                    await uow.refresh_tokens.revoke_all_for_user(user.id, now)
                    keys_revoked = await uow.api_keys.revoke_all_for_user(user.id, now)
                await uow.commit()
        if last_admin:
            # Recorded after the unit: the audit trail may need the write lock it held.
            await self._refused(principal, user_id, role, is_active, "last_admin")
            raise LastAdminError()
        self.keys.forget_owner(user.id)
        if self.access is not None:
            self.access.record(AccountAccess.of(changed))
        if self.revocations is not None and user.is_active and not changed.is_active:
            await self.revocations.poll()
        await self._record_changes(principal, user, changed, keys_revoked)
        return changed

    @staticmethod
    async def _check_actor(uow: IdentityUnitOfWork, principal: Principal) -> None:
        # The role in an access token may be minutes old: an admin demoted meanwhile must
        # not keep changing other people's access until the token expires.
        actor = await uow.users.get(principal.user_id)
        if (
            actor is None
            or not Principal.for_user(actor.id, actor.role).can(Permission.USERS_MANAGE)
            or not actor.is_active
        ):
            raise PermissionDeniedError(required=Permission.USERS_MANAGE.value)

    async def _record_changes(
        self, principal: Principal, before: User, after: User, keys_revoked: int
    ) -> None:
        changes: list[tuple[str, dict[str, object]]] = []
        if before.role is not after.role:
            changes.append(
                ("users.role_changed", {"from": before.role.value, "to": after.role.value})
            )
        if before.is_active and not after.is_active:
            changes.append(("users.deactivated", {"api_keys_revoked": keys_revoked}))
        elif after.is_active and not before.is_active:
            changes.append(("users.reactivated", {}))
        for action, details in changes:
            await self.audit.record(
                action,
                actor_id=principal.user_id,
                target_type="user",
                target_id=str(after.id),
                details=details,
            )

    async def _refused(
        self,
        principal: Principal,
        user_id: UUID,
        role: Role | None,
        is_active: bool | None,
        reason: str,
    ) -> None:
        action = "users.role_changed" if is_active is not False else "users.deactivated"
        await self.audit.record(
            action,
            actor_id=principal.user_id,
            target_type="user",
            target_id=str(user_id),
            outcome="failure",
            details={
                "reason": reason,
                "role": None if role is None else role.value,
                "is_active": is_active,
            },
        )


def _no_such_user(user_id: UUID) -> NotFoundError:
    return NotFoundError("No user has this id.", user_id=str(user_id))


# -- API keys -----------------------------------------------------------------------------

MAX_API_KEY_LIFETIME = timedelta(days=3650)
API_KEY_TOUCH_INTERVAL = timedelta(seconds=60)
_MAX_CACHED_KEYS = 10_000


class InvalidApiKeyError(AuthenticationError):
    code = "INVALID_API_KEY"
    default_message = "The API key is invalid, expired or revoked."


class ApiKeyLimitError(ConflictError):
    code = "API_KEY_LIMIT"
    default_message = "You have as many API keys as allowed; revoke one you no longer use."


@dataclass(frozen=True, slots=True)
class _CachedKey:
    principal: Principal
    key_expires_at: datetime | None
    fresh_until: float


class VerifiedKeyCache:
    """API keys this process verified recently, so a busy integration costs no read per call.

    Revoking, deactivating or changing a role in this process forgets the affected
    entries at once; other processes keep trusting them for at most ``ttl_seconds``
    (ADR 0020). Entries never outlive the key's own expiry.
    """

    def __init__(self, ttl_seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self._ttl = ttl_seconds
        self._clock = clock
        self._entries: dict[str, _CachedKey] = {}
        # Bumped by every forget: a verification that read the database before a
        # revocation committed must not put the stale key back afterwards.
        self.epoch = 0

    def get(self, key_hash: str, now: datetime) -> Principal | None:
        entry = self._entries.get(key_hash)
        if entry is None:
            return None
        if entry.fresh_until <= self._clock() or (
            entry.key_expires_at is not None and now >= entry.key_expires_at
        ):
            del self._entries[key_hash]
            return None
        return entry.principal

    def put(
        self, key_hash: str, principal: Principal, key_expires_at: datetime | None, epoch: int
    ) -> None:
        if self._ttl <= 0 or epoch != self.epoch:
            return
        if len(self._entries) >= _MAX_CACHED_KEYS:
            self._entries.clear()  # crude, but bounded; a miss only costs one read
        self._entries[key_hash] = _CachedKey(principal, key_expires_at, self._clock() + self._ttl)

    def forget_key(self, key_id: UUID) -> None:
        self._forget(lambda p: p.api_key_id == key_id)

    def forget_owner(self, user_id: UUID) -> None:
        self._forget(lambda p: p.user_id == user_id)

    def _forget(self, matches: Callable[[Principal], bool]) -> None:
        self.epoch += 1
        for key_hash in [h for h, e in self._entries.items() if matches(e.principal)]:
            del self._entries[key_hash]


@dataclass
class ApiKeyService:
    """Create, list and revoke one's own API keys (only from a signed-in session)."""

    uow: IdentityUnitOfWorkFactory
    keys: VerifiedKeyCache
    max_per_user: int = 25
    audit: AuditTrail = field(default_factory=NullAuditTrail)

    async def create(
        self,
        principal: Principal,
        *,
        name: str,
        scopes: Collection[Permission],
        expires_at: datetime | None = None,
    ) -> tuple[ApiKey, str]:
        """The stored key and the key itself, which is never available again."""
        # A leaked key must not mint longer-lived or broader keys for itself.
        principal.require_session()
        name = clean_name(name)
        wanted = frozenset(scopes)
        now = utcnow()
        if expires_at is not None and not now < expires_at <= now + MAX_API_KEY_LIFETIME:
            raise ValidationError(
                "The expiry must be in the future and at most ten years away.",
                field="expires_at",
            )
        for _attempt in range(3):
            key, prefix, key_hash = new_api_key()
            stored = ApiKey(
                id=new_id(),
                user_id=principal.user_id,
                name=name,
                prefix=prefix,
                key_hash=key_hash,
                scopes=wanted,
                created_at=now,
                expires_at=expires_at,
            )
            try:
                async with self.uow() as uow:
                    owner = await uow.users.lock(principal.user_id)
                    if owner is None or not owner.is_active:
                        raise AuthenticationError()
                    not_granted = wanted - PERMISSIONS[owner.role]
                    if not_granted:
                        raise ValidationError(
                            "A key can only carry permissions your role has.",
                            field="scopes",
                            not_granted=sorted(scope.value for scope in not_granted),
                        )
                    if await uow.api_keys.count_usable(owner.id, now) >= self.max_per_user:
                        raise ApiKeyLimitError(limit=self.max_per_user)
                    await uow.api_keys.add(stored)
                    await uow.commit()
            except AlreadyExistsError:  # the random prefix was taken: draw another
                continue
            await self.audit.record(
                "api_keys.created",
                actor_id=principal.user_id,
                target_type="api_key",
                target_id=str(stored.id),
                details={
                    "name": name,
                    "prefix": prefix,
                    "scopes": sorted(scope.value for scope in wanted),
                    "expires_at": None if expires_at is None else expires_at.isoformat(),
                },
            )
            return stored, key
        raise ConflictError("Could not create a unique API key; try again.")

    async def list(self, principal: Principal) -> list[ApiKey]:
        principal.require_session()
        async with self.uow(read_only=True) as uow:
            return await uow.api_keys.list_for_user(principal.user_id)

    async def revoke(self, principal: Principal, key_id: UUID) -> None:
        """Revoke one of the caller's keys; another user's key is as absent as a missing one."""
        principal.require_session()
        async with self.uow() as uow:
            revoked = await uow.api_keys.revoke(key_id, principal.user_id, utcnow())
            if revoked is None:
                raise NotFoundError("No API key of yours has this id.", api_key_id=str(key_id))
            await uow.commit()
        self.keys.forget_key(key_id)
        await self.audit.record(
            "api_keys.revoked",
            actor_id=principal.user_id,
            target_type="api_key",
            target_id=str(key_id),
            details={"prefix": revoked.prefix, "name": revoked.name},
        )


class ApiKeyAuthenticator:
    """An ``agora_...`` key -> the owner's principal, limited to the key's scopes.

    A key works while it is neither revoked nor expired and its owner is active; the
    owner's *current* role bounds what its scopes grant. ``last_used_at`` is written at
    most once per ``touch_interval`` per key, not on every request.
    """

    def __init__(
        self,
        uow: IdentityUnitOfWorkFactory,
        keys: VerifiedKeyCache,
        touch_interval: timedelta = API_KEY_TOUCH_INTERVAL,
    ) -> None:
        self._uow = uow
        self._keys = keys
        self._touch_interval = touch_interval
        self._touched: dict[UUID, datetime] = {}

    async def authenticate(self, credential: str) -> Principal:
        prefix = api_key_prefix(credential)
        if prefix is None:
            raise InvalidApiKeyError()
        now = utcnow()
        key_hash = hash_api_key(credential)
        principal = self._keys.get(key_hash, now)
        if principal is None:
            epoch = self._keys.epoch
            async with self._uow(read_only=True) as uow:
                found = await uow.api_keys.find_with_owner(prefix)
            if found is None:
                raise InvalidApiKeyError()
            key, owner = found
            if not key.matches(credential) or not key.is_usable(now) or not owner.is_active:
                raise InvalidApiKeyError()
            principal = Principal.for_api_key(owner.id, owner.role, key.id, key.scopes)
            self._keys.put(key_hash, principal, key.expires_at, epoch)
        await self._touch(principal, now)
        return principal

    async def _touch(self, principal: Principal, now: datetime) -> None:
        key_id = principal.api_key_id
        assert key_id is not None
        last = self._touched.get(key_id)
        if last is not None and now - last < self._touch_interval:
            return
        if len(self._touched) >= _MAX_CACHED_KEYS:
            self._touched.clear()
        self._touched[key_id] = now  # before the write: concurrent requests skip it
        try:
            async with self._uow() as uow:
                await uow.api_keys.touch(key_id, now, now - self._touch_interval)
                await uow.commit()
        except Exception:  # bookkeeping only: never fail a request because of it
            log.warning("api_key_touch_failed", api_key_id=str(key_id), exc_info=True)


class CredentialAuthenticator:
    """The platform ``Authenticator``: API keys to the key store, anything else to tokens."""

    def __init__(self, api_keys: Authenticator, tokens: Authenticator) -> None:
        self._api_keys = api_keys
        self._tokens = tokens

    async def authenticate(self, credential: str) -> Principal:
        if is_api_key(credential):
            return await self._api_keys.authenticate(credential)
        return await self._tokens.authenticate(credential)


def _email_taken() -> AlreadyExistsError:
    return AlreadyExistsError("An account with this email address already exists.", field="email")
