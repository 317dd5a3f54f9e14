"""A reset request is answered before the account is even looked up.

So neither the answer nor its timing can tell a caller whether an address has an account:
the request only keeps an outbox event (the same work for any address), the whole
response (status, headers, body) is on the wire and the request finished while the
lookup, which the events backbone runs, is still held back, and the bodies for a known
and an unknown address differ only in their request metadata. Shown by driving the ASGI
app directly with the lookup gated, which needs no stopwatch and cannot flake on a busy
machine.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import orjson
import pytest

from agora.app import create_app
from agora.bootstrap import Container, build_container
from agora.platform.settings import Settings
from tests.support.accounts import PASSWORD, unique_email

Message = dict[str, Any]


@dataclass
class GatedResets:
    """The real password-reset request, its lookup held until ``gate`` opens."""

    real: Callable[[str], Awaitable[None]]
    gate: asyncio.Event = field(default_factory=asyncio.Event)
    finished: list[str] = field(default_factory=list)

    async def __call__(self, email: str) -> None:
        await self.gate.wait()
        await self.real(email)
        self.finished.append(email)


@pytest.fixture
async def gated(
    settings: Settings, migrated: str, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[tuple[Container, GatedResets]]:
    container = await build_container(settings)
    accounts = container.identity.accounts
    resets = GatedResets(accounts.request_password_reset)
    monkeypatch.setattr(accounts, "request_password_reset", resets)
    try:
        yield container, resets
    finally:
        resets.gate.set()
        await container.close()


async def post_json(app: Any, path: str, payload: dict[str, str]) -> tuple[Message, bytes, Any]:
    """Start a request; return the response start, the full body and the still-running call."""
    body = orjson.dumps(payload)
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [
            (b"host", b"testserver"),
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
        ],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
    }
    sent: list[Message] = []
    complete = asyncio.Event()
    delivered = False

    async def receive() -> Message:
        nonlocal delivered
        if not delivered:
            delivered = True
            return {"type": "http.request", "body": body, "more_body": False}
        await asyncio.Event().wait()  # the client stays connected
        raise AssertionError("unreachable")

    async def send(message: Message) -> None:
        sent.append(message)
        if message["type"] == "http.response.body" and not message.get("more_body", False):
            complete.set()

    call = asyncio.ensure_future(app(scope, receive, send))
    await asyncio.wait_for(complete.wait(), timeout=10)
    start = next(m for m in sent if m["type"] == "http.response.start")
    content = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return start, content, call


def without_meta(content: bytes) -> dict[str, Any]:
    document: dict[str, Any] = orjson.loads(content)
    document.pop("meta")
    return document


def without_counters(start: Message) -> tuple[int, list[tuple[bytes, bytes]]]:
    """Status and headers, less the request id and the caller's rate-limit counters."""
    headers = [
        (k, v)
        for k, v in start["headers"]
        if k != b"x-request-id" and not k.startswith(b"ratelimit-")
    ]
    return start["status"], headers


async def test_the_answer_is_sent_before_the_account_is_looked_up(
    gated: tuple[Container, GatedResets], settings: Settings
) -> None:
    container, resets = gated
    app = create_app(settings, container=container)
    known = unique_email("gated-reset")
    registered = await post_json(
        app, "/api/v1/auth/register", {"email": known, "password": PASSWORD, "name": "Gated"}
    )
    assert registered[0]["status"] == 201
    await registered[2]

    unknown = unique_email("nobody")
    answers = {}
    for email in (known, unknown):
        start, content, call = await post_json(
            app, "/api/v1/auth/password-reset/request", {"email": email}
        )
        # The response is complete, and the request with it, before any lookup ran.
        await asyncio.wait_for(call, timeout=10)
        assert resets.finished == []
        answers[email] = (without_counters(start), without_meta(content))

    assert answers[known] == answers[unknown]
    assert answers[known][0][0] == 202

    # Once the lookups may run, the backbone runs one per request, and the known address
    # (and only it) gets its mail.
    resets.gate.set()
    await asyncio.wait_for(container.events.backbone.drain(), timeout=10)
    assert sorted(resets.finished) == sorted([known, unknown])
    kept = container.infrastructure.mail.kept_messages() or ()
    reset_mail = {
        email: [
            m.message.subject
            for m in kept
            if m.message.to == email and "reset" in m.message.subject.lower()
        ]
        for email in (known, unknown)
    }
    assert reset_mail == {known: ["Reset your Agora password"], unknown: []}
