"""Session rules on fakes: idle and absolute lifetimes, the revoked-session set, audit."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from uuid import UUID

import pytest

from agora.identity.accounts.adapters.common_passwords import common_passwords
from agora.identity.accounts.password_policy import PasswordPolicy
from agora.identity.accounts.registration import RegistrationService
from agora.identity.sessions import revocation
from agora.identity.sessions import sign_in as sign_in_module
from agora.identity.sessions.domain import (
    InvalidRefreshTokenError,
    SessionLifetime,
    SessionNotFoundError,
)
from agora.identity.sessions.revocation import RevokedSessions
from agora.identity.sessions.services import SessionService
from agora.identity.sessions.sign_in import SignInService
from agora.identity.tokens.adapters.jwt_tokens import JwtAccessTokens
from agora.identity.tokens.adapters.key_ring import KeyRing
from agora.identity.tokens.authenticator import TokenAuthenticator
from agora.platform.access import Principal, Role
from agora.platform.errors import AuthenticationError, NotFoundError
from tests.fakes import RecordingAuditTrail as RecordingAudit
from tests.unit.identity.fakes import CountingHasher, FakeStore, FakeUnitOfWork

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
    monkeypatch.setattr(sign_in_module, "utcnow", fake)
    monkeypatch.setattr(revocation, "utcnow", fake)
    return fake


def _service(store: FakeStore, audit: RecordingAudit | None = None) -> SignInService:
    def uow(*, read_only: bool = False) -> FakeUnitOfWork:
        return FakeUnitOfWork(store, read_only=read_only)

    return SignInService(
        uow=uow,
        hasher=CountingHasher(),
        tokens=JwtAccessTokens(
            KeyRing.ephemeral(), issuer="agora", audience="agora-api", ttl_seconds=900
        ),
        refresh_ttl=timedelta(days=7),
        audit=audit or RecordingAudit(),
        session_max_age=timedelta(days=30),
        revocations=RevokedSessions(token_ttl=timedelta(seconds=900), poll_interval=5),
    )


def _sessions(sign_in: SignInService, audit: RecordingAudit) -> SessionService:
    return SessionService(
        uow=sign_in.uow,
        lifetime=sign_in.lifetime,
        revocations=sign_in.revocations,
        csrf_key=b"k" * 32,
        audit=audit,
    )


async def _signed_up(sign_in: SignInService, email: str = "ada@example.com") -> Principal:
    registration = RegistrationService(
        sign_in.uow, sign_in.hasher, PasswordPolicy(common_passwords())
    )
    user = await registration.register(email, PASSWORD, "Ada")
    return Principal.for_user(user.id, Role.CUSTOMER)


# -- lifetimes -----------------------------------------------------------------------------


def test_the_idle_limit_slides_but_never_past_the_absolute_one() -> None:
    lifetime = SessionLifetime(idle=timedelta(days=7), absolute=timedelta(days=30))
    assert lifetime.expires_at(START, START) == START + timedelta(days=7)
    assert lifetime.expires_at(START, START + timedelta(days=20)) == START + timedelta(days=27)
    assert lifetime.expires_at(START, START + timedelta(days=25)) == START + timedelta(days=30)


async def test_a_session_unused_for_the_idle_lifetime_cannot_be_refreshed(clock: Clock) -> None:
    sign_in = _service(FakeStore())
    await _signed_up(sign_in)
    pair = await sign_in.login("ada@example.com", PASSWORD)
    clock.advance(days=6, hours=23)
    pair = await sign_in.refresh(pair.refresh_token)  # used in time: a new week begins
    clock.advance(days=7, seconds=1)
    with pytest.raises(InvalidRefreshTokenError):
        await sign_in.refresh(pair.refresh_token)


async def test_a_session_in_constant_use_still_ends_at_the_absolute_lifetime(
    clock: Clock,
) -> None:
    store = FakeStore()
    sign_in = _service(store)
    await _signed_up(sign_in)
    pair = await sign_in.login("ada@example.com", PASSWORD)
    for _ in range(29):
        clock.advance(days=1)
        pair = await sign_in.refresh(pair.refresh_token)
    newest = max(store.tokens.values(), key=lambda t: t.created_at)
    assert newest.expires_at == START + timedelta(days=30)
    assert newest.started_at == START
    clock.advance(days=1)
    with pytest.raises(InvalidRefreshTokenError):
        await sign_in.refresh(pair.refresh_token)


async def test_a_shortened_absolute_lifetime_applies_to_sessions_already_open(
    clock: Clock,
) -> None:
    store = FakeStore()
    sign_in = _service(store)
    await _signed_up(sign_in)
    pair = await sign_in.login("ada@example.com", PASSWORD)
    clock.advance(days=3)
    sign_in.session_max_age = timedelta(days=2)  # the operator lowered the setting
    with pytest.raises(InvalidRefreshTokenError):
        await sign_in.refresh(pair.refresh_token)


# -- revocation reaches access tokens --------------------------------------------------------


async def test_logout_revokes_the_sessions_access_tokens_and_is_audited() -> None:
    audit = RecordingAudit()
    sign_in = _service(FakeStore(), audit)
    principal = await _signed_up(sign_in)
    pair = await sign_in.login("ada@example.com", PASSWORD)
    authenticator = TokenAuthenticator(sign_in.tokens, sign_in.revocations)
    assert (await authenticator.authenticate(pair.access_token)).user_id == principal.user_id
    await sign_in.logout(pair.refresh_token)
    with pytest.raises(AuthenticationError, match="session has ended"):
        await authenticator.authenticate(pair.access_token)
    record = audit.last("auth.logout")
    assert record["actor_id"] == principal.user_id
    assert record["target_type"] == "session"


async def test_refresh_reuse_is_audited_as_a_failure_against_the_session() -> None:
    audit = RecordingAudit()
    sign_in = _service(FakeStore(), audit)
    principal = await _signed_up(sign_in)
    pair = await sign_in.login("ada@example.com", PASSWORD)
    await sign_in.refresh(pair.refresh_token)
    with pytest.raises(InvalidRefreshTokenError):
        await sign_in.refresh(pair.refresh_token)
    record = audit.last("auth.refresh_reuse_detected")
    assert record["outcome"] == "failure"
    assert record["actor_id"] == principal.user_id
    assert record["target_type"] == "session"
    sid = sign_in.tokens.verify(pair.access_token).session_id
    assert record["target_id"] == str(sid)
    assert sid in sign_in.revocations


async def test_revoking_sessions_checks_ownership_and_is_audited() -> None:
    audit = RecordingAudit()
    sign_in = _service(FakeStore(), audit)
    sessions = _sessions(sign_in, audit)
    ada = await _signed_up(sign_in)
    eve = await _signed_up(sign_in, "eve@example.com")
    ada_pair = await sign_in.login("ada@example.com", PASSWORD)
    ada_sid = sign_in.tokens.verify(ada_pair.access_token).session_id
    with pytest.raises(SessionNotFoundError) as caught:
        await sessions.revoke(eve, ada_sid)
    assert isinstance(caught.value, NotFoundError)
    assert ada_sid not in sign_in.revocations
    await sessions.revoke(ada, ada_sid)
    assert ada_sid in sign_in.revocations
    assert audit.last("auth.session_revoked")["target_id"] == str(ada_sid)

    await sign_in.login("ada@example.com", PASSWORD)
    await sign_in.login("ada@example.com", PASSWORD)
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
