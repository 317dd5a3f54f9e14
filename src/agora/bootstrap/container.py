"""The container: what the composition root built, typed by area, the registry the HTTP
edge looks services up in, and what has to be closed at shutdown."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import cached_property

from sqlalchemy.ext.asyncio import AsyncEngine

from agora.bootstrap.commerce import Commerce
from agora.bootstrap.events import Events
from agora.bootstrap.identity import Identity
from agora.bootstrap.infrastructure import Infrastructure
from agora.bootstrap.jobs import Jobs
from agora.platform.registry import ServiceRegistry
from agora.platform.settings import Settings


@dataclass(frozen=True)
class Container:
    settings: Settings
    engine: AsyncEngine
    infrastructure: Infrastructure
    identity: Identity
    commerce: Commerce
    events: Events
    jobs: Jobs
    # Clients the adapters opened (Redis connections, ...), closed with the container.
    on_close: tuple[Callable[[], Awaitable[None]], ...] = ()

    @cached_property
    def registry(self) -> ServiceRegistry:
        """Every service a router may ask for by its class, and the edge's own ports."""
        infra, identity, commerce = self.infrastructure, self.identity, self.commerce
        return ServiceRegistry(
            self.settings,
            infra.health,
            infra.audit,
            infra.mail,
            infra.mail_admin,
            identity.sign_in,
            identity.registration,
            identity.accounts,
            identity.sessions,
            identity.keys,
            identity.mfa,
            identity.users,
            identity.api_keys,
            identity.oidc,
            commerce.catalog,
            commerce.payments,
            commerce.carts,
            commerce.orders,
            self.events.operations,
            authenticator=identity.authenticator,
            cookie_sessions=identity.sessions,
            rate_limiter=infra.rate_limiter,
            idempotency=infra.idempotency,
        )

    async def close(self) -> None:
        await self.jobs.scheduler.stop()
        await self.events.backbone.stop()
        await self.infrastructure.rate_limiter.close()
        for close in reversed(self.on_close):
            await close()
        await self.engine.dispose()
