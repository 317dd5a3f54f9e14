"""Rate limits at the edge, before any routing, parsing or database work.

Auth endpoints (``POST /api/v1/auth/...``) are limited per client IP; other API calls
per credential (a hash of the bearer token or API key, so a stolen token cannot spend
another user's budget) or per IP when anonymous. Every limited response carries
``RateLimit-*`` headers; a refusal is 429 with ``Retry-After``.
"""

from __future__ import annotations

import hashlib
import math

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from agora.http import envelope
from agora.platform.rate_limiter import RateDecision
from agora.platform.registry import ServiceRegistry

WINDOW_SECONDS = 60.0


class RateLimitMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        *,
        auth_per_minute: int,
        api_per_minute: int,
        api_prefix: str = "/api/",
        auth_prefix: str = "/api/v1/auth/",
    ) -> None:
        self.app = app
        self.auth_per_minute = auth_per_minute
        self.api_per_minute = api_per_minute
        self.api_prefix = api_prefix
        self.auth_prefix = auth_prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(self.api_prefix):
            await self.app(scope, receive, send)
            return
        key, limit = self._classify(scope)
        registry: ServiceRegistry = scope["app"].state.registry
        decision = await registry.rate_limiter.hit(key, limit, WINDOW_SECONDS)
        headers = _headers(decision)
        if not decision.allowed:
            retry_after = str(max(1, math.ceil(decision.retry_after)))
            body = envelope.error_body(
                "RATE_LIMITED",
                f"Too many requests; retry in {retry_after} seconds.",
                {"limit": decision.limit, "window_seconds": int(decision.window_seconds)},
            )
            await send(
                {
                    "type": "http.response.start",
                    "status": 429,
                    "headers": [
                        (b"content-type", b"application/json"),
                        (b"content-length", str(len(body)).encode()),
                        (b"retry-after", retry_after.encode()),
                        *headers,
                    ],
                }
            )
            await send({"type": "http.response.body", "body": body})
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), *headers]}
            await send(message)

        await self.app(scope, receive, send_with_headers)

    def _classify(self, scope: Scope) -> tuple[str, int]:
        client = (scope.get("client") or ("unknown",))[0]
        if scope["method"] == "POST" and scope["path"].startswith(self.auth_prefix):
            return f"auth:ip:{client}", self.auth_per_minute
        credential = _credential(scope)
        if credential:
            digest = hashlib.sha256(credential).hexdigest()[:32]
            return f"api:cred:{digest}", self.api_per_minute
        return f"api:ip:{client}", self.api_per_minute


def _credential(scope: Scope) -> bytes | None:
    headers: list[tuple[bytes, bytes]] = scope["headers"]
    for name, value in headers:
        if name == b"authorization" and value[:7].lower() == b"bearer ":
            return value[7:].strip() or None
        if name == b"x-api-key" and value.strip():
            return value.strip()
    return None


def _headers(decision: RateDecision) -> list[tuple[bytes, bytes]]:
    reset = max(0, math.ceil(decision.retry_after)) if not decision.allowed else 0
    return [
        (b"ratelimit-limit", str(decision.limit).encode()),
        (b"ratelimit-remaining", str(decision.remaining).encode()),
        (b"ratelimit-reset", str(reset).encode()),
        (
            b"ratelimit-policy",
            f"{decision.limit};w={int(decision.window_seconds)}".encode(),
        ),
    ]
