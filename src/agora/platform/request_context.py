"""Per-request context shared by logging, the envelope, error mapping and the audit trail.

The edge (``RequestContextMiddleware``) sets these for each HTTP request; services read
them when they record who did what from where, without every signature carrying them.
"""

from __future__ import annotations

from contextvars import ContextVar, Token

request_id_var: ContextVar[str | None] = ContextVar("agora_request_id", default=None)
client_ip_var: ContextVar[str | None] = ContextVar("agora_client_ip", default=None)
user_agent_var: ContextVar[str | None] = ContextVar("agora_user_agent", default=None)


def current_request_id() -> str | None:
    return request_id_var.get()


def current_client_ip() -> str | None:
    return client_ip_var.get()


def current_user_agent() -> str | None:
    return user_agent_var.get()


RequestTokens = tuple[Token[str | None], Token[str | None], Token[str | None]]


def enter_request(request_id: str, client_ip: str | None, user_agent: str | None) -> RequestTokens:
    """Bind the context for one request; hand the result to ``leave_request`` at its end."""
    return (
        request_id_var.set(request_id),
        client_ip_var.set(client_ip),
        user_agent_var.set(user_agent),
    )


def leave_request(tokens: RequestTokens) -> None:
    request_token, ip_token, agent_token = tokens
    request_id_var.reset(request_token)
    client_ip_var.reset(ip_token)
    user_agent_var.reset(agent_token)


def current_client() -> tuple[str | None, str | None]:
    """The user agent and IP of the request being served, for recording a new session."""
    return user_agent_var.get(), client_ip_var.get()
