"""Read-through caching of serialised responses, shared through Redis when configured.

Entries are bytes with a TTL. Invalidation is by *generation*: writers bump a named
counter (``catalog``), and readers put the current generation into their keys, so one
increment retires every cached page of that family at once without scanning keys.
With Redis, generations and entries are shared by every process; in embedded mode they
live in the process (one worker by default, so still exact). A cache that fails is
skipped, never fatal: reads fall through to the database.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from typing import Protocol

from agora.platform.logging import get_logger

log = get_logger("agora.cache")


class Cache(Protocol):
    async def get(self, key: str) -> bytes | None: ...

    async def set(self, key: str, value: bytes, ttl_seconds: float) -> None: ...

    async def generation(self, family: str) -> int: ...

    async def bump(self, family: str) -> None: ...

    async def close(self) -> None: ...


class MemoryCache:
    """A bounded LRU with per-entry expiry, for one process."""

    def __init__(self, max_entries: int = 4096) -> None:
        self._entries: OrderedDict[str, tuple[float, bytes]] = OrderedDict()
        self._generations: dict[str, int] = {}
        self._max_entries = max_entries

    async def get(self, key: str) -> bytes | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        expires, value = entry
        if expires < time.monotonic():
            self._entries.pop(key, None)
            return None
        self._entries.move_to_end(key)
        return value

    async def set(self, key: str, value: bytes, ttl_seconds: float) -> None:
        self._entries[key] = (time.monotonic() + ttl_seconds, value)
        self._entries.move_to_end(key)
        while len(self._entries) > self._max_entries:
            self._entries.popitem(last=False)

    async def generation(self, family: str) -> int:
        return self._generations.get(family, 0)

    async def bump(self, family: str) -> None:
        self._generations[family] = self._generations.get(family, 0) + 1

    async def close(self) -> None:
        self._entries.clear()


class RedisCache:
    """Entries and generations in Redis, so every app instance sees one cache."""

    def __init__(self, url: str, prefix: str = "agora:") -> None:
        from redis.asyncio import Redis

        self._redis = Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1)
        self._prefix = prefix

    async def get(self, key: str) -> bytes | None:
        try:
            value = await self._redis.get(self._prefix + key)
        except Exception as exc:  # a cache outage degrades to database reads
            log.warning("cache_unavailable", op="get", error=type(exc).__name__)
            return None
        return value if isinstance(value, bytes) else None

    async def set(self, key: str, value: bytes, ttl_seconds: float) -> None:
        try:
            await self._redis.set(self._prefix + key, value, px=int(ttl_seconds * 1000))
        except Exception as exc:
            log.warning("cache_unavailable", op="set", error=type(exc).__name__)

    async def generation(self, family: str) -> int:
        try:
            value = await self._redis.get(f"{self._prefix}gen:{family}")
        except Exception as exc:
            log.warning("cache_unavailable", op="generation", error=type(exc).__name__)
            return -1  # a generation no writer uses: nothing cached is trusted
        return int(value or 0)

    async def bump(self, family: str) -> None:
        try:
            await self._redis.incr(f"{self._prefix}gen:{family}")
        except Exception as exc:
            log.warning("cache_unavailable", op="bump", error=type(exc).__name__)

    async def close(self) -> None:
        await self._redis.aclose()
