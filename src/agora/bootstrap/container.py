"""The container the composition root fills: settings, engine, registry, health."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncEngine

from agora.platform.health_checks import HealthChecks
from agora.platform.rate_limiter import RateLimiter
from agora.platform.registry import ServiceRegistry
from agora.platform.settings import Settings


@dataclass
class Container:
    settings: Settings
    engine: AsyncEngine
    registry: ServiceRegistry = field(default_factory=ServiceRegistry)
    health: HealthChecks = field(default_factory=HealthChecks)
    # Clients the wiring opened (Redis connections, ...), closed with the container.
    on_close: list[Callable[[], Awaitable[None]]] = field(default_factory=list)

    async def close(self) -> None:
        limiter = self.registry.find(RateLimiter)  # type: ignore[type-abstract]
        if limiter is not None:
            await limiter.close()
        for close in reversed(self.on_close):
            await close()
        await self.engine.dispose()
