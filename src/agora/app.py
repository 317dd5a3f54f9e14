"""``create_app``: the FastAPI application with routers, middleware and error mapping."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.responses import ORJSONResponse
from starlette.middleware.cors import CORSMiddleware

from agora import __version__
from agora.audit.api import router as audit_router
from agora.bootstrap import Container, build_container
from agora.catalog.api import router as catalog_router
from agora.http import docs, health
from agora.http.errors import install_error_handlers
from agora.http.events import asyncapi
from agora.http.events.api import router as events_router
from agora.http.middleware import RequestContextMiddleware
from agora.http.rate_limit import RateLimitMiddleware
from agora.identity.access.api import api_keys_router, users_router
from agora.identity.accounts.api import router as accounts_router
from agora.identity.accounts.api import sign_up_router
from agora.identity.accounts.pages import router as account_pages_router
from agora.identity.mfa.api import router as mfa_router
from agora.identity.oidc.api import router as oidc_router
from agora.identity.sessions.api import router as sessions_router
from agora.identity.sessions.api import sign_in_router
from agora.identity.tokens.api import well_known as well_known_router
from agora.notifications.api import dev_router as dev_mailbox_router
from agora.notifications.api import router as notifications_router
from agora.ordering.api import router as ordering_router
from agora.payments.api import router as payments_router
from agora.platform.logging import configure_logging
from agora.platform.settings import Settings, load_settings

API_PREFIX = "/api/v1"
# Every router under API_PREFIX, in the order the API document lists their operations.
API_ROUTERS = (
    sign_up_router,
    sign_in_router,
    accounts_router,
    mfa_router,
    sessions_router,
    catalog_router,
    ordering_router,
    payments_router,
    users_router,
    api_keys_router,
    audit_router,
    events_router,
    oidc_router,
    notifications_router,
)

DESCRIPTION = """
Agora's REST API. Every response uses one envelope:
`{"success": true, "data": ..., "meta": {"request_id", "timestamp", "version"}}` or
`{"success": false, "errors": {"code", "message", "details"}, "meta": {...}}`.
Money is `{"amount": <integer minor units>, "currency": "EUR"}`; identifiers are UUIDs
(a malformed `{..._id}` in a path is a 422; `{reference}` takes an id or a slug, and
anything that is neither is a 404); timestamps are UTC ISO 8601. Authenticate with
`Authorization: Bearer <access_token>`, or with an API key as
`Authorization: Bearer agora_...` or `X-API-Key: agora_...`.
"""


def create_app(settings: Settings | None = None, container: Container | None = None) -> FastAPI:
    """Build the app; with no ``container`` one is built at startup and closed at shutdown."""
    settings = settings or (container.settings if container else load_settings())
    configure_logging(settings.log_level, settings.log_format)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        owned = container is None
        built = container or await build_container(settings)
        app.state.registry = built.registry
        app.state.container = built
        # Embedded mode: this process relays the outbox, runs the consumers and the
        # scheduled jobs itself (leases keep each job to one process at a time).
        in_web = owned and built.settings.effective_events_in_web
        scheduler = built.jobs.scheduler if in_web and built.settings.jobs_enabled else None
        if in_web:
            await built.events.backbone.start()
        if scheduler is not None:
            scheduler.start()
        try:
            yield
        finally:
            if scheduler is not None:
                await scheduler.stop()
            if in_web:
                await built.events.backbone.stop()
            if owned:
                await built.close()

    app = FastAPI(
        title="Agora",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        openapi_url="/openapi.json",
        default_response_class=ORJSONResponse,
    )
    if container is not None:
        # Tests drive the app without a lifespan: make services available right away.
        app.state.registry = container.registry
        app.state.container = container
    install_error_handlers(app)
    app.include_router(health.router)
    app.include_router(docs.router)
    app.include_router(asyncapi.router)
    app.include_router(well_known_router)
    app.mount("/docs/static", docs.docs_static, name="docs-static")
    for router in API_ROUTERS:
        app.include_router(router, prefix=API_PREFIX)
    app.include_router(account_pages_router)
    if not settings.is_production:
        # Shows every message, reset links included: never reachable in production.
        app.include_router(dev_mailbox_router)

    if settings.rate_limit_enabled:
        app.add_middleware(
            RateLimitMiddleware,
            auth_per_minute=settings.auth_rate_limit,
            api_per_minute=settings.api_rate_limit,
        )
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_credentials="*" not in settings.cors_origins,
            allow_methods=["GET", "POST", "PATCH", "PUT", "DELETE", "OPTIONS"],
            allow_headers=[
                "Authorization",
                "Content-Type",
                "Idempotency-Key",
                "X-Request-ID",
                "X-CSRF-Token",  # cookie sessions of a front end on a sibling origin
            ],
            expose_headers=["X-Request-ID", "Retry-After", "ETag"],
            max_age=600,
        )
    app.add_middleware(
        RequestContextMiddleware,
        max_body_bytes=settings.max_body_bytes,
        access_log=settings.access_log,
        hsts=settings.is_production,
    )
    return app
