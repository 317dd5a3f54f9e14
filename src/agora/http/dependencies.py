"""FastAPI dependencies shared by routers: services, the principal, pagination.

Routers declare what they need with these ``Annotated`` aliases: a context's service
with ``Depends(use(ItsServiceClass))``, the idempotency store with
``Depends(idempotency_store)``. Nothing here knows which adapters stand behind a
service (the composition root decides).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Depends, Query, Request
from fastapi.security import APIKeyCookie, APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from agora.http.schemas import error_responses
from agora.platform.access import Principal
from agora.platform.cookie_sessions import CSRF_HEADER, SAFE_METHODS, SESSION_COOKIE
from agora.platform.errors import AuthenticationError
from agora.platform.idempotency_keys import IdempotencyStore
from agora.platform.registry import ServiceRegistry

T = TypeVar("T")
MAX_PAGE_SIZE = 100

_bearer = HTTPBearer(auto_error=False, description="Access token from /api/v1/auth/login")
_api_key = APIKeyHeader(name="X-API-Key", auto_error=False)
_session_cookie = APIKeyCookie(
    name=SESSION_COOKIE,
    auto_error=False,
    description=f"Browser session from /api/v1/auth/cookie-login; changes need {CSRF_HEADER}",
)


def registry(request: Request) -> ServiceRegistry:
    found: ServiceRegistry = request.app.state.registry
    return found


def use(kind: type[T]) -> Callable[[Request], Awaitable[T]]:
    """A dependency that yields the service of class ``kind`` from the registry.

    It is ``async`` on purpose: FastAPI runs plain ``def`` dependencies in a thread pool,
    which costs far more than the lookup itself on every request.
    """

    async def dependency(request: Request) -> T:
        return registry(request).get(kind)

    dependency.__name__ = f"use_{kind.__name__}"
    return dependency


async def idempotency_store(request: Request) -> IdempotencyStore:
    return registry(request).idempotency


async def optional_principal(
    request: Request,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    api_key: Annotated[str | None, Depends(_api_key)],
    cookie: Annotated[str | None, Depends(_session_cookie)],
) -> Principal | None:
    credential = bearer.credentials if bearer is not None else api_key
    if credential is None:
        if request.headers.get("authorization"):
            raise AuthenticationError("The Authorization header must be 'Bearer <token>'.")
        if not cookie:
            return None
        # A browser session: unsafe methods must also carry the session's CSRF token.
        cookie_principal = await registry(request).cookie_sessions.authenticate_cookie(
            cookie,
            csrf_token=request.headers.get(CSRF_HEADER),
            unsafe=request.method not in SAFE_METHODS,
        )
        if cookie_principal is None:
            return None
        request.state.principal = cookie_principal
        return cookie_principal
    principal = await registry(request).authenticator.authenticate(credential)
    request.state.principal = principal
    return principal


async def required_principal(
    principal: Annotated[Principal | None, Depends(optional_principal)],
) -> Principal:
    if principal is None:
        raise AuthenticationError()
    return principal


CurrentPrincipal = Annotated[Principal, Depends(required_principal)]
OptionalPrincipal = Annotated[Principal | None, Depends(optional_principal)]


async def signed_in_principal(principal: CurrentPrincipal) -> Principal:
    """The principal, provided it signed in: an API key is ``403 SESSION_REQUIRED``."""
    principal.require_session()
    return principal


def account_security_router(**options: Any) -> APIRouter:
    """A router whose every route changes or reveals how an account signs in (password,
    second factor, sessions, API keys): none of them is in reach of an API key.

    The rule sits on the router, so a route added to it cannot forget it.
    """
    dependencies = [Depends(signed_in_principal), *options.pop("dependencies", ())]
    responses = {**error_responses(401, 403), **options.pop("responses", {})}
    return APIRouter(dependencies=dependencies, responses=responses, **options)


@dataclass(frozen=True, slots=True)
class PageParams:
    page: int
    page_size: int

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.page_size


async def page_params(
    page: Annotated[int, Query(ge=1, le=100_000, description="1-based page number")] = 1,
    page_size: Annotated[
        int, Query(ge=1, le=MAX_PAGE_SIZE, description=f"Items per page, at most {MAX_PAGE_SIZE}")
    ] = 20,
) -> PageParams:
    return PageParams(page, page_size)


Page = Annotated[PageParams, Depends(page_params)]
