"""Idempotency keys for writes that move money.

The first request with a key claims it; once it completes, its response is stored (or
the claim released, when the request was refused before it started executing: see
``agora.http.idempotency``); a retry with the same key and body replays a stored
response byte for byte; the same key with another body is refused; a retry while the
first is still running gets 409. Keys are scoped per
actor, so two customers can never collide, and expire after a configurable TTL.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from agora.platform.errors import ValidationError

MAX_KEY_LENGTH = 255


@dataclass(frozen=True, slots=True)
class StoredResponse:
    status_code: int
    body: bytes


def validate_key(key: str) -> str:
    key = key.strip()
    if not key or len(key) > MAX_KEY_LENGTH or not key.isprintable():
        raise ValidationError(
            "Idempotency-Key must be 1 to 255 printable characters.", field="Idempotency-Key"
        )
    return key


class IdempotencyStore(Protocol):
    """Claims, completes and releases keys; each call is its own short transaction."""

    async def claim(self, scope: str, key: str, request_hash: str) -> StoredResponse | None:
        """Claim ``key``; return the stored response if this is a replay."""
        ...

    async def complete(self, scope: str, key: str, response: StoredResponse) -> None: ...

    async def release(self, scope: str, key: str) -> None: ...

    async def purge_expired(self) -> int:
        """Delete keys past their TTL (a scheduled job; a claim replaces an expired key
        anyway, so this only bounds the table). Returns how many went."""
        ...
