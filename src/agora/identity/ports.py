"""Ports of the identity context: what its services need from the outside world."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol
from uuid import UUID

from agora.identity.domain import ApiKey, EmailToken, EmailTokenPurpose, RefreshToken, User
from agora.identity.oidc_domain import LoginState, OidcIdentity, OidcLink
from agora.platform.access import Role
from agora.platform.errors import AuthenticationError
from agora.platform.unit_of_work import UnitOfWork


class UserRepository(Protocol):
    async def add(self, user: User) -> None:
        """Insert; raises ``AlreadyExistsError`` when the email is taken."""
        ...

    async def get(self, user_id: UUID) -> User | None: ...

    async def get_by_email(self, email: str) -> User | None: ...

    async def update(self, user: User, expected_version: int) -> None:
        """Write ``user`` if the stored version is still ``expected_version``.

        Raises ``StaleVersionError`` otherwise.
        """
        ...

    async def set_password_hash(self, user_id: UUID, password_hash: str) -> None: ...

    # -- administration --

    async def lock(self, user_id: UUID) -> User | None:
        """Read the user and hold its row until the unit ends (``FOR UPDATE``)."""
        ...

    async def search(self, where: UserFilter, offset: int, limit: int) -> tuple[list[User], int]:
        """One page ordered by email (unique, so pages never overlap) and the total."""
        ...

    async def lock_active_admins(self) -> list[UUID]:
        """Ids of every active admin, their rows held until the unit ends.

        Of two units that each mean to remove an admin, the second waits here and then
        counts what the first left, so the last admin cannot be removed twice over.
        """

    async def mark_email_verified(self, user_id: UUID, email: str, now: datetime) -> bool:
        """Verify the user's email if it is still ``email``; False when it is not (any more)."""
        ...


class RefreshTokenRepository(Protocol):
    async def add(self, token: RefreshToken) -> None: ...

    async def get_by_hash(
        self, token_hash: str, *, for_update: bool = False
    ) -> RefreshToken | None:
        """``for_update`` holds the row until the unit ends: concurrent users of one token
        then queue on it, rather than each locking family rows in its own order."""
        ...

    async def mark_used(self, token_id: UUID, now: datetime) -> bool:
        """Mark an unused, unrevoked token used; False when someone else got there first."""
        ...

    async def revoke_family(self, family_id: UUID, now: datetime) -> None: ...

    async def revoke_all_for_user(self, user_id: UUID, now: datetime) -> None: ...

    async def list_current(self, user_id: UUID, now: datetime) -> Sequence[RefreshToken]:
        """The live secret of each of the user's active sessions, most recently used first."""
        ...

    async def touch(self, token_id: UUID, now: datetime, expires_at: datetime) -> None:
        """Record a use of a cookie session: last used now, idle limit moved on."""
        ...

    async def revoked_since(self, since: datetime) -> Sequence[tuple[UUID, datetime]]:
        """``(family_id, revoked_at)`` of every session revoked at or after ``since``."""
        ...

    async def revoke_other_families(
        self, user_id: UUID, keep_family_id: UUID, now: datetime
    ) -> None:
        """Revoke every session of the user except the one ``keep_family_id`` names."""
        ...


class EmailTokenRepository(Protocol):
    async def add(self, token: EmailToken) -> None: ...

    async def get_by_hash(self, token_hash: str) -> EmailToken | None: ...

    async def mark_used(self, token_id: UUID, now: datetime) -> bool:
        """Use an unused, unexpired token up; False when it is not (any more) usable.

        A conditional update: of two concurrent uses of one token, exactly one wins.
        """
        ...

    async def delete_for_user(self, user_id: UUID, purpose: EmailTokenPurpose) -> None:
        """Forget the user's tokens of ``purpose``: a new link makes older ones invalid."""
        ...


@dataclass(frozen=True, slots=True)
class UserFilter:
    """Admin search: ``q`` is matched literally (no wildcards) in the email or the name."""

    q: str | None = None
    role: Role | None = None
    is_active: bool | None = None


class ApiKeyRepository(Protocol):
    async def add(self, key: ApiKey) -> None:
        """Insert; raises ``AlreadyExistsError`` when the prefix is taken (regenerate)."""
        ...

    async def find_with_owner(self, prefix: str) -> tuple[ApiKey, User] | None:
        """The key with this prefix and its owner, in one read (the authentication path)."""
        ...

    async def list_for_user(self, user_id: UUID) -> list[ApiKey]:
        """The user's keys that are not revoked, newest first."""
        ...

    async def count_usable(self, user_id: UUID, now: datetime) -> int: ...

    async def revoke(self, key_id: UUID, user_id: UUID, now: datetime) -> ApiKey | None:
        """Revoke the user's key if it is still live; None when there is none to revoke."""
        ...

    async def revoke_all_for_user(self, user_id: UUID, now: datetime) -> int: ...

    async def touch(self, key_id: UUID, now: datetime, older_than: datetime) -> None:
        """Set ``last_used_at`` unless it is already more recent than ``older_than``."""
        ...


class IdentityUnitOfWork(UnitOfWork, Protocol):
    @property
    def users(self) -> UserRepository: ...

    @property
    def refresh_tokens(self) -> RefreshTokenRepository: ...

    @property
    def api_keys(self) -> ApiKeyRepository: ...

    @property
    def email_tokens(self) -> EmailTokenRepository: ...


IdentityUnitOfWorkFactory = Callable[..., IdentityUnitOfWork]
"""Called as ``factory()`` for a writing unit or ``factory(read_only=True)`` for a query."""


class PasswordHasher(Protocol):
    """Slow, salted password hashing; the async methods keep the event loop free."""

    async def hash(self, password: str) -> str: ...

    async def verify(self, password_hash: str, password: str) -> bool:
        """True when ``password`` matches; never raises for a mismatch or a bad hash."""
        ...

    def needs_rehash(self, password_hash: str) -> bool:
        """True when the hash was made with other parameters than the current ones."""
        ...

    @property
    def dummy_hash(self) -> str:
        """A hash of a random password with the current parameters, for equal-time failures."""
        ...


@dataclass(frozen=True, slots=True)
class AccessClaims:
    user_id: UUID
    role: Role
    session_id: UUID
    # True when the session was opened with a second factor (the token's ``amr`` claim).
    mfa: bool = False


class UnknownSigningKeyError(AuthenticationError):
    """The token names a signing key this process has not loaded (perhaps not yet)."""

    default_message = "The access token is invalid."


class AccessTokens(Protocol):
    """Issues and verifies short-lived signed access tokens."""

    @property
    def ttl_seconds(self) -> int: ...

    def issue(self, user_id: UUID, role: Role, session_id: UUID, *, mfa: bool = False) -> str: ...

    def verify(self, token: str) -> AccessClaims:
        """Return the claims, or raise ``AuthenticationError`` for any defect.

        Raises ``UnknownSigningKeyError`` when the token names a key not loaded here.
        """
        ...

    async def sync_keys(self, *, unknown_kid: bool = False) -> None:
        """Re-read the signing keys when the refresh interval has passed.

        ``unknown_kid``: a token named a key not loaded here (another process may have
        rotated); re-read now, unless that was done very recently (throttled).
        Cheap when nothing is due: it is called on every authenticated request.
        """
        ...


@dataclass(frozen=True, slots=True)
class SigningKeyInfo:
    """One signing key as operators see it; never the private key."""

    kid: str
    algorithm: str
    created_at: datetime
    retired_at: datetime | None
    # "active" signs and verifies; "verifying" is retired but its tokens may still live;
    # "expired" is retired past the retention window and verifies nothing.
    state: str
    verifies_until: datetime | None


@dataclass(frozen=True, slots=True)
class KeyRotation:
    new: SigningKeyInfo
    retired: Sequence[str]
    dropped: Sequence[str]


class SigningKeys(Protocol):
    """The set of access-token signing keys, shared by every process through the store."""

    async def rotate(self, *, drop_previous: bool = False) -> KeyRotation:
        """Make a new key the active one; the previous one keeps verifying its tokens until
        they expire, unless ``drop_previous`` (a leaked key) removes every older key now."""
        ...

    async def list_keys(self) -> Sequence[SigningKeyInfo]: ...

    async def public_jwks(self) -> dict[str, Any]:
        """The JSON Web Key Set of the keys that verify tokens (public parts only)."""
        ...


class LoginThrottle(Protocol):
    """Failed-login counters per account fingerprint and per client address.

    ``account`` is an opaque key (a keyed hash of the normalised email), ``ip`` the
    client address key; either may be None and is then not counted. Implementations
    follow ``agora.identity.login_throttle.ThrottlePolicy``.
    """

    async def retry_after(self, account: str | None, ip: str | None) -> float:
        """Seconds until a login for ``account`` from ``ip`` may be tried; 0 when it may now."""
        ...

    async def failed(self, account: str | None, ip: str | None) -> float:
        """Count one failed login; return the lockout it starts (0 below the thresholds)."""
        ...

    async def succeeded(self, account: str | None, ip: str | None) -> None:
        """Forget the account's failures (the address keeps its own)."""
        ...


# -- OpenID Connect login -------------------------------------------------------------------


class OidcLinkRepository(Protocol):
    async def add(self, link: OidcLink) -> None:
        """Insert; raises ``AlreadyExistsError`` when ``(issuer, subject)`` is already linked."""
        ...

    async def get(self, issuer: str, subject: str) -> OidcLink | None: ...


class OidcLoginStateRepository(Protocol):
    async def add(self, state: LoginState) -> None: ...

    async def get_by_hash(self, state_hash: str) -> LoginState | None: ...

    async def mark_used(self, state_id: UUID, now: datetime) -> bool:
        """Use the state up; False when another callback got there first."""
        ...

    async def delete_expired(self, now: datetime) -> int: ...


class OidcUnitOfWork(IdentityUnitOfWork, Protocol):
    @property
    def oidc_links(self) -> OidcLinkRepository: ...

    @property
    def oidc_states(self) -> OidcLoginStateRepository: ...


OidcUnitOfWorkFactory = Callable[..., OidcUnitOfWork]


class OidcProvider(Protocol):
    """One OpenID Connect provider, found through its discovery document."""

    @property
    def issuer(self) -> str: ...

    async def authorization_url(
        self, *, redirect_uri: str, state: str, nonce: str, code_challenge: str
    ) -> str:
        """The provider's authorization endpoint with the request in its query.

        Raises ``OidcProviderUnavailableError`` when the provider cannot be reached.
        """
        ...

    async def requires_issuer_in_response(self) -> bool:
        """True when the provider promises the RFC 9207 ``iss`` callback parameter."""
        ...

    async def redeem(self, *, code: str, code_verifier: str, redirect_uri: str) -> OidcIdentity:
        """Exchange the code and return the claims of the verified ID token.

        The signature, ``iss``, ``aud``, ``azp``, ``exp`` and ``iat`` are checked here; the
        caller compares the nonce. Raises ``OidcCodeRejectedError``,
        ``OidcIdTokenInvalidError`` or ``OidcProviderUnavailableError``.
        """


class AccountMail(Protocol):
    """Sends account emails (links to verify an address or reset a password)."""

    async def send(self, to: str, subject: str, text: str) -> None:
        """Deliver a plain-text email; ``DependencyUnavailableError`` when mail is down."""
        ...
