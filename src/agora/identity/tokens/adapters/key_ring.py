"""Access-token signing keys: ES256 key pairs in the database, loaded into every process.

One key is *active* (it signs); keys retired by a rotation keep verifying for the
retention window (the access-token lifetime plus the key refresh interval plus a
margin), long enough for every token they signed to expire, and then verify nothing.
Private keys are stored encrypted with AES-256-GCM under a key derived (HKDF-SHA256)
from ``AGORA_SECRET_KEY``; the public halves are stored in the clear and are all that
verification needs.

Each process holds the keys in a ``KeyRing`` and re-reads them every
``AGORA_SIGNING_KEY_REFRESH_SECONDS``, and at once (throttled) when a token names a key
it has not seen, so a rotation made by ``agora keys rotate`` in another process is
picked up without a restart. See ADR 0016.
"""

from __future__ import annotations

import os
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from agora.identity.tokens.adapters.key_material import (
    ALGORITHM,
    KeyCipher,
    b64url,
    new_stored_key,
    public_jwk,
)
from agora.identity.tokens.adapters.key_store import MemorySigningKeyStore
from agora.identity.tokens.ports import (
    KeyRotation,
    SigningKeyInfo,
    SigningKeysUnitOfWorkFactory,
    StoredKey,
)
from agora.platform.clock import utcnow
from agora.platform.errors import AlreadyExistsError, ConflictError, DependencyUnavailableError
from agora.platform.logging import get_logger

log = get_logger("agora.identity.signing_keys")

# After the last token a retired key signed has expired, allow for clocks that disagree.
RETENTION_MARGIN = timedelta(seconds=60)
# A token naming an unknown key makes the process re-read the keys at most this often,
# so a flood of forged key ids costs one query per interval, not one per request.
UNKNOWN_KID_INTERVAL = 2.0
RETRY_AFTER_FAILURE = 5.0


class SigningKeyUnavailableError(DependencyUnavailableError):
    """No usable signing key: it cannot be decrypted, or the key store is unreachable."""

    default_message = "Access tokens cannot be issued right now; please retry shortly."


@dataclass(frozen=True, slots=True)
class _VerifyingKey:
    kid: str
    public_key: ec.EllipticCurvePublicKey
    jwk: dict[str, str]
    not_after: float | None  # epoch seconds; None while the key is active


class KeyRing:
    """The signing keys as one process knows them: cheap to read on every request.

    The stored keys are read and changed through units of work from ``uow`` (a
    ``MemorySigningKeyStore`` serves as one for keys held in memory only).
    """

    def __init__(
        self,
        uow: SigningKeysUnitOfWorkFactory,
        cipher: KeyCipher,
        *,
        retention: timedelta,
        refresh_interval: float,
    ) -> None:
        self._uow = uow
        self._cipher = cipher
        self._retention = retention
        self._refresh_interval = refresh_interval
        self._verifying: dict[str, _VerifyingKey] = {}
        self._signer: tuple[str, ec.EllipticCurvePrivateKey] | None = None
        # Bumped whenever a key stops verifying, so caches of verified tokens are dropped.
        self.generation = 0
        self._loaded = False
        self._syncing = False
        self._next_sync = 0.0
        self._last_forced = -UNKNOWN_KID_INTERVAL

    @classmethod
    def ephemeral(cls, *, retention: timedelta = timedelta(minutes=20)) -> KeyRing:
        """A ring with one fresh key held only in memory, ready without any I/O."""
        cipher = KeyCipher(b64url(os.urandom(32)))
        store = MemorySigningKeyStore()
        key = new_stored_key(cipher, utcnow())
        store.keys[key.kid] = key
        ring = cls(store, cipher, retention=retention, refresh_interval=3600)
        ring._apply([key], utcnow())
        ring._next_sync = time.monotonic() + 3600
        return ring

    @property
    def retention(self) -> timedelta:
        return self._retention

    # -- the hot path: no I/O --

    def public_key(self, kid: str) -> ec.EllipticCurvePublicKey | None:
        key = self._verifying.get(kid)
        if key is None or (key.not_after is not None and time.time() > key.not_after):
            return None
        return key.public_key

    def signer(self) -> tuple[str, ec.EllipticCurvePrivateKey]:
        if self._signer is None:
            raise SigningKeyUnavailableError()  # why was logged when the keys were read
        return self._signer

    # -- loading --

    async def sync_if_due(self, *, unknown_kid: bool = False) -> None:
        now = time.monotonic()
        if unknown_kid:
            if now - self._last_forced < UNKNOWN_KID_INTERVAL:
                return
            self._last_forced = now
        elif now < self._next_sync:
            return
        if self._syncing and self._loaded:
            return  # another request is already reading; use what is loaded meanwhile
        await self.sync()

    async def sync(self) -> None:
        """Read the keys; on a first start, create the first key (one process wins)."""
        self._syncing = True
        try:
            rows = await self._load()
            now = utcnow()
            if not any(k.active for k in rows):
                created = new_stored_key(self._cipher, now)
                if await self._add_first(created):
                    log.info("signing_key_created", kid=created.kid)
                rows = await self._load()
            self._apply(rows, now)
        except Exception as exc:
            if not self._loaded:
                raise
            # Keep verifying with the keys already known; try again shortly.
            log.warning("signing_key_refresh_failed", error=type(exc).__name__)
            self._next_sync = time.monotonic() + RETRY_AFTER_FAILURE
            return
        finally:
            self._syncing = False
        self._next_sync = time.monotonic() + self._refresh_interval

    def _apply(self, rows: Sequence[StoredKey], now: datetime) -> None:
        verifying: dict[str, _VerifyingKey] = {}
        for row in rows:
            until = None if row.retired_at is None else row.retired_at + self._retention
            if until is not None and until <= now:
                continue
            known = self._verifying.get(row.kid)
            public = known.public_key if known else _load_public(row.public_key_pem)
            jwk = known.jwk if known else {**public_jwk(public), "kid": row.kid}
            verifying[row.kid] = _VerifyingKey(
                row.kid, public, jwk, None if until is None else until.timestamp()
            )
        active = next((row for row in rows if row.active), None)
        signer = self._signer
        if active is None:
            signer = None
        elif signer is None or signer[0] != active.kid:
            try:
                signer = (active.kid, self._private_key(active))
            except ValueError as exc:
                # Verification goes on with the public keys; logins answer 503 until an
                # operator rotates (see docs/runbooks/signing-keys.md).
                signer = None
                log.error("signing_key_unusable", kid=active.kid, reason=str(exc))
        if set(self._verifying) - set(verifying):
            self.generation += 1
        self._verifying = verifying
        self._signer = signer
        self._loaded = True

    def _private_key(self, row: StoredKey) -> ec.EllipticCurvePrivateKey:
        der = self._cipher.decrypt(row.kid, row.private_key_encrypted)
        private = serialization.load_der_private_key(der, password=None)
        if not isinstance(private, ec.EllipticCurvePrivateKey):
            raise ValueError("the private key is not an EC key")
        return private

    # -- the stored keys --

    async def _load(self) -> list[StoredKey]:
        async with self._uow(read_only=True) as uow:
            return await uow.signing_keys.load()

    async def _add_first(self, key: StoredKey) -> bool:
        """Store ``key`` as the first active key; False when another process won."""
        try:
            async with self._uow() as uow:
                if await uow.signing_keys.has_active():
                    return False
                await uow.signing_keys.add(key)
                await uow.commit()
        except AlreadyExistsError:
            # Another process inserted its first key between our check and our insert.
            return False
        return True

    # -- operations (the SigningKeys port) --

    async def rotate(
        self,
        *,
        drop_previous: bool = False,
        before_commit: Callable[[KeyRotation], Awaitable[None]] | None = None,
    ) -> KeyRotation:
        now = utcnow()
        key = new_stored_key(self._cipher, now)
        try:
            async with self._uow() as uow:
                retired = await uow.signing_keys.retire_active(now)
                if drop_previous:
                    dropped = await uow.signing_keys.delete_all()
                else:
                    dropped = await uow.signing_keys.delete_retired_before(now - self._retention)
                await uow.signing_keys.add(key)
                rotation = KeyRotation(new=self._info(key, now), retired=retired, dropped=dropped)
                if before_commit is not None:
                    await before_commit(rotation)
                await uow.commit()
        except AlreadyExistsError:
            raise ConflictError(
                "Another key rotation finished at the same moment; list the keys and "
                "rotate again only if needed."
            ) from None
        await self.sync()
        return rotation

    async def list_keys(self) -> list[SigningKeyInfo]:
        await self.sync_if_due()
        now = utcnow()
        return [self._info(row, now) for row in await self._load()]

    async def public_jwks(self) -> dict[str, Any]:
        await self.sync_if_due()
        now = time.time()
        keys = [
            {**key.jwk, "alg": ALGORITHM, "use": "sig"}
            for key in self._verifying.values()
            if key.not_after is None or key.not_after > now
        ]
        return {"keys": keys}

    def _info(self, row: StoredKey, now: datetime) -> SigningKeyInfo:
        until = None if row.retired_at is None else row.retired_at + self._retention
        state = "active" if row.active else ("verifying" if until and until > now else "expired")
        return SigningKeyInfo(row.kid, row.algorithm, row.created_at, row.retired_at, state, until)


def _load_public(pem: str) -> ec.EllipticCurvePublicKey:
    key = serialization.load_pem_public_key(pem.encode("ascii"))
    if not isinstance(key, ec.EllipticCurvePublicKey):
        raise SigningKeyUnavailableError("A stored signing key is not an EC public key.")
    return key


def retention_for(access_token_ttl: timedelta, refresh_interval: float) -> timedelta:
    """How long a retired key keeps verifying: until the last token it signed expired.

    A process that has not yet re-read the keys may sign with the retired key for up to
    one refresh interval after the rotation; its tokens live one token lifetime more.
    """
    return access_token_ttl + timedelta(seconds=refresh_interval) + RETENTION_MARGIN
