"""Identity use cases on in-memory fakes: the rules, without a database."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import timedelta

import pytest

from agora.identity.access.api_keys import VerifiedKeyCache
from agora.identity.access.domain import ApiKey
from agora.identity.access.users import UserAdministration
from agora.identity.accounts.adapters.common_passwords import common_passwords
from agora.identity.accounts.password_policy import PasswordPolicy, WeakPasswordError
from agora.identity.accounts.registration import RegistrationService
from agora.identity.domain import InvalidCredentialsError
from agora.identity.sessions.domain import TokenPair, hash_refresh_token
from agora.identity.sessions.sign_in import SignInService
from agora.identity.tokens.adapters.jwt_tokens import JwtAccessTokens
from agora.identity.tokens.adapters.key_ring import KeyRing
from agora.identity.tokens.authenticator import TokenAuthenticator
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
from tests.unit.identity.fakes import CountingHasher, FakeStore, FakeUnitOfWork

pytestmark = pytest.mark.anyio
PASSWORD = "violet anchor museum tide"


@dataclass
class Services:
    """The identity services a test drives, on one fake store."""

    registration: RegistrationService
    sign_in: SignInService
    users: UserAdministration


def _services(
    store: FakeStore, hasher: CountingHasher | None = None, refresh_ttl: timedelta | None = None
) -> Services:
    def uow(*, read_only: bool = False) -> FakeUnitOfWork:
        return FakeUnitOfWork(store, read_only=read_only)

    hasher = hasher or CountingHasher()
    return Services(
        registration=RegistrationService(uow, hasher, PasswordPolicy(common_passwords())),
        sign_in=SignInService(
            uow=uow,
            hasher=hasher,
            tokens=JwtAccessTokens(
                KeyRing.ephemeral(), issuer="agora", audience="agora-api", ttl_seconds=900
            ),
            refresh_ttl=refresh_ttl or timedelta(days=30),
        ),
        users=UserAdministration(uow, VerifiedKeyCache(0)),
    )


async def test_register_makes_a_customer_and_records_an_event() -> None:
    store = FakeStore()
    user = await _services(store).registration.register(" Ada@Example.COM ", PASSWORD, "Ada")
    assert user.email == "ada@example.com"
    assert user.role is Role.CUSTOMER
    assert user.password_hash != PASSWORD
    assert [e.name for e in store.events] == ["identity.UserRegistered"]
    assert store.events[0].payload["user_id"] == str(user.id)


async def test_register_refuses_a_taken_email_in_any_case() -> None:
    identity = _services(FakeStore())
    await identity.registration.register("ada@example.com", PASSWORD, "Ada")
    with pytest.raises(AlreadyExistsError):
        await identity.registration.register("ADA@example.com", PASSWORD, "Another Ada")


async def test_weak_password_is_refused_before_any_hashing() -> None:
    hasher = CountingHasher()
    store = FakeStore()
    with pytest.raises(WeakPasswordError):
        await _services(store, hasher).registration.register(
            "ada@example.com", "password1234", "Ada"
        )
    assert hasher.hashes == 0
    assert store.users == {}


@pytest.mark.parametrize("email", ["", "ada", "ada@", "@example.com", "a" * 250 + "@x.io"])
async def test_malformed_email_is_a_validation_error_on_email(email: str) -> None:
    with pytest.raises(ValidationError) as caught:
        await _services(FakeStore()).registration.register(email, PASSWORD, "Ada")
    assert caught.value.details["field"] == "email"


async def test_unknown_email_still_costs_one_password_verification() -> None:
    hasher = CountingHasher()
    identity = _services(FakeStore(), hasher)
    for email in ("nobody@example.com", "not an email"):
        before = hasher.verifications
        with pytest.raises(InvalidCredentialsError):
            await identity.sign_in.login(email, PASSWORD)
        assert hasher.verifications == before + 1


async def test_login_with_an_old_hash_upgrades_it() -> None:
    store = FakeStore()
    old = CountingHasher(scheme="v1")
    user = await _services(store, old).registration.register("ada@example.com", PASSWORD, "Ada")
    assert store.users[user.id].password_hash.startswith("v1:")
    await _services(store, CountingHasher(scheme="v2")).sign_in.login("ada@example.com", PASSWORD)
    assert store.users[user.id].password_hash.startswith("v2:")


async def test_inactive_user_gets_the_same_error_as_a_wrong_password() -> None:
    store = FakeStore()
    identity = _services(store)
    await identity.registration.register("ada@example.com", PASSWORD, "Ada")
    await identity.users.deactivate("ada@example.com")
    with pytest.raises(InvalidCredentialsError) as inactive:
        await identity.sign_in.login("ada@example.com", PASSWORD)
    with pytest.raises(InvalidCredentialsError) as wrong:
        await identity.sign_in.login("ada@example.com", PASSWORD + "!")
    assert inactive.value.message == wrong.value.message


async def test_access_token_authenticates_as_the_user_in_the_session() -> None:
    store = FakeStore()
    identity = _services(store)
    user = await identity.registration.create_user(
        email="staff@example.com", password=PASSWORD, name="Sam", role=Role.STAFF
    )
    pair = await identity.sign_in.login("staff@example.com", PASSWORD)
    principal = await TokenAuthenticator(identity.sign_in.tokens).authenticate(pair.access_token)
    assert (principal.user_id, principal.role) == (user.id, Role.STAFF)
    family = store.tokens[next(iter(store.tokens))].family_id
    assert principal.session_id == family
    assert pair.refresh_token not in {t.token_hash for t in store.tokens.values()}
    assert hash_refresh_token(pair.refresh_token) in {t.token_hash for t in store.tokens.values()}


async def test_refresh_reuse_revokes_every_token_of_the_family() -> None:
    store = FakeStore()
    identity = _services(store)
    await identity.registration.register("ada@example.com", PASSWORD, "Ada")
    first = await identity.sign_in.login("ada@example.com", PASSWORD)
    second = await identity.sign_in.refresh(first.refresh_token)
    with pytest.raises(AuthenticationError):
        await identity.sign_in.refresh(first.refresh_token)
    assert all(t.revoked_at is not None for t in store.tokens.values())
    with pytest.raises(AuthenticationError):
        await identity.sign_in.refresh(second.refresh_token)


async def test_expired_refresh_token_is_refused_without_burning_the_family() -> None:
    store = FakeStore()
    identity = _services(store, refresh_ttl=timedelta(seconds=-1))
    await identity.registration.register("ada@example.com", PASSWORD, "Ada")
    pair = await identity.sign_in.login("ada@example.com", PASSWORD)
    with pytest.raises(AuthenticationError):
        await identity.sign_in.refresh(pair.refresh_token)
    assert all(t.used_at is None and t.revoked_at is None for t in store.tokens.values())


async def test_role_change_shows_in_the_next_refreshed_token() -> None:
    store = FakeStore()
    identity = _services(store)
    await identity.registration.register("ada@example.com", PASSWORD, "Ada")
    pair = await identity.sign_in.login("ada@example.com", PASSWORD)
    await identity.users.set_role("ada@example.com", Role.STAFF)
    refreshed = await identity.sign_in.refresh(pair.refresh_token)
    assert identity.sign_in.tokens.verify(refreshed.access_token).role is Role.STAFF


async def test_set_role_of_an_unknown_email_is_not_found() -> None:
    with pytest.raises(NotFoundError):
        await _services(FakeStore()).users.set_role("ghost@example.com", Role.ADMIN)


async def test_update_profile_bumps_the_version_and_refuses_stale_writes() -> None:
    store = FakeStore()
    identity = _services(store)
    user = await identity.registration.register("ada@example.com", PASSWORD, "Ada")
    principal = Principal.for_user(user.id, user.role)
    renamed = await identity.registration.update_profile(
        principal, name="Ada King", expected_version=1
    )
    assert (renamed.name, renamed.version) == ("Ada King", 2)
    with pytest.raises(StaleVersionError):
        await identity.registration.update_profile(
            principal, name="Lost Update", expected_version=1
        )
    assert store.users[user.id].name == "Ada King"


async def test_profile_of_a_vanished_user_is_unauthenticated() -> None:
    store = FakeStore()
    identity = _services(store)
    user = await identity.registration.register("ada@example.com", PASSWORD, "Ada")
    store.users[user.id] = replace(store.users[user.id], is_active=False)
    with pytest.raises(AuthenticationError):
        await identity.registration.get_profile(Principal.for_user(user.id, user.role))


async def test_deactivation_revokes_every_session_and_api_key_of_the_user() -> None:
    store = FakeStore()
    identity = _services(store)
    ada = await identity.registration.register("ada@example.com", PASSWORD, "Ada")
    bob = await identity.registration.register("bob@example.com", PASSWORD, "Bob")
    pair = await identity.sign_in.login("ada@example.com", PASSWORD)
    now = utcnow()
    for owner in (ada, bob):
        key = ApiKey(new_id(), owner.id, "sync", f"p{owner.id.hex[:7]}", "0" * 64, frozenset(), now)
        store.api_keys[key.id] = key

    await identity.users.deactivate("ada@example.com")

    assert all(k.revoked_at is not None for k in store.api_keys.values() if k.user_id == ada.id)
    assert all(k.revoked_at is None for k in store.api_keys.values() if k.user_id == bob.id)
    assert isinstance(pair, TokenPair)
    with pytest.raises(AuthenticationError):
        await identity.sign_in.refresh(pair.refresh_token)
