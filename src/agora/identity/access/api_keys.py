"""API keys: created, listed and revoked by their owner, verified (with a short cache)
for integrations; and the authenticator that tells API keys from access tokens."""

from __future__ import annotations

import time
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from uuid import UUID

from agora.identity.access.domain import (
    ApiKey,
    ApiKeyLimitError,
    InvalidApiKeyError,
    api_key_prefix,
    hash_api_key,
    is_api_key,
    new_api_key,
)
from agora.identity.access.ports import AccessUnitOfWorkFactory
from agora.identity.domain import clean_name
from agora.platform.access import PERMISSIONS, Authenticator, Permission, Principal
from agora.platform.audit import AuditTrail, NullAuditTrail
from agora.platform.clock import utcnow
from agora.platform.errors import (
    AlreadyExistsError,
    AuthenticationError,
    ConflictError,
    NotFoundError,
    ValidationError,
)
from agora.platform.ids import new_id
from agora.platform.logging import get_logger

log = get_logger("agora.identity")


MAX_API_KEY_LIFETIME = timedelta(days=3650)
API_KEY_TOUCH_INTERVAL = timedelta(seconds=60)
_MAX_CACHED_KEYS = 10_000


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

    uow: AccessUnitOfWorkFactory
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
                    await uow.commit()
            except AlreadyExistsError:  # the random prefix was taken: draw another
                continue
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
            await self.audit.record(
                "api_keys.revoked",
                actor_id=principal.user_id,
                target_type="api_key",
                target_id=str(key_id),
                details={"prefix": revoked.prefix, "name": revoked.name},
            )
            await uow.commit()
        self.keys.forget_key(key_id)


class ApiKeyAuthenticator:
    """An ``agora_...`` key -> the owner's principal, limited to the key's scopes.

    A key works while it is neither revoked nor expired and its owner is active; the
    owner's *current* role bounds what its scopes grant. ``last_used_at`` is written at
    most once per ``touch_interval`` per key, not on every request.
    """

    def __init__(
        self,
        uow: AccessUnitOfWorkFactory,
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
