"""The key ring: first key, rotation, retention, pick-up by other processes, encryption.

Each ``KeyRing`` here plays one app process; rings built on one store share its keys
the way processes share the database (the SQL store has its own tests).
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import replace
from datetime import timedelta

import jwt
import pytest

from agora.bootstrap.identity import build_identity
from agora.identity.tokens.adapters.jwt_tokens import JwtAccessTokens
from agora.identity.tokens.adapters.key_material import KeyCipher, thumbprint
from agora.identity.tokens.adapters.key_ring import (
    KeyRing,
    SigningKeyUnavailableError,
    retention_for,
)
from agora.identity.tokens.adapters.key_store import MemorySigningKeyStore
from agora.identity.tokens.authenticator import TokenAuthenticator
from agora.identity.tokens.ports import StoredKey, UnknownSigningKeyError
from agora.platform.access import Role
from agora.platform.errors import AuthenticationError, DependencyUnavailableError
from tests.fakes import FakeMail, IdentityStore, identity_adapters, unit_settings
from tests.fakes import RecordingAuditTrail as RecordingAudit

pytestmark = pytest.mark.anyio
SECRET = "unit-test-secret-" + "0123456789abcdef" * 3
USER, SESSION = uuid.uuid4(), uuid.uuid4()


class CountingStore(MemorySigningKeyStore):
    def __init__(self) -> None:
        super().__init__()
        self.loads = 0
        self.fail = False

    async def load(self) -> list[StoredKey]:
        self.loads += 1
        if self.fail:
            raise ConnectionError("database unreachable")
        return await super().load()


def _ring(
    store: MemorySigningKeyStore,
    *,
    secret: str = SECRET,
    retention: timedelta = timedelta(minutes=16),
    refresh: float = 3600,
) -> KeyRing:
    return KeyRing(store, KeyCipher(secret), retention=retention, refresh_interval=refresh)


def _tokens(ring: KeyRing) -> JwtAccessTokens:
    return JwtAccessTokens(ring, issuer="agora", audience="agora-api", ttl_seconds=900)


def _kid(token: str) -> str:
    return str(jwt.get_unverified_header(token)["kid"])


async def test_the_first_start_creates_one_key_that_every_process_then_uses() -> None:
    store = MemorySigningKeyStore()
    first, second = _ring(store), _ring(store)
    await asyncio.gather(first.sync(), second.sync(), _ring(store).sync())
    assert len(store.keys) == 1
    [key] = store.keys.values()
    assert key.active
    assert key.algorithm == "ES256"
    assert first.signer()[0] == second.signer()[0] == key.kid
    token = _tokens(first).issue(USER, Role.CUSTOMER, SESSION)
    assert _tokens(second).verify(token).user_id == USER


async def test_rotation_keeps_old_tokens_valid_and_signs_new_ones_with_the_new_key() -> None:
    store = MemorySigningKeyStore()
    ring = _ring(store)
    await ring.sync()
    tokens = _tokens(ring)
    old = tokens.issue(USER, Role.CUSTOMER, SESSION)
    rotation = await ring.rotate()
    assert rotation.retired == [_kid(old)]
    assert rotation.dropped == []
    new = tokens.issue(USER, Role.CUSTOMER, SESSION)
    assert _kid(new) == rotation.new.kid != _kid(old)
    assert tokens.verify(old).user_id == tokens.verify(new).user_id == USER
    states = {k.kid: k.state for k in await ring.list_keys()}
    assert states == {_kid(old): "verifying", _kid(new): "active"}


async def test_after_the_retention_window_the_old_key_verifies_nothing() -> None:
    store = MemorySigningKeyStore()
    ring = _ring(store, retention=timedelta(milliseconds=300))
    await ring.sync()
    tokens = _tokens(ring)
    old = tokens.issue(USER, Role.CUSTOMER, SESSION)
    await ring.rotate()
    assert tokens.verify(old).user_id == USER
    await asyncio.sleep(0.35)
    # Even before the next re-read, the window is over for this process.
    with pytest.raises(UnknownSigningKeyError):
        _tokens(ring).verify(old)
    await ring.sync()
    jwks = await ring.public_jwks()
    assert [k["kid"] for k in jwks["keys"]] == [ring.signer()[0]]
    # The next rotation deletes it from the store for good.
    await ring.rotate()
    assert _kid(old) not in store.keys


async def test_another_process_picks_up_a_rotation_when_it_meets_the_new_kid() -> None:
    store = CountingStore()
    rotating, other = _ring(store), _ring(store)
    await rotating.sync()
    await other.sync()
    await rotating.rotate()
    new = _tokens(rotating).issue(USER, Role.CUSTOMER, SESSION)
    other_tokens = _tokens(other)
    with pytest.raises(UnknownSigningKeyError):
        other_tokens.verify(new)
    loads = store.loads
    principal = await TokenAuthenticator(other_tokens).authenticate(new)
    assert principal.user_id == USER
    assert store.loads == loads + 1
    # It also signs with the new key from now on.
    assert other.signer()[0] == _kid(new)


async def test_unknown_kids_cause_at_most_one_reread_per_interval() -> None:
    store = CountingStore()
    ring = _ring(store)
    await ring.sync()
    authenticator = TokenAuthenticator(_tokens(ring))
    forged = [
        jwt.encode(
            {"sub": "x"}, "k" * 32, algorithm="HS256", headers={"kid": f"k{i}", "typ": "at+jwt"}
        )
        for i in range(50)
    ]
    loads = store.loads
    for token in forged:
        with pytest.raises(AuthenticationError):
            await authenticator.authenticate(token)
    assert store.loads == loads + 1


async def test_every_process_rereads_the_keys_on_its_refresh_interval() -> None:
    store = CountingStore()
    rotating, other = _ring(store), _ring(store, refresh=0.05)
    await rotating.sync()
    await other.sync()
    await rotating.rotate()
    await other.sync_if_due()
    assert other.signer()[0] != rotating.signer()[0]  # not due yet
    await asyncio.sleep(0.06)
    await other.sync_if_due()
    assert other.signer()[0] == rotating.signer()[0]


async def test_dropping_previous_keys_refuses_their_tokens_at_once_even_when_remembered() -> None:
    store = MemorySigningKeyStore()
    ring, other = _ring(store), _ring(store, refresh=0.01)
    await ring.sync()
    await other.sync()
    old = _tokens(ring).issue(USER, Role.CUSTOMER, SESSION)
    other_tokens = _tokens(other)
    assert other_tokens.verify(old).user_id == USER  # now in other's cache
    rotation = await ring.rotate(drop_previous=True)
    assert rotation.dropped == [_kid(old)]
    with pytest.raises(UnknownSigningKeyError):
        _tokens(ring).verify(old)
    await asyncio.sleep(0.02)
    await other.sync_if_due()
    with pytest.raises(UnknownSigningKeyError):
        other_tokens.verify(old)


async def test_a_failed_reread_keeps_the_loaded_keys_working() -> None:
    store = CountingStore()
    ring = _ring(store, refresh=0.01)
    await ring.sync()
    token = _tokens(ring).issue(USER, Role.CUSTOMER, SESSION)
    store.fail = True
    await asyncio.sleep(0.02)
    await ring.sync_if_due()
    assert _tokens(ring).verify(token).user_id == USER
    assert _tokens(ring).issue(USER, Role.CUSTOMER, SESSION)


async def test_without_any_loaded_key_a_failing_store_is_an_error() -> None:
    store = CountingStore()
    store.fail = True
    with pytest.raises(ConnectionError):
        await _ring(store).sync()


# -- private keys at rest --------------------------------------------------------------------


async def test_private_keys_are_stored_encrypted_and_public_keys_in_the_clear() -> None:
    store = MemorySigningKeyStore()
    ring = _ring(store)
    await ring.sync()
    [key] = store.keys.values()
    assert key.private_key_encrypted.startswith("v1.")
    assert "PRIVATE" not in key.private_key_encrypted
    assert key.public_key_pem.startswith("-----BEGIN PUBLIC KEY-----")
    assert SECRET not in repr(key)


async def test_another_secret_cannot_sign_but_still_verifies_until_a_rotation() -> None:
    store = MemorySigningKeyStore()
    original = _ring(store)
    await original.sync()
    token = _tokens(original).issue(USER, Role.CUSTOMER, SESSION)
    changed = _ring(store, secret="a-new-secret-" + "f" * 40)
    await changed.sync()
    assert _tokens(changed).verify(token).user_id == USER
    with pytest.raises(SigningKeyUnavailableError) as caught:
        _tokens(changed).issue(USER, Role.CUSTOMER, SESSION)
    assert isinstance(caught.value, DependencyUnavailableError)  # a 503, not a 500
    await changed.rotate()
    assert _tokens(changed).verify(_tokens(changed).issue(USER, Role.CUSTOMER, SESSION))


def test_a_ciphertext_moved_to_another_key_id_does_not_decrypt() -> None:
    cipher = KeyCipher(SECRET)
    sealed = cipher.encrypt("kid-a", b"private key bytes")
    assert cipher.decrypt("kid-a", sealed) == b"private key bytes"
    for kid, text in (("kid-b", sealed), ("kid-a", sealed[:-2] + "AA"), ("kid-a", "v0.x")):
        with pytest.raises(ValueError, match=r"."):
            cipher.decrypt(kid, text)


async def test_a_row_whose_private_key_was_swapped_is_not_used_for_signing() -> None:
    store = MemorySigningKeyStore()
    ring = _ring(store)
    await ring.sync()
    await ring.rotate()
    [old, new] = await store.load()
    store.keys[new.kid] = replace(new, private_key_encrypted=old.private_key_encrypted)
    swapped = _ring(store)
    await swapped.sync()
    with pytest.raises(SigningKeyUnavailableError):
        swapped.signer()


# -- publishing --------------------------------------------------------------------------------


async def test_the_jwks_holds_public_keys_that_verify_and_nothing_private() -> None:
    store = MemorySigningKeyStore()
    ring = _ring(store)
    await ring.sync()
    old = _tokens(ring).issue(USER, Role.CUSTOMER, SESSION)
    await ring.rotate()
    jwks = await ring.public_jwks()
    assert len(jwks["keys"]) == 2
    for key in jwks["keys"]:
        assert set(key) == {"kty", "crv", "x", "y", "kid", "alg", "use"}
        assert (key["kty"], key["crv"], key["alg"], key["use"]) == ("EC", "P-256", "ES256", "sig")
    by_kid = {k["kid"]: k for k in jwks["keys"]}
    public = jwt.PyJWK(by_kid[_kid(old)]).key
    assert thumbprint(public) == _kid(old)
    claims = jwt.decode(old, public, algorithms=["ES256"], audience="agora-api")
    assert claims["sub"] == str(USER)


def test_retention_outlasts_every_token_a_retired_key_can_have_signed() -> None:
    window = retention_for(timedelta(seconds=900), 60)
    assert window >= timedelta(seconds=900 + 60)


# -- operations --------------------------------------------------------------------------------


async def test_a_rotation_is_audited() -> None:
    audit = RecordingAudit()
    adapters = identity_adapters(IdentityStore())
    service = build_identity(unit_settings(), adapters, audit=audit, mail=FakeMail()).keys
    (first,) = await service.list_keys()
    rotation = await service.rotate()
    assert audit.actions() == [("keys.rotated", "success")]
    record = audit.last("keys.rotated")
    assert record["target_type"] == "signing_key"
    assert record["target_id"] == rotation.new.kid
    assert record["details"]["retired"] == [first.kid]
    assert record["details"]["via"] == "cli"
