"""Login throttle counters: in Redis (shared by every app instance) or in process.

Redis runs each step as one Lua script timed by the Redis clock, so instances with
drifting clocks agree on lockouts. When Redis is not configured or fails, each process
keeps its own counters: throttling then holds per process instead of vanishing.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from redis.asyncio import Redis

from agora.identity.sessions.throttle import ThrottlePolicy
from agora.platform.logging import get_logger

log = get_logger("agora.login_throttle")


@dataclass(slots=True)
class _Counter:
    failures: int = 0
    locked_until: float = 0.0
    forget_at: float = 0.0


def _keys(policy: ThrottlePolicy, account: str | None, ip: str | None) -> list[tuple[str, int]]:
    keys: list[tuple[str, int]] = []
    if account:
        keys.append((f"acct:{account}", policy.account_threshold))
    if ip:
        keys.append((f"ip:{ip}", policy.ip_threshold))
    return keys


class MemoryLoginThrottle:
    """Per-process counters, bounded in the number of keys they remember."""

    def __init__(
        self,
        policy: ThrottlePolicy,
        clock: Callable[[], float] = time.monotonic,
        max_keys: int = 100_000,
    ) -> None:
        self._policy = policy
        self._clock = clock
        self._counters: OrderedDict[str, _Counter] = OrderedDict()
        self._max_keys = max_keys

    async def retry_after(self, account: str | None, ip: str | None) -> float:
        now = self._clock()
        wait = 0.0
        for key, _threshold in _keys(self._policy, account, ip):
            counter = self._live(key, now)
            if counter is not None:
                wait = max(wait, counter.locked_until - now)
        return wait

    async def failed(self, account: str | None, ip: str | None) -> float:
        now = self._clock()
        locked = 0.0
        for key, threshold in _keys(self._policy, account, ip):
            counter = self._live(key, now)
            if counter is None:
                counter = self._counters[key] = _Counter()
                while len(self._counters) > self._max_keys:
                    self._counters.popitem(last=False)
            counter.failures += 1
            lock = self._policy.lockout(counter.failures, threshold)
            if lock:
                counter.locked_until = now + lock
            counter.forget_at = max(now + self._policy.memory, counter.locked_until)
            locked = max(locked, lock)
        return locked

    async def succeeded(self, account: str | None, ip: str | None) -> None:
        if account:
            self._counters.pop(f"acct:{account}", None)

    def _live(self, key: str, now: float) -> _Counter | None:
        counter = self._counters.get(key)
        if counter is None:
            return None
        if now >= counter.forget_at:
            del self._counters[key]
            return None
        self._counters.move_to_end(key)
        return counter


# KEYS: counters; returns the longest remaining lockout in ms.
_RETRY_AFTER = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local wait = 0
for _, key in ipairs(KEYS) do
  local until_ms = tonumber(redis.call('HGET', key, 'u') or '0')
  if until_ms - now > wait then wait = until_ms - now end
end
return wait
"""

# KEYS: counters; ARGV: one threshold per key, then cap ms, memory ms. Mirrors
# ThrottlePolicy.lockout. Returns the longest lockout started, in ms.
_FAILED = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local n = #KEYS
local cap = tonumber(ARGV[n + 1])
local memory = tonumber(ARGV[n + 2])
local longest = 0
for i, key in ipairs(KEYS) do
  local failures = redis.call('HINCRBY', key, 'f', 1)
  local exponent = failures - tonumber(ARGV[i])
  local lock = 0
  if exponent >= 0 then
    if exponent >= 32 then lock = cap else lock = math.min(1000 * 2 ^ exponent, cap) end
    redis.call('HSET', key, 'u', now + lock)
  end
  redis.call('PEXPIRE', key, math.max(memory, lock))
  if lock > longest then longest = lock end
end
return longest
"""


class RedisLoginThrottle:
    """Counters in Redis, falling back to per-process counters on any Redis failure."""

    def __init__(
        self,
        url: str,
        policy: ThrottlePolicy,
        fallback: MemoryLoginThrottle,
        prefix: str = "agora:login:",
    ) -> None:
        self._redis = Redis.from_url(url, socket_connect_timeout=0.5, socket_timeout=0.5)
        self._retry_after: Any = self._redis.register_script(_RETRY_AFTER)
        self._failed: Any = self._redis.register_script(_FAILED)
        self._policy = policy
        self._fallback = fallback
        self._prefix = prefix
        self._warned_at = 0.0

    async def retry_after(self, account: str | None, ip: str | None) -> float:
        keys = _keys(self._policy, account, ip)
        if not keys:
            return 0.0
        try:
            wait_ms = await self._retry_after(keys=[self._prefix + key for key, _ in keys])
        except Exception as exc:  # Redis away: throttle per process rather than not at all
            self._warn(exc)
            return await self._fallback.retry_after(account, ip)
        return int(wait_ms) / 1000

    async def failed(self, account: str | None, ip: str | None) -> float:
        keys = _keys(self._policy, account, ip)
        if not keys:
            return 0.0
        args = [
            *(threshold for _, threshold in keys),
            int(self._policy.max_delay * 1000),
            int(self._policy.memory * 1000),
        ]
        try:
            lock_ms = await self._failed(keys=[self._prefix + key for key, _ in keys], args=args)
        except Exception as exc:
            self._warn(exc)
            return await self._fallback.failed(account, ip)
        return int(lock_ms) / 1000

    async def succeeded(self, account: str | None, ip: str | None) -> None:
        if not account:
            return
        try:
            await self._redis.delete(f"{self._prefix}acct:{account}")
        except Exception as exc:
            self._warn(exc)
        # The fallback may hold failures counted while Redis was away.
        await self._fallback.succeeded(account, ip)

    async def close(self) -> None:
        await self._redis.aclose()

    def _warn(self, exc: Exception) -> None:
        now = time.monotonic()
        if now - self._warned_at > 30:
            self._warned_at = now
            log.warning("login_throttle_fallback", error=type(exc).__name__)
