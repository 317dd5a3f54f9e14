"""Response shapes of the sessions API, the cookie login and the JWKS document."""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, Field

from agora.identity.domain import RefreshToken
from agora.identity.sessions import CookieSession


class SessionOut(BaseModel):
    id: UUID = Field(description="The session id (the `sid` claim of its access tokens).")
    kind: Literal["bearer", "cookie"] = Field(
        description="`bearer`: tokens from /auth/login; `cookie`: a browser session."
    )
    user_agent: str | None = Field(description="The device, as its User-Agent named it.")
    ip: str | None = Field(description="The client address of the sign-in or last refresh.")
    created_at: datetime = Field(description="When the session began (sign-in).")
    last_used_at: datetime = Field(
        description="The last refresh (bearer) or the last request, to the minute (cookie)."
    )
    expires_at: datetime = Field(description="When it ends unless used again (idle limit).")
    current: bool = Field(description="True for the session this request belongs to.")

    @classmethod
    def of(cls, session: RefreshToken, current_id: UUID | None) -> dict[str, object]:
        return {
            "id": session.family_id,
            "kind": session.kind.value,
            "user_agent": session.user_agent,
            "ip": session.ip,
            "created_at": session.started_at,
            "last_used_at": session.used_last_at,
            "expires_at": session.expires_at,
            "current": session.family_id == current_id,
        }


class CookieSessionOut(BaseModel):
    session_id: UUID
    csrf_token: str = Field(
        description="Send it as `X-CSRF-Token` with every POST, PUT, PATCH and DELETE; "
        "it is also in the `__Host-agora_csrf` cookie for the page's scripts."
    )
    expires_at: datetime = Field(description="The session's absolute end.")

    @classmethod
    def of(cls, session: CookieSession) -> dict[str, object]:
        return {
            "session_id": session.session_id,
            "csrf_token": session.csrf_token,
            "expires_at": session.expires_at,
        }


class JsonWebKey(BaseModel):
    kty: Literal["EC"]
    crv: Literal["P-256"]
    x: str
    y: str
    kid: str
    alg: Literal["ES256"]
    use: Literal["sig"]


class JwksOut(BaseModel):
    """RFC 7517 JSON Web Key Set: the public keys that verify Agora's access tokens."""

    keys: list[JsonWebKey]
