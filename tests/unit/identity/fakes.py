"""In-memory fakes of the identity ports, for fast service tests without a database."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from types import TracebackType
from typing import Self
from uuid import UUID

from agora.identity.access.domain import ApiKey
from agora.identity.accounts.domain import EmailToken, EmailTokenPurpose
from agora.identity.domain import User
from agora.identity.sessions.domain import RefreshToken
from agora.platform.errors import AlreadyExistsError, StaleVersionError
from agora.platform.events import DomainEvent


class FakeStore:
    """What the fake units of work share: the "database"."""

    def __init__(self) -> None:
        self.users: dict[UUID, User] = {}
        self.tokens: dict[UUID, RefreshToken] = {}
        self.email_tokens: dict[UUID, EmailToken] = {}
        self.api_keys: dict[UUID, ApiKey] = {}
        self.events: list[DomainEvent] = []


class FakeUsers:
    def __init__(self, rows: dict[UUID, User]) -> None:
        self.rows = rows

    async def add(self, user: User) -> None:
        if any(u.email == user.email for u in self.rows.values()):
            raise AlreadyExistsError(field="email")
        self.rows[user.id] = user

    async def get(self, user_id: UUID) -> User | None:
        return self.rows.get(user_id)

    async def get_by_email(self, email: str) -> User | None:
        return next((u for u in self.rows.values() if u.email == email), None)

    async def update(self, user: User, expected_version: int) -> None:
        if self.rows[user.id].version != expected_version:
            raise StaleVersionError()
        self.rows[user.id] = user

    async def set_password_hash(self, user_id: UUID, password_hash: str) -> None:
        self.rows[user_id] = replace(self.rows[user_id], password_hash=password_hash)

    async def mark_email_verified(self, user_id: UUID, email: str, now: datetime) -> bool:
        user = self.rows.get(user_id)
        if user is None or user.email != email:
            return False
        self.rows[user_id] = replace(
            user,
            email_verified_at=user.email_verified_at or now,
            updated_at=now,
            version=user.version + 1,
        )
        return True


class FakeRefreshTokens:
    def __init__(self, rows: dict[UUID, RefreshToken]) -> None:
        self.rows = rows

    async def add(self, token: RefreshToken) -> None:
        self.rows[token.id] = token

    async def get_by_hash(
        self, token_hash: str, *, for_update: bool = False
    ) -> RefreshToken | None:
        return next((t for t in self.rows.values() if t.token_hash == token_hash), None)

    async def mark_used(self, token_id: UUID, now: datetime) -> bool:
        token = self.rows[token_id]
        if token.used_at is not None or token.revoked_at is not None:
            return False
        self.rows[token_id] = replace(token, used_at=now)
        return True

    async def revoke_family(self, family_id: UUID, now: datetime) -> None:
        for key, token in list(self.rows.items()):
            if token.family_id == family_id and token.revoked_at is None:
                self.rows[key] = replace(token, revoked_at=now)

    async def revoke_all_for_user(self, user_id: UUID, now: datetime) -> None:
        for key, token in list(self.rows.items()):
            if token.user_id == user_id and token.revoked_at is None:
                self.rows[key] = replace(token, revoked_at=now)

    async def list_current(self, user_id: UUID, now: datetime) -> Sequence[RefreshToken]:
        mine = [t for t in self.rows.values() if t.user_id == user_id and t.is_current(now)]
        return sorted(mine, key=lambda t: t.used_last_at, reverse=True)

    async def touch(self, token_id: UUID, now: datetime, expires_at: datetime) -> None:
        token = self.rows[token_id]
        if token.revoked_at is None:
            self.rows[token_id] = replace(token, last_used_at=now, expires_at=expires_at)

    async def revoked_since(self, since: datetime) -> Sequence[tuple[UUID, datetime]]:
        latest: dict[UUID, datetime] = {}
        for token in self.rows.values():
            if token.revoked_at is not None and token.revoked_at >= since:
                latest[token.family_id] = max(token.revoked_at, latest.get(token.family_id, since))
        return list(latest.items())

    async def revoke_other_families(
        self, user_id: UUID, keep_family_id: UUID, now: datetime
    ) -> None:
        for key, token in list(self.rows.items()):
            if (
                token.user_id == user_id
                and token.family_id != keep_family_id
                and token.revoked_at is None
            ):
                self.rows[key] = replace(token, revoked_at=now)


class FakeEmailTokens:
    def __init__(self, rows: dict[UUID, EmailToken]) -> None:
        self.rows = rows

    async def add(self, token: EmailToken) -> None:
        self.rows[token.id] = token

    async def get_by_hash(self, token_hash: str) -> EmailToken | None:
        return next((t for t in self.rows.values() if t.token_hash == token_hash), None)

    async def mark_used(self, token_id: UUID, now: datetime) -> bool:
        token = self.rows.get(token_id)
        if token is None or not token.is_usable(now):
            return False
        self.rows[token_id] = replace(token, used_at=now)
        return True

    async def delete_for_user(self, user_id: UUID, purpose: EmailTokenPurpose) -> None:
        for key, token in list(self.rows.items()):
            if token.user_id == user_id and token.purpose is purpose:
                del self.rows[key]


class FakeApiKeys:
    def __init__(self, rows: dict[UUID, ApiKey]) -> None:
        self.rows = rows

    async def revoke_all_for_user(self, user_id: UUID, now: datetime) -> int:
        live = [k for k in self.rows.values() if k.user_id == user_id and k.revoked_at is None]
        for key in live:
            self.rows[key.id] = replace(key, revoked_at=now)
        return len(live)


class FakeUnitOfWork:
    """Works on copies and publishes them on commit, so leaving without commit rolls back."""

    def __init__(self, store: FakeStore, *, read_only: bool = False) -> None:
        self._store = store
        self._read_only = read_only
        self._events: list[DomainEvent] = []
        self.users = FakeUsers(dict(store.users))
        self.refresh_tokens = FakeRefreshTokens(dict(store.tokens))
        self.email_tokens = FakeEmailTokens(dict(store.email_tokens))
        self.api_keys = FakeApiKeys(dict(store.api_keys))

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        return None

    def record(self, event: DomainEvent) -> None:
        self._events.append(event)

    async def commit(self) -> None:
        assert not self._read_only, "a read-only unit must not commit"
        self._store.users = self.users.rows
        self._store.tokens = self.refresh_tokens.rows
        self._store.email_tokens = self.email_tokens.rows
        self._store.api_keys = self.api_keys.rows
        self._store.events.extend(self._events)


class CountingHasher:
    """A cheap, deterministic stand-in for argon2 that counts its work."""

    def __init__(self, scheme: str = "v2") -> None:
        self.scheme = scheme
        self.hashes = 0
        self.verifications = 0

    async def hash(self, password: str) -> str:
        self.hashes += 1
        return f"{self.scheme}:{password[::-1]}"

    async def verify(self, password_hash: str, password: str) -> bool:
        self.verifications += 1
        return password_hash.split(":", 1)[1] == password[::-1]

    def needs_rehash(self, password_hash: str) -> bool:
        return not password_hash.startswith(f"{self.scheme}:")

    @property
    def dummy_hash(self) -> str:
        return f"{self.scheme}:no password reverses to this"
