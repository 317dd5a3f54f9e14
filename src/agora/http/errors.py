"""The one place where the error tree becomes HTTP statuses and the error envelope."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from sqlalchemy import exc as sa_exc
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from agora.http import envelope
from agora.platform import errors
from agora.platform.logging import get_logger

log = get_logger("agora.http")

# Most specific class first: the first match along the exception's MRO wins.
STATUS_BY_ERROR: dict[type[errors.DomainError], int] = {
    errors.IdempotencyKeyReusedError: 422,
    errors.ValidationError: 422,
    errors.AuthenticationError: 401,
    errors.PermissionDeniedError: 403,
    errors.NotFoundError: 404,
    errors.ConflictError: 409,
    errors.PaymentDeclinedError: 402,
    errors.RateLimitedError: 429,
    errors.DependencyUnavailableError: 503,
}

_HTTP_CODES = {
    400: "BAD_REQUEST",
    401: "UNAUTHENTICATED",
    403: "FORBIDDEN",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    406: "NOT_ACCEPTABLE",
    413: "PAYLOAD_TOO_LARGE",
    415: "UNSUPPORTED_MEDIA_TYPE",
    429: "RATE_LIMITED",
}


def status_for(exc: errors.DomainError) -> int:
    for cls in type(exc).__mro__:
        if cls in STATUS_BY_ERROR:
            return STATUS_BY_ERROR[cls]
    return 400


def domain_error_response(exc: errors.DomainError) -> Response:
    status = status_for(exc)
    headers: dict[str, str] = {}
    if isinstance(exc, errors.AuthenticationError):
        headers["WWW-Authenticate"] = "Bearer"
    if isinstance(exc, errors.RateLimitedError):
        headers["Retry-After"] = str(exc.retry_after)
    if isinstance(exc, errors.DependencyUnavailableError):
        headers["Retry-After"] = "5"
    return envelope.error(status, exc.code, exc.message, exc.details, headers)


async def _on_domain_error(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, errors.DomainError)
    return domain_error_response(exc)


def _field_errors(exc: RequestValidationError) -> list[dict[str, Any]]:
    return [
        {
            "field": ".".join(str(part) for part in err.get("loc", ())),
            "message": err.get("msg", "invalid"),
            "type": err.get("type", "invalid"),
        }
        for err in exc.errors()
    ]


def validation_error_response(fields: list[dict[str, Any]]) -> Response:
    """The 422 for invalid input: each entry names a ``field``, a ``message`` and a ``type``."""
    return envelope.error(422, "VALIDATION_ERROR", "The request is not valid.", {"fields": fields})


async def _on_validation_error(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    fields = _field_errors(exc)
    if any(f["type"] == "json_invalid" for f in fields):
        return envelope.error(400, "MALFORMED_JSON", "The request body is not valid JSON.")
    return validation_error_response(fields)


async def _on_http_error(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    code = _HTTP_CODES.get(exc.status_code, "HTTP_ERROR")
    message = exc.detail if isinstance(exc.detail, str) else "The request failed."
    if exc.status_code == 404:
        message = "The resource was not found."
    return envelope.error(exc.status_code, code, message, headers=exc.headers)


# Driver errors that mean "the database cannot serve us right now", not "bad request".
_UNAVAILABLE_DRIVER_ERRORS = frozenset(
    {"TooManyConnectionsError", "CannotConnectNowError", "ConnectionDoesNotExistError"}
)


def _database_unavailable(exc: Exception) -> bool:
    if isinstance(exc, OSError | sa_exc.TimeoutError | sa_exc.InterfaceError):
        return True
    if isinstance(exc, sa_exc.DBAPIError):
        if exc.connection_invalidated or isinstance(exc, sa_exc.OperationalError):
            return True
        cause = exc.orig.__cause__ if exc.orig is not None else None
        return type(cause).__name__ in _UNAVAILABLE_DRIVER_ERRORS
    return False


def unexpected_error_response(exc: Exception) -> Response:
    """The answer to an exception nothing else mapped: a 503 for a database outage, else 500.

    Logged here, once, with the request ID bound by the middleware; the client only ever
    sees a generic message, never the exception or a trace.
    """
    if _database_unavailable(exc):
        log.warning("database_unavailable", error=type(exc).__name__, detail=str(exc)[:200])
        return envelope.error(
            503,
            "SERVICE_UNAVAILABLE",
            "The database is temporarily unavailable; please retry shortly.",
            {"dependency": "database"},
            headers={"Retry-After": "5"},
        )
    log.error("unhandled_error", exc_info=exc)
    return envelope.error(
        500,
        "INTERNAL_ERROR",
        "Something went wrong on our side; quote the request ID if you contact us.",
    )


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(errors.DomainError, _on_domain_error)
    app.add_exception_handler(RequestValidationError, _on_validation_error)
    app.add_exception_handler(StarletteHTTPException, _on_http_error)
    # Nothing is registered for ``Exception``: Starlette would answer it outside every
    # middleware, without the request ID or the security headers. The request-context
    # middleware answers it instead, through ``unexpected_error_response``.
