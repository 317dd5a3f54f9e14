"""Sliding-window rate limiting, shared through Redis, per process when Redis is away.

A window holds the timestamps of the last ``limit`` hits per key; a hit is allowed
while fewer than ``limit`` fall inside the window. In Redis the whole check runs as
one Lua script (atomic across every app instance, timed by the Redis clock). When
Redis is not configured or fails, each process limits on its own, so the limits
still hold per process instead of vanishing.
"""

from __future__ import annotations

import time
import uuid
from collections import OrderedDict, deque
from dataclasses import dataclass
from typing import Any, Protocol

from redis.asyncio import Redis

from agora.platform.logging import get_logger

log = get_logger("agora.rate_limit")


@dataclass(frozen=True, slots=True)
class RateDecision:
    allowed: bool
    limit: int
    remaining: int
    # Seconds until a hit would be allowed again (0 when allowed).
    retry_after: float
    window_seconds: float


class RateLimiter(Protocol):
    async def hit(self, key: str, limit: int, window_seconds: float) -> RateDecision: ...

    async def close(self) -> None: ...


class MemoryRateLimiter:
    """Per-process sliding windows, bounded in the number of keys it remembers."""

    def __init__(self, max_keys: int = 100_000) -> None:
        self._windows: OrderedDict[str, deque[float]] = OrderedDict()
        self._max_keys = max_keys

    async def hit(self, key: str, limit: int, window_seconds: float) -> RateDecision:
        now = time.monotonic()
        window = self._windows.get(key)
        if window is None:
            window = self._windows[key] = deque()
            while len(self._windows) > self._max_keys:
                self._windows.popitem(last=False)
        else:
            self._windows.move_to_end(key)
        while window and window[0] <= now - window_seconds:
            window.popleft()
        if len(window) < limit:
            window.append(now)
            return RateDecision(True, limit, limit - len(window), 0.0, window_seconds)
        retry_after = window[0] + window_seconds - now
        return RateDecision(False, limit, 0, max(retry_after, 0.001), window_seconds)

    async def close(self) -> None:
        self._windows.clear()


# KEYS[1]: the window; ARGV: window ms, limit, a unique member. Returns
# {allowed (0/1), remaining, retry-after ms}.
_SLIDING_WINDOW = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local window = tonumber(ARGV[1])
local limit = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
local count = redis.call('ZCARD', KEYS[1])
if count < limit then
  redis.call('ZADD', KEYS[1], now, ARGV[3])
  redis.call('PEXPIRE', KEYS[1], window)
  return {1, limit - count - 1, 0}
end
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return {0, 0, window - (now - tonumber(oldest[2]))}
"""


class RedisRateLimiter:
    """Sliding windows in Redis, falling back to a per-process limiter on any failure."""

    def __init__(self, url: str, fallback: MemoryRateLimiter, prefix: str = "agora:rl:") -> None:
        self._redis = Redis.from_url(url, socket_connect_timeout=0.5, socket_timeout=0.5)
        self._script: Any = self._redis.register_script(_SLIDING_WINDOW)
        self._fallback = fallback
        self._prefix = prefix
        self._warned_at = 0.0

    async def hit(self, key: str, limit: int, window_seconds: float) -> RateDecision:
        try:
            allowed, remaining, retry_ms = await self._script(
                keys=[self._prefix + key],
                args=[int(window_seconds * 1000), limit, uuid.uuid4().hex],
            )
        except Exception as exc:  # Redis away: limit per process rather than not at all
            now = time.monotonic()
            if now - self._warned_at > 30:
                self._warned_at = now
                log.warning("rate_limit_fallback", error=type(exc).__name__)
            return await self._fallback.hit(key, limit, window_seconds)
        return RateDecision(
            bool(allowed), limit, int(remaining), int(retry_ms) / 1000, window_seconds
        )

    async def close(self) -> None:
        await self._redis.aclose()
