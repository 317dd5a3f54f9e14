"""Pure ASGI middleware for every request: request ID, limits, headers, access log.

Written against raw ASGI rather than ``BaseHTTPMiddleware``: it runs on every request
and the plain form costs a few microseconds instead of tens.

It is the outermost layer that knows the request, so it also answers every error the
application lets through (a 500, the 503 of a database outage) itself: inside the
request context, with the request ID and the security headers like any other answer.
Text no column can store (a NUL, a lone surrogate, bytes that are not UTF-8) in the
path, the query, a header or a JSON or form body is refused here with a 422.
"""

from __future__ import annotations

import re
import time
import uuid
from typing import Any

import structlog
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from agora.http import envelope, unstorable_text
from agora.http.errors import unexpected_error_response, validation_error_response
from agora.platform.logging import get_logger
from agora.platform.request_context import enter_request, leave_request

_VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
_JSON_TYPES = ("application/json", "application/merge-patch+json")
_FORM_TYPE = "application/x-www-form-urlencoded"
log = get_logger("agora.access")

API_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'"
PAGE_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'self'; "
    "form-action 'self'; object-src 'none'"
)


class BodyTooLargeError(Exception):
    pass


class RequestContextMiddleware:
    """Assigns the request ID, enforces body limits and content types, adds headers, logs."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        max_body_bytes: int,
        access_log: bool = True,
        hsts: bool = False,
        json_only_prefix: str = "/api/",
    ) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.access_log = access_log
        self.json_only_prefix = json_only_prefix
        self.static_headers: list[tuple[bytes, bytes]] = [
            (b"x-content-type-options", b"nosniff"),
            (b"referrer-policy", b"strict-origin-when-cross-origin"),
            (b"x-frame-options", b"DENY"),
            (b"cross-origin-opener-policy", b"same-origin"),
            (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
        ]
        if hsts:
            self.static_headers.append(
                (b"strict-transport-security", b"max-age=63072000; includeSubDomains")
            )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        headers = _headers(scope)
        incoming = headers.get("x-request-id", "")
        request_id = incoming if _VALID_REQUEST_ID.match(incoming) else uuid.uuid4().hex
        client = scope.get("client")
        context = enter_request(
            request_id, client[0] if client else None, headers.get("user-agent", "")[:255] or None
        )
        structlog.contextvars.bind_contextvars(request_id=request_id)
        status = 500
        response_started = False
        path: str = scope["path"]
        csp = (API_CSP if path.startswith("/api/") else PAGE_CSP).encode()

        async def send_wrapper(message: Message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                response_started = True
                status = message["status"]
                raw = list(message.get("headers", []))
                raw.append((b"x-request-id", request_id.encode()))
                raw.extend(self.static_headers)
                if not any(name == b"content-security-policy" for name, _ in raw):
                    raw.append((b"content-security-policy", csp))
                message = {**message, "headers": raw}
            await send(message)

        try:
            try:
                await self._dispatch(scope, headers, receive, send_wrapper)
            except BodyTooLargeError:
                if not response_started:
                    await _send_error(send_wrapper, *self._too_large())
            except Exception as exc:
                answer = unexpected_error_response(exc)  # logs it, with the request ID
                if response_started:
                    # Past the first byte the answer cannot change: the server must cut the
                    # connection so the client sees a broken response, not a short one.
                    raise
                await answer(scope, receive, send_wrapper)
        finally:
            if self.access_log:
                route = scope.get("route")
                log.info(
                    "request",
                    method=scope["method"],
                    path=path,
                    route=getattr(route, "path", None),
                    status=status,
                    duration_ms=round((time.perf_counter() - started) * 1000, 2),
                    client=(scope.get("client") or ("-",))[0],
                )
            structlog.contextvars.unbind_contextvars("request_id")
            leave_request(context)

    async def _dispatch(
        self, scope: Scope, headers: dict[str, str], receive: Receive, send: Send
    ) -> None:
        """Refuse what the edge refuses, check the body's text, then run the application."""
        rejection = self._reject(scope, headers)
        if rejection is not None:
            await _send_error(send, *rejection)
            return
        place = _unstorable_place(scope)
        if place is not None:
            await _send_unstorable(scope, receive, send, place)
            return
        bounded = self._bounded(receive)
        body_kind = _inspected_body(scope, headers)
        if body_kind is None:
            await self.app(scope, bounded, send)
            return
        body = await _read_body(bounded)
        if body is None:
            return  # the client went away mid-body: nothing to answer, nothing to run
        if body_kind == "json":
            place = unstorable_text.in_json(body)
        else:
            place = unstorable_text.in_form(body, "form")
        if place is not None:
            await _send_unstorable(scope, receive, send, place)
            return
        await self.app(scope, _replay(body, receive), send)

    def _bounded(self, receive: Receive) -> Receive:
        """``receive`` that raises ``BodyTooLargeError`` once the body passes the limit."""
        received = 0

        async def bounded() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body_bytes:
                    raise BodyTooLargeError
            return message

        return bounded

    def _too_large(self) -> tuple[int, str, str]:
        return (
            413,
            "PAYLOAD_TOO_LARGE",
            f"The request body exceeds the limit of {self.max_body_bytes} bytes.",
        )

    def _reject(self, scope: Scope, headers: dict[str, str]) -> tuple[int, str, str] | None:
        length = headers.get("content-length")
        if length is not None:
            if not length.isdigit():
                return 400, "BAD_REQUEST", "Content-Length is not a number."
            if int(length) > self.max_body_bytes:
                return self._too_large()
        if scope["method"] in _BODY_METHODS and scope["path"].startswith(self.json_only_prefix):
            has_body = (length is not None and length != "0") or "transfer-encoding" in headers
            content_type = headers.get("content-type", "").split(";", 1)[0].strip().lower()
            if has_body and content_type not in _JSON_TYPES:
                return (
                    415,
                    "UNSUPPORTED_MEDIA_TYPE",
                    "Send the request body as application/json.",
                )
        return None


def _unstorable_place(scope: Scope) -> str | None:
    return (
        unstorable_text.in_path(scope.get("raw_path"), scope["path"])
        or unstorable_text.in_form(scope.get("query_string", b""), "query")
        or unstorable_text.in_headers(scope["headers"])
    )


def _inspected_body(scope: Scope, headers: dict[str, str]) -> str | None:
    """``"json"`` or ``"form"`` for a body whose text is checked before the app sees it."""
    if scope["method"] not in _BODY_METHODS:
        return None
    content_type = headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if content_type in _JSON_TYPES:
        return "json"
    return "form" if content_type == _FORM_TYPE else None


async def _read_body(receive: Receive) -> bytes | None:
    """The whole body (already bounded by ``receive``'s size limit), or ``None`` when the
    client disconnected before sending all of it: a cut-off body is never run."""
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return None
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks)


def _replay(body: bytes, receive: Receive) -> Receive:
    """A ``receive`` that hands the buffered body over once, then defers to the server."""
    pending = True

    async def replay() -> Message:
        nonlocal pending
        if pending:
            pending = False
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


async def _send_unstorable(scope: Scope, receive: Receive, send: Send, place: str) -> None:
    field = {
        "field": place,
        "message": "Text must be UTF-8 without NUL characters or lone surrogates.",
        "type": "text_unstorable",
    }
    await validation_error_response([field])(scope, receive, send)


def _headers(scope: Scope) -> dict[str, str]:
    return {name.decode("latin-1"): value.decode("latin-1") for name, value in scope["headers"]}


async def _send_error(
    send: Any, status: int, code: str, message: str, details: dict[str, Any] | None = None
) -> None:
    body = envelope.error_body(code, message, details)
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
