"""Account self-service rules, built by the composition root on in-memory storage: token
lifetimes, single use, sessions, the audit trail, and the mail each step queues.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit
from uuid import UUID

import pytest

from agora.bootstrap.identity import build_identity
from agora.identity.accounts.domain import (
    EmailAlreadyVerifiedError,
    InvalidCurrentPasswordError,
    InvalidEmailTokenError,
)
from agora.identity.accounts.password_policy import WeakPasswordError
from agora.identity.accounts.services import AccountService
from agora.identity.domain import User
from agora.identity.sessions.domain import RefreshToken
from agora.platform.access import Principal, Role
from agora.platform.ids import new_id
from tests.fakes import CountingHasher, FakeMail, IdentityStore, identity_adapters, unit_settings
from tests.fakes import RecordingAuditTrail as RecordingAudit

pytestmark = pytest.mark.anyio
PASSWORD = "violet anchor museum tide"
NEW_PASSWORD = "quartz meadow lantern ferry"
START = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


@dataclass
class Clock:
    now: datetime = START

    def __call__(self) -> datetime:
        return self.now


@dataclass
class World:
    store: IdentityStore
    service: AccountService
    mail: FakeMail
    audit: RecordingAudit
    clock: Clock
    hasher: CountingHasher
    user: User

    def last_token(self, to: str | None = None) -> str:
        for message in self.mail.sent:
            if to is None or message.to == to:
                return parse_qs(urlsplit(message.links[0]).query)["token"][0]
        raise AssertionError("no mail")


@pytest.fixture
async def world() -> World:
    store = IdentityStore()
    hasher = CountingHasher()
    mail = FakeMail()
    audit = RecordingAudit()
    clock = Clock()
    identity = build_identity(
        unit_settings(public_url="https://shop.example/"),
        identity_adapters(store, hasher=hasher, clock=clock),
        audit=audit,
        mail=mail,
    )
    user = User(
        id=new_id(),
        email="ada@example.com",
        name="Ada Lovelace",
        password_hash=await hasher.hash(PASSWORD),
        role=Role.CUSTOMER,
        is_active=True,
        email_verified_at=None,
        created_at=START,
        updated_at=START,
    )
    store.users[user.id] = user
    return World(store, identity.accounts, mail, audit, clock, hasher, user)


def _session(world: World) -> UUID:
    """Store one refresh token in a new family for the user; return the family id."""
    family = new_id()
    token = RefreshToken(
        id=new_id(),
        user_id=world.user.id,
        family_id=family,
        token_hash=new_id().hex,
        created_at=START,
        expires_at=START + timedelta(days=30),
    )
    world.store.tokens[token.id] = token
    return family


def _revoked_families(world: World) -> set[UUID]:
    return {t.family_id for t in world.store.tokens.values() if t.revoked_at is not None}


# -- verification --------------------------------------------------------------------


async def test_the_verification_mail_links_to_the_public_url_and_says_when_it_expires(
    world: World,
) -> None:
    await world.service.start_verification(world.user.id)

    (message,) = world.mail.sent
    assert message.to == "ada@example.com"
    assert message.subject == "Confirm your email address"
    assert message.links[0].startswith("https://shop.example/verify-email?token=")
    assert "expires in 24 hours" in message.text
    token = world.last_token()
    assert len(token) >= 43  # 256 bits, URL-safe base64
    stored = next(iter(world.store.email_tokens.values()))
    assert token not in stored.token_hash, "only the hash is stored"


async def test_a_verification_link_works_once_and_is_audited(world: World) -> None:
    await world.service.start_verification(world.user.id)
    token = world.last_token()

    user = await world.service.verify_email(token)
    assert user.email_verified
    assert await world.service.email_verified(world.user.id)
    with pytest.raises(InvalidEmailTokenError):
        await world.service.verify_email(token)
    assert world.audit.actions() == [("auth.email_verified", "success")]


async def test_a_verification_link_expires_after_24_hours(world: World) -> None:
    await world.service.start_verification(world.user.id)
    token = world.last_token()

    world.clock.now = START + timedelta(hours=24)
    with pytest.raises(InvalidEmailTokenError) as caught:
        await world.service.verify_email(token)
    assert caught.value.code == "INVALID_EMAIL_TOKEN"
    assert not await world.service.email_verified(world.user.id)

    world.clock.now = START + timedelta(hours=23, minutes=59)
    assert (await world.service.verify_email(token)).email_verified


async def test_a_link_verifies_only_the_address_it_was_sent_to(world: World) -> None:
    await world.service.start_verification(world.user.id)
    token = world.last_token()
    world.store.users[world.user.id] = User(
        **{**_fields(world.store.users[world.user.id]), "email": "new@example.com"}
    )
    with pytest.raises(InvalidEmailTokenError):
        await world.service.verify_email(token)
    assert not world.store.users[world.user.id].email_verified


async def test_resending_makes_earlier_links_useless(world: World) -> None:
    principal = Principal.for_user(world.user.id, Role.CUSTOMER, new_id())
    await world.service.start_verification(world.user.id)
    first = world.last_token()
    await world.service.resend_verification(principal)
    second = world.last_token()

    assert first != second
    with pytest.raises(InvalidEmailTokenError):
        await world.service.verify_email(first)
    await world.service.verify_email(second)
    with pytest.raises(EmailAlreadyVerifiedError):
        await world.service.resend_verification(principal)


async def test_a_reset_token_does_not_verify_an_email(world: World) -> None:
    await world.service.request_password_reset(world.user.email)
    with pytest.raises(InvalidEmailTokenError):
        await world.service.verify_email(world.last_token())


# -- password reset ------------------------------------------------------------------


async def test_a_reset_sets_the_password_ends_every_session_and_verifies_the_email(
    world: World,
) -> None:
    families = {_session(world), _session(world)}
    await world.service.request_password_reset(world.user.email)
    message = world.mail.sent[0]
    assert message.subject == "Reset your Agora password"
    assert message.links[0].startswith("https://shop.example/reset-password?token=")
    assert "expires in 30 minutes" in message.text

    await world.service.reset_password(world.last_token(), NEW_PASSWORD)

    stored = world.store.users[world.user.id]
    assert await world.hasher.verify(stored.password_hash, NEW_PASSWORD)
    assert _revoked_families(world) == families
    assert stored.email_verified
    assert world.audit.actions() == [
        ("auth.password_reset_requested", "success"),
        ("auth.password_reset", "success"),
    ]


async def test_a_reset_token_expires_after_30_minutes(world: World) -> None:
    await world.service.request_password_reset(world.user.email)
    world.clock.now = START + timedelta(minutes=30)
    with pytest.raises(InvalidEmailTokenError):
        await world.service.reset_password(world.last_token(), NEW_PASSWORD)
    assert world.hasher.hashes == 1, "no new password was hashed"


async def test_a_refused_password_leaves_the_reset_token_usable(world: World) -> None:
    await world.service.request_password_reset(world.user.email)
    token = world.last_token()
    with pytest.raises(WeakPasswordError):
        await world.service.reset_password(token, "aaaaaaaaaaab")
    await world.service.reset_password(token, NEW_PASSWORD)
    with pytest.raises(InvalidEmailTokenError):
        await world.service.reset_password(token, NEW_PASSWORD + " again")


async def test_a_reset_request_for_an_unknown_address_sends_nothing_but_is_audited(
    world: World,
) -> None:
    await world.service.request_password_reset("nobody@example.com")
    assert world.mail.sent == []
    assert world.audit.actions() == [("auth.password_reset_requested", "failure")]


async def test_a_repeated_reset_request_leaves_only_the_latest_link_working(
    world: World,
) -> None:
    await world.service.request_password_reset(world.user.email)
    first = world.last_token(world.user.email)
    await world.service.request_password_reset(world.user.email)
    assert world.audit.actions() == [("auth.password_reset_requested", "success")] * 2
    assert world.mail.kinds == ["identity.password-reset"] * 2

    with pytest.raises(InvalidEmailTokenError):
        await world.service.reset_password(first, NEW_PASSWORD)
    await world.service.reset_password(world.last_token(world.user.email), NEW_PASSWORD)
    assert await world.hasher.verify(world.store.users[world.user.id].password_hash, NEW_PASSWORD)


# -- password change -----------------------------------------------------------------


async def test_a_change_keeps_the_callers_session_and_ends_the_others(world: World) -> None:
    mine, other = _session(world), _session(world)
    principal = Principal.for_user(world.user.id, Role.CUSTOMER, mine)

    await world.service.change_password(principal, PASSWORD, NEW_PASSWORD)

    assert _revoked_families(world) == {other}
    stored = world.store.users[world.user.id]
    assert await world.hasher.verify(stored.password_hash, NEW_PASSWORD)
    assert world.audit.actions() == [("auth.password_changed", "success")]


async def test_a_wrong_current_password_changes_nothing_and_is_audited(world: World) -> None:
    other = _session(world)
    principal = Principal.for_user(world.user.id, Role.CUSTOMER, new_id())
    with pytest.raises(InvalidCurrentPasswordError) as caught:
        await world.service.change_password(principal, "not my password at all", NEW_PASSWORD)

    assert caught.value.details == {"field": "current_password"}
    assert other not in _revoked_families(world)
    assert await world.hasher.verify(world.store.users[world.user.id].password_hash, PASSWORD)
    assert world.audit.actions() == [("auth.password_changed", "failure")]


async def test_a_change_makes_an_outstanding_reset_link_useless(world: World) -> None:
    await world.service.request_password_reset(world.user.email)
    token = world.last_token()
    principal = Principal.for_user(world.user.id, Role.CUSTOMER, new_id())
    await world.service.change_password(principal, PASSWORD, NEW_PASSWORD)
    with pytest.raises(InvalidEmailTokenError):
        await world.service.reset_password(token, "a completely different passphrase")


def _fields(user: User) -> dict[str, Any]:
    return {name: getattr(user, name) for name in User.__dataclass_fields__}
