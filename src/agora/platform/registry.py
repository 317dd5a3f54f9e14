"""What the HTTP edge looks services up in; the composition root fills one per app.

Routers ask for a context's service by its concrete class
(``Depends(use(CatalogService))``). The ports the edge itself calls are Protocols, and a
Protocol cannot be a lookup key that type-checks, so those are typed attributes instead:
the authenticator of bearer tokens and API keys, the cookie-session authenticator, the
rate limiter and the idempotency store.
"""

from __future__ import annotations

from typing import TypeVar

from agora.platform.access import Authenticator
from agora.platform.cookie_sessions import CookieAuthenticator
from agora.platform.idempotency_keys import IdempotencyStore
from agora.platform.rate_limiter import RateLimiter

T = TypeVar("T")


class ServiceRegistry:
    def __init__(
        self,
        *services: object,
        authenticator: Authenticator,
        cookie_sessions: CookieAuthenticator,
        rate_limiter: RateLimiter,
        idempotency: IdempotencyStore,
    ) -> None:
        self._by_class = {type(service): service for service in services}
        if len(self._by_class) != len(services):
            raise ValueError("each service class can be registered once")
        self.authenticator = authenticator
        self.cookie_sessions = cookie_sessions
        self.rate_limiter = rate_limiter
        self.idempotency = idempotency

    def get(self, kind: type[T]) -> T:
        """The service of exactly this class; ``LookupError`` when none was registered."""
        found = self._by_class.get(kind)
        if not isinstance(found, kind):
            raise LookupError(f"no {kind.__name__} was wired by the composition root")
        return found
