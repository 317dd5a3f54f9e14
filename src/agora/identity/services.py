"""Identity use cases: register, log in, refresh, log out, profile, roles.

Password hashing is slow by design, so it always runs *outside* a writing transaction
(on SQLite a writing unit holds the database write lock).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from uuid import UUID

from email_validator import EmailNotValidError, validate_email

from agora.identity.domain import (
    MAX_EMAIL_LENGTH,
    MAX_NAME_LENGTH,
    InvalidCredentialsError,
    RefreshToken,
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
from agora.identity.password_policy import PasswordPolicy
from agora.identity.ports import (
    AccessTokens,
    IdentityUnitOfWork,
    IdentityUnitOfWorkFactory,
    LoginThrottle,
    PasswordHasher,
)
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
    refresh_ttl: timedelta
    audit: AuditTrail = field(default_factory=NullAuditTrail)
    throttle: LoginThrottle = field(default_factory=NoLoginThrottle)
    # Keys the email fingerprints the throttle counts and the audit trail shows.
    fingerprint_key: bytes = b""

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
        """Change a user's role (operators and admins); takes effect at the next refresh."""
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
            await self.audit.record(
                "user.role_change",
                target_type="user",
                target_id=str(user.id),
                details={"from": previous.value, "to": role.value},
            )
        return user

    async def deactivate(self, email: str) -> User:
        """Block the account: no login, every session revoked at once."""
        email = normalise_email(email)
        now = utcnow()
        async with self.uow() as uow:
            user = await uow.users.get_by_email(email)
            if user is None:
                raise NotFoundError("No user has this email address.", field="email")
            changed = user.deactivated(now)
            await uow.users.update(changed, expected_version=user.version)
            await uow.refresh_tokens.revoke_all_for_user(user.id, now)
            await uow.commit()
        await self.audit.record("user.deactivate", target_type="user", target_id=str(user.id))
        return changed

    # -- sessions ---------------------------------------------------------------------

    async def login(
        self, email: str, password: str, user_agent: str | None = None, ip: str | None = None
    ) -> TokenPair:
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
        return await self.start_session(user, user_agent, ip)

    async def start_session(
        self, user: User, user_agent: str | None, ip: str | None, *, mfa: bool = False
    ) -> TokenPair:
        """Open a new session (refresh-token family) for an authenticated user.

        Every way of signing in (password, second factor, OpenID Connect) ends here.
        """
        family_id = new_id()
        async with self.uow() as uow:
            refresh = await self._issue_refresh(uow, user.id, family_id, user_agent, ip)
            await uow.commit()
        return self._pair(user, family_id, refresh, mfa=mfa)

    async def refresh(
        self, refresh_token: str, user_agent: str | None = None, ip: str | None = None
    ) -> TokenPair:
        """Rotate: the presented token is used up and a new one is issued in its family.

        A token presented a second time means it was copied: the whole family is
        revoked (the legitimate client must log in again) and the answer is 401.
        """
        now = utcnow()
        token_hash = hash_refresh_token(refresh_token)
        async with self.uow() as uow:
            stored = await uow.refresh_tokens.get_by_hash(token_hash)
            if stored is None or stored.is_revoked or stored.is_expired(now):
                raise InvalidRefreshTokenError()
            if stored.was_used or not await uow.refresh_tokens.mark_used(stored.id, now):
                await uow.refresh_tokens.revoke_family(stored.family_id, now)
                await uow.commit()
                # Recorded before leaving the unit (which still holds its connection, but
                # has committed): reuse is rare, so the second connection costs little.
                await self.audit.record(
                    "auth.refresh_reuse",
                    actor_id=stored.user_id,
                    target_type="session",
                    target_id=str(stored.family_id),
                    outcome="failure",
                    details={"session_revoked": True},
                )
                raise InvalidRefreshTokenError()
            user = await uow.users.get(stored.user_id)
            if user is None or not user.is_active:
                await uow.refresh_tokens.revoke_family(stored.family_id, now)
                await uow.commit()
                raise InvalidRefreshTokenError()
            refresh = await self._issue_refresh(uow, user.id, stored.family_id, user_agent, ip)
            await uow.commit()
        return self._pair(user, stored.family_id, refresh)

    async def logout(self, refresh_token: str) -> None:
        """Revoke the session the token belongs to; unknown tokens are ignored (idempotent)."""
        token_hash = hash_refresh_token(refresh_token)
        async with self.uow() as uow:
            stored = await uow.refresh_tokens.get_by_hash(token_hash)
            if stored is None:
                return
            await uow.refresh_tokens.revoke_family(stored.family_id, utcnow())
            await uow.commit()
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
                expires_at=now + self.refresh_ttl,
                user_agent=(user_agent or None) and user_agent[:MAX_USER_AGENT],
                ip=(ip or None) and ip[:MAX_IP],
            )
        )
        return token

    def _pair(self, user: User, family_id: UUID, refresh: str, *, mfa: bool = False) -> TokenPair:
        access = self.tokens.issue(user.id, user.role, family_id, mfa=mfa)
        return TokenPair(access, refresh, self.tokens.ttl_seconds)


class TokenAuthenticator:
    """The platform ``Authenticator``: a bearer access token -> a principal.

    Stateless on purpose: no database read per request. An access token lives at most
    ``access_token_ttl_seconds`` (15 minutes); deactivation and logout revoke the
    refresh tokens, so a blocked user loses access when the current token expires.
    """

    def __init__(self, tokens: AccessTokens) -> None:
        self._tokens = tokens

    async def authenticate(self, credential: str) -> Principal:
        claims = self._tokens.verify(credential)
        return Principal.for_user(claims.user_id, claims.role, claims.session_id, mfa=claims.mfa)


def _email_taken() -> AlreadyExistsError:
    return AlreadyExistsError("An account with this email address already exists.", field="email")
