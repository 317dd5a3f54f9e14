"""Identity use cases, built by the composition root on in-memory fakes: the rules,
without a database."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from agora.bootstrap.identity import Identity, build_identity
from agora.identity.access.domain import ApiKey
from agora.identity.accounts.password_policy import WeakPasswordError
from agora.identity.domain import InvalidCredentialsError
from agora.identity.sessions import sign_in as services
from agora.identity.sessions.domain import TokenPair, hash_refresh_token
from agora.platform.access import Principal, Role
from agora.platform.clock import utcnow
from agora.platform.errors import (
    AlreadyExistsError,
    AuthenticationError,
    NotFoundError,
    StaleVersionError,
    ValidationError,
)
from agora.platform.ids import new_id
from tests.fakes import (
    CountingHasher,
    FakeMail,
    IdentityStore,
    RecordingAuditTrail,
    identity_adapters,
    unit_settings,
)

pytestmark = pytest.mark.anyio
PASSWORD = "violet anchor museum tide"


def _identity(store: IdentityStore, hasher: CountingHasher | None = None) -> Identity:
    adapters = identity_adapters(store, hasher=hasher or CountingHasher())
    return build_identity(unit_settings(), adapters, audit=RecordingAuditTrail(), mail=FakeMail())


def _service(store: IdentityStore, hasher: CountingHasher | None = None) -> Identity:
    return _identity(store, hasher)


async def test_register_makes_a_customer_and_records_an_event() -> None:
    store = IdentityStore()
    user = await _service(store).registration.register(" Ada@Example.COM ", PASSWORD, "Ada")
    assert user.email == "ada@example.com"
    assert user.role is Role.CUSTOMER
    assert user.password_hash != PASSWORD
    assert [e.name for e in store.events] == ["identity.UserRegistered"]
    assert store.events[0].payload["user_id"] == str(user.id)


async def test_register_refuses_a_taken_email_in_any_case() -> None:
    service = _service(IdentityStore())
    await service.registration.register("ada@example.com", PASSWORD, "Ada")
    with pytest.raises(AlreadyExistsError):
        await service.registration.register("ADA@example.com", PASSWORD, "Another Ada")


async def test_weak_password_is_refused_before_any_hashing() -> None:
    hasher = CountingHasher()
    store = IdentityStore()
    with pytest.raises(WeakPasswordError):
        await _service(store, hasher).registration.register(
            "ada@example.com", "password1234", "Ada"
        )
    assert hasher.hashes == 0
    assert store.users == {}


@pytest.mark.parametrize("email", ["", "ada", "ada@", "@example.com", "a" * 250 + "@x.io"])
async def test_malformed_email_is_a_validation_error_on_email(email: str) -> None:
    with pytest.raises(ValidationError) as caught:
        await _service(IdentityStore()).registration.register(email, PASSWORD, "Ada")
    assert caught.value.details["field"] == "email"


async def test_unknown_email_still_costs_one_password_verification() -> None:
    hasher = CountingHasher()
    service = _service(IdentityStore(), hasher)
    for email in ("nobody@example.com", "not an email"):
        before = hasher.verifications
        with pytest.raises(InvalidCredentialsError):
            await service.sign_in.login(email, PASSWORD)
        assert hasher.verifications == before + 1


async def test_login_with_an_old_hash_upgrades_it() -> None:
    store = IdentityStore()
    old = CountingHasher(scheme="v1")
    user = await _service(store, old).registration.register("ada@example.com", PASSWORD, "Ada")
    assert store.users[user.id].password_hash.startswith("v1:")
    await _service(store, CountingHasher(scheme="v2")).sign_in.login("ada@example.com", PASSWORD)
    assert store.users[user.id].password_hash.startswith("v2:")


async def test_inactive_user_gets_the_same_error_as_a_wrong_password() -> None:
    store = IdentityStore()
    service = _service(store)
    await service.registration.register("ada@example.com", PASSWORD, "Ada")
    await service.users.deactivate("ada@example.com")
    with pytest.raises(InvalidCredentialsError) as inactive:
        await service.sign_in.login("ada@example.com", PASSWORD)
    with pytest.raises(InvalidCredentialsError) as wrong:
        await service.sign_in.login("ada@example.com", PASSWORD + "!")
    assert inactive.value.message == wrong.value.message


async def test_access_token_authenticates_as_the_user_in_the_session() -> None:
    store = IdentityStore()
    identity = _identity(store)
    service = identity
    user = await service.registration.create_user(
        email="staff@example.com", password=PASSWORD, name="Sam", role=Role.STAFF
    )
    pair = await service.sign_in.login("staff@example.com", PASSWORD)
    principal = await identity.authenticator.authenticate(pair.access_token)
    assert (principal.user_id, principal.role) == (user.id, Role.STAFF)
    family = store.tokens[next(iter(store.tokens))].family_id
    assert principal.session_id == family
    assert pair.refresh_token not in {t.token_hash for t in store.tokens.values()}
    assert hash_refresh_token(pair.refresh_token) in {t.token_hash for t in store.tokens.values()}


async def test_refresh_reuse_revokes_every_token_of_the_family() -> None:
    store = IdentityStore()
    service = _service(store)
    await service.registration.register("ada@example.com", PASSWORD, "Ada")
    first = await service.sign_in.login("ada@example.com", PASSWORD)
    second = await service.sign_in.refresh(first.refresh_token)
    with pytest.raises(AuthenticationError):
        await service.sign_in.refresh(first.refresh_token)
    assert all(t.revoked_at is not None for t in store.tokens.values())
    with pytest.raises(AuthenticationError):
        await service.sign_in.refresh(second.refresh_token)


async def test_expired_refresh_token_is_refused_without_burning_the_family(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    store = IdentityStore()
    service = _service(store)
    await service.registration.register("ada@example.com", PASSWORD, "Ada")
    pair = await service.sign_in.login("ada@example.com", PASSWORD)
    idle = service.sign_in.refresh_ttl + timedelta(seconds=1)
    monkeypatch.setattr(services, "utcnow", lambda: utcnow() + idle)
    with pytest.raises(AuthenticationError):
        await service.sign_in.refresh(pair.refresh_token)
    assert all(t.used_at is None and t.revoked_at is None for t in store.tokens.values())


async def test_role_change_shows_in_the_next_refreshed_token() -> None:
    store = IdentityStore()
    service = _service(store)
    await service.registration.register("ada@example.com", PASSWORD, "Ada")
    pair = await service.sign_in.login("ada@example.com", PASSWORD)
    await service.users.set_role("ada@example.com", Role.STAFF)
    refreshed = await service.sign_in.refresh(pair.refresh_token)
    assert service.sign_in.tokens.verify(refreshed.access_token).role is Role.STAFF


async def test_set_role_of_an_unknown_email_is_not_found() -> None:
    with pytest.raises(NotFoundError):
        await _service(IdentityStore()).users.set_role("ghost@example.com", Role.ADMIN)


async def test_update_profile_bumps_the_version_and_refuses_stale_writes() -> None:
    store = IdentityStore()
    service = _service(store)
    user = await service.registration.register("ada@example.com", PASSWORD, "Ada")
    principal = Principal.for_user(user.id, user.role)
    renamed = await service.registration.update_profile(
        principal, name="Ada King", expected_version=1
    )
    assert (renamed.name, renamed.version) == ("Ada King", 2)
    with pytest.raises(StaleVersionError):
        await service.registration.update_profile(principal, name="Lost Update", expected_version=1)
    assert store.users[user.id].name == "Ada King"


async def test_profile_of_a_vanished_user_is_unauthenticated() -> None:
    store = IdentityStore()
    service = _service(store)
    user = await service.registration.register("ada@example.com", PASSWORD, "Ada")
    store.users[user.id] = replace(store.users[user.id], is_active=False)
    with pytest.raises(AuthenticationError):
        await service.registration.get_profile(Principal.for_user(user.id, user.role))


async def test_deactivation_revokes_every_session_and_api_key_of_the_user() -> None:
    store = IdentityStore()
    service = _service(store)
    ada = await service.registration.register("ada@example.com", PASSWORD, "Ada")
    bob = await service.registration.register("bob@example.com", PASSWORD, "Bob")
    pair = await service.sign_in.login("ada@example.com", PASSWORD)
    now = utcnow()
    for owner in (ada, bob):
        key = ApiKey(new_id(), owner.id, "sync", f"p{owner.id.hex[:7]}", "0" * 64, frozenset(), now)
        store.api_keys[key.id] = key

    await service.users.deactivate("ada@example.com")

    assert all(k.revoked_at is not None for k in store.api_keys.values() if k.user_id == ada.id)
    assert all(k.revoked_at is None for k in store.api_keys.values() if k.user_id == bob.id)
    assert isinstance(pair, TokenPair)
    with pytest.raises(AuthenticationError):
        await service.sign_in.refresh(pair.refresh_token)
