"""API key rules without a database: the key format, scopes, and the verified-key cache."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from uuid import UUID

import pytest

from agora.identity.access.api_keys import VerifiedKeyCache
from agora.identity.access.domain import api_key_prefix, hash_api_key, is_api_key, new_api_key
from agora.platform.access import PERMISSIONS, Permission, Principal, Role
from agora.platform.ids import new_id

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def key_principal(user_id: UUID | None = None) -> Principal:
    return Principal.for_api_key(
        user_id or new_id(), Role.STAFF, new_id(), {Permission.CATALOG_WRITE}
    )


def test_new_keys_are_well_formed_unique_and_hashed() -> None:
    keys = [new_api_key() for _ in range(200)]
    for key, prefix, key_hash in keys:
        assert re.fullmatch(r"agora_[a-z0-9]{8}_[A-Za-z0-9]{43}", key)
        assert api_key_prefix(key) == prefix
        assert key_hash == hash_api_key(key)
        assert key not in key_hash
    assert len({key for key, _, _ in keys}) == 200


@pytest.mark.parametrize(
    "credential",
    [
        "",
        "agora_",
        "eyJhbGciOiJFUzI1NiJ9.e30.sig",
        "agora_abcdefgh_" + "a" * 42,
        "agora_abcdefgh_" + "a" * 44,
        "agora_abcdefg_" + "a" * 44,
        "agora_abcdéfgh_" + "a" * 43,
        "agora_abcdefgh_" + "a" * 42 + "_",
        "AGORA_abcdefgh_" + "a" * 43,
    ],
)
def test_malformed_credentials_have_no_prefix(credential: str) -> None:
    assert api_key_prefix(credential) is None


def test_only_the_marker_routes_a_credential_to_the_key_store() -> None:
    assert is_api_key("agora_anything")
    assert not is_api_key("eyJhbGciOiJFUzI1NiJ9.e30.sig")


@pytest.mark.parametrize("role", list(Role))
def test_a_keys_permissions_are_its_scopes_within_the_owners_role(role: Role) -> None:
    scopes = {Permission.CATALOG_WRITE, Permission.USERS_MANAGE}
    principal = Principal.for_api_key(new_id(), role, new_id(), scopes)
    assert principal.permissions == scopes & PERMISSIONS[role]
    assert principal.session_id is None
    assert principal.api_key_id is not None


def test_cached_keys_expire_after_the_ttl() -> None:
    clock = Clock()
    cache = VerifiedKeyCache(30, clock)
    principal = key_principal()
    cache.put("h", principal, None, cache.epoch)
    clock.now += 29
    assert cache.get("h", NOW) == principal
    clock.now += 1
    assert cache.get("h", NOW) is None


def test_a_cached_key_never_outlives_its_own_expiry() -> None:
    cache = VerifiedKeyCache(30, Clock())
    cache.put("h", key_principal(), NOW + timedelta(seconds=5), cache.epoch)
    assert cache.get("h", NOW + timedelta(seconds=4)) is not None
    assert cache.get("h", NOW + timedelta(seconds=5)) is None


def test_forgetting_a_key_or_an_owner_drops_exactly_their_entries() -> None:
    cache = VerifiedKeyCache(30, Clock())
    owner = new_id()
    first, second, other = key_principal(owner), key_principal(owner), key_principal()
    for name, principal in (("a", first), ("b", second), ("c", other)):
        cache.put(name, principal, None, cache.epoch)
    assert first.api_key_id is not None
    cache.forget_key(first.api_key_id)
    assert (cache.get("a", NOW), cache.get("b", NOW)) == (None, second)
    cache.forget_owner(owner)
    assert (cache.get("b", NOW), cache.get("c", NOW)) == (None, other)


def test_a_verification_older_than_a_revocation_is_not_cached() -> None:
    cache = VerifiedKeyCache(30, Clock())
    principal = key_principal()
    epoch = cache.epoch  # a request starts reading the key from the database...
    assert principal.api_key_id is not None
    cache.forget_key(principal.api_key_id)  # ...the key is revoked meanwhile...
    cache.put("h", principal, None, epoch)  # ...and the stale read must not be kept
    assert cache.get("h", NOW) is None


def test_a_zero_ttl_caches_nothing() -> None:
    cache = VerifiedKeyCache(0, Clock())
    cache.put("h", key_principal(), None, cache.epoch)
    assert cache.get("h", NOW) is None
