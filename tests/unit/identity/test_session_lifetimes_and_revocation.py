"""Session rules, built by the composition root on fakes: idle and absolute lifetimes, the
revoked-session set, audit."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from uuid import UUID

import pytest

from agora.bootstrap.identity import Identity, build_identity
from agora.identity.sessions import revocation
from agora.identity.sessions import sign_in as services
from agora.identity.sessions.domain import (
    InvalidRefreshTokenError,
    SessionLifetime,
    SessionNotFoundError,
)
from agora.identity.sessions.revocation import RevokedSessions
from agora.platform.access import Principal, Role
from agora.platform.errors import AuthenticationError, NotFoundError
from tests.fakes import FakeMail, IdentityStore, identity_adapters, unit_settings
from tests.fakes import RecordingAuditTrail as RecordingAudit

pytestmark = pytest.mark.anyio
PASSWORD = "violet anchor museum tide"
START = datetime(2026, 1, 1, 9, 0, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    fake = Clock()
    monkeypatch.setattr(services, "utcnow", fake)
    monkeypatch.setattr(revocation, "utcnow", fake)
    return fake


def _identity(
    store: IdentityStore, audit: RecordingAudit | None = None, **settings: object
) -> Identity:
    lifetimes: dict[str, object] = {
        "session_idle_ttl_hours": 7 * 24,
        "session_absolute_ttl_days": 30,
    }
    return build_identity(
        unit_settings(**{**lifetimes, **settings}),
        identity_adapters(store),
        audit=audit or RecordingAudit(),
        mail=FakeMail(),
    )


def _service(store: IdentityStore, audit: RecordingAudit | None = None) -> Identity:
    return _identity(store, audit)


async def _signed_up(identity: Identity, email: str = "ada@example.com") -> Principal:
    user = await identity.registration.register(email, PASSWORD, "Ada")
    return Principal.for_user(user.id, Role.CUSTOMER)


# -- lifetimes -----------------------------------------------------------------------------


def test_the_idle_limit_slides_but_never_past_the_absolute_one() -> None:
    lifetime = SessionLifetime(idle=timedelta(days=7), absolute=timedelta(days=30))
    assert lifetime.expires_at(START, START) == START + timedelta(days=7)
    assert lifetime.expires_at(START, START + timedelta(days=20)) == START + timedelta(days=27)
    assert lifetime.expires_at(START, START + timedelta(days=25)) == START + timedelta(days=30)


async def test_a_session_unused_for_the_idle_lifetime_cannot_be_refreshed(clock: Clock) -> None:
    identity = _service(IdentityStore())
    await _signed_up(identity)
    pair = await identity.sign_in.login("ada@example.com", PASSWORD)
    clock.advance(days=6, hours=23)
    pair = await identity.sign_in.refresh(pair.refresh_token)  # used in time: a new week begins
    clock.advance(days=7, seconds=1)
    with pytest.raises(InvalidRefreshTokenError):
        await identity.sign_in.refresh(pair.refresh_token)


async def test_a_session_in_constant_use_still_ends_at_the_absolute_lifetime(
    clock: Clock,
) -> None:
    store = IdentityStore()
    identity = _service(store)
    await _signed_up(identity)
    pair = await identity.sign_in.login("ada@example.com", PASSWORD)
    for _ in range(29):
        clock.advance(days=1)
        pair = await identity.sign_in.refresh(pair.refresh_token)
    newest = max(store.tokens.values(), key=lambda t: t.created_at)
    assert newest.expires_at == START + timedelta(days=30)
    assert newest.started_at == START
    clock.advance(days=1)
    with pytest.raises(InvalidRefreshTokenError):
        await identity.sign_in.refresh(pair.refresh_token)


async def test_a_shortened_absolute_lifetime_applies_to_sessions_already_open(
    clock: Clock,
) -> None:
    store = IdentityStore()
    identity = _service(store)
    await _signed_up(identity)
    pair = await identity.sign_in.login("ada@example.com", PASSWORD)
    clock.advance(days=3)
    # The operator lowered the setting and restarted.
    restarted = _identity(store, session_absolute_ttl_days=2)
    with pytest.raises(InvalidRefreshTokenError):
        await restarted.sign_in.refresh(pair.refresh_token)


# -- revocation reaches access tokens --------------------------------------------------------


async def test_logout_revokes_the_sessions_access_tokens_and_is_audited() -> None:
    audit = RecordingAudit()
    built = _identity(IdentityStore(), audit)
    identity, authenticator = built, built.authenticator
    principal = await _signed_up(identity)
    pair = await identity.sign_in.login("ada@example.com", PASSWORD)
    assert (await authenticator.authenticate(pair.access_token)).user_id == principal.user_id
    await identity.sign_in.logout(pair.refresh_token)
    with pytest.raises(AuthenticationError, match="session has ended"):
        await authenticator.authenticate(pair.access_token)
    record = audit.last("auth.logout")
    assert record["actor_id"] == principal.user_id
    assert record["target_type"] == "session"


async def test_refresh_reuse_is_audited_as_a_failure_against_the_session() -> None:
    audit = RecordingAudit()
    identity = _service(IdentityStore(), audit)
    principal = await _signed_up(identity)
    pair = await identity.sign_in.login("ada@example.com", PASSWORD)
    await identity.sign_in.refresh(pair.refresh_token)
    with pytest.raises(InvalidRefreshTokenError):
        await identity.sign_in.refresh(pair.refresh_token)
    record = audit.last("auth.refresh_reuse_detected")
    assert record["outcome"] == "failure"
    assert record["actor_id"] == principal.user_id
    assert record["target_type"] == "session"
    sid = identity.sign_in.tokens.verify(pair.access_token).session_id
    assert record["target_id"] == str(sid)
    assert sid in identity.sign_in.revocations


async def test_revoking_sessions_checks_ownership_and_is_audited() -> None:
    audit = RecordingAudit()
    built = _identity(IdentityStore(), audit)
    identity, sessions = built, built.sessions
    ada = await _signed_up(identity)
    eve = await _signed_up(identity, "eve@example.com")
    ada_pair = await identity.sign_in.login("ada@example.com", PASSWORD)
    ada_sid = identity.sign_in.tokens.verify(ada_pair.access_token).session_id
    with pytest.raises(SessionNotFoundError) as caught:
        await sessions.revoke(eve, ada_sid)
    assert isinstance(caught.value, NotFoundError)
    assert ada_sid not in identity.sign_in.revocations
    await sessions.revoke(ada, ada_sid)
    assert ada_sid in identity.sign_in.revocations
    assert audit.last("auth.session_revoked")["target_id"] == str(ada_sid)

    await identity.sign_in.login("ada@example.com", PASSWORD)
    await identity.sign_in.login("ada@example.com", PASSWORD)
    assert await sessions.revoke_all(ada) == 2
    assert audit.last("auth.logout_all")["details"] == {"sessions": 2}
    assert await sessions.list_sessions(ada) == []


# -- the revoked-session set ----------------------------------------------------------------


class Feed:
    def __init__(self) -> None:
        self.calls: list[datetime] = []
        self.revoked: list[tuple[UUID, datetime]] = []
        self.fail = False

    async def __call__(self, since: datetime) -> Sequence[tuple[UUID, datetime]]:
        self.calls.append(since)
        if self.fail:
            raise ConnectionError("database unreachable")
        return [(s, at) for s, at in self.revoked if at >= since]


async def test_the_set_learns_revocations_from_the_feed_at_its_interval(clock: Clock) -> None:
    feed = Feed()
    revoked = RevokedSessions(token_ttl=timedelta(minutes=15), poll_interval=60, feed=feed)
    elsewhere = uuid.uuid4()
    feed.revoked.append((elsewhere, START - timedelta(minutes=1)))
    await revoked.poll_if_due()
    assert elsewhere in revoked
    # The first poll looks back one token lifetime (plus a margin): older ones are moot.
    assert feed.calls == [START - timedelta(minutes=16)]
    await revoked.poll_if_due()
    assert len(feed.calls) == 1  # not due yet
    clock.advance(seconds=30)
    await revoked.poll()
    # Later polls overlap the previous one, for revocations committed late.
    assert feed.calls[-1] == START - timedelta(seconds=60)


async def test_entries_are_forgotten_once_their_tokens_have_expired(clock: Clock) -> None:
    feed = Feed()
    revoked = RevokedSessions(token_ttl=timedelta(minutes=15), poll_interval=1, feed=feed)
    session = uuid.uuid4()
    revoked.add(session)
    assert len(revoked) == 1
    clock.advance(minutes=16, seconds=1)
    await revoked.poll()
    assert session not in revoked
    assert len(revoked) == 0


async def test_a_failing_feed_keeps_what_is_known_and_retries_later(clock: Clock) -> None:
    feed = Feed()
    revoked = RevokedSessions(token_ttl=timedelta(minutes=15), poll_interval=0.001, feed=feed)
    known = uuid.uuid4()
    revoked.add(known)
    feed.fail = True
    await revoked.poll_if_due()
    assert known in revoked
    calls = len(feed.calls)
    await revoked.poll_if_due()
    assert len(feed.calls) == calls  # backs off instead of hammering the database
