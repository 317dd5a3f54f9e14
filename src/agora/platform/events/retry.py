"""How long to wait before trying again: exponential backoff with jitter."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Attempt ``n`` waits between half and all of ``min(max, base * 2**(n-1))``.

    The random half ("equal jitter") spreads retries of many failed messages over the
    window, so a dependency that comes back is not hit by all of them at once. After
    ``max_attempts`` failed attempts a message is dead-lettered.
    """

    max_attempts: int = 8
    base_seconds: float = 1.0
    max_seconds: float = 300.0

    def delay(self, attempt: int, rand: Callable[[], float] = random.random) -> float:
        ceiling: float = min(self.max_seconds, self.base_seconds * 2.0 ** max(0, attempt - 1))
        return ceiling / 2 + rand() * ceiling / 2

    def exhausted(self, attempt: int) -> bool:
        return attempt >= self.max_attempts


def describe_error(exc: BaseException, limit: int = 2000) -> str:
    text = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    return text if len(text) <= limit else text[: limit - 1] + "…"
