"""Per-request context (request ID) shared by logging, the envelope and error mapping."""

from __future__ import annotations

from contextvars import ContextVar

request_id_var: ContextVar[str | None] = ContextVar("agora_request_id", default=None)


def current_request_id() -> str | None:
    return request_id_var.get()
