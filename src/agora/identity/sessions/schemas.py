"""Request and response shapes of signing in, sessions and the cookie login."""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, Field

from agora.http.schemas import RequestModel, ResponseModel
from agora.identity.domain import MAX_EMAIL_LENGTH, MAX_PASSWORD_LENGTH
from agora.identity.sessions.domain import (
    RefreshToken,
    SecondFactorRequired,
)

# Bodies are bounded here; the services apply the real rules (email syntax, policy)
# so that API, CLI and seed share one set of messages. Account bodies use them too.
EMAIL = Field(min_length=1, max_length=MAX_EMAIL_LENGTH + 10, examples=["ada@example.com"])
PASSWORD = Field(
    min_length=1, max_length=MAX_PASSWORD_LENGTH * 4, examples=["correct horse battery staple"]
)
_RefreshToken = Field(min_length=1, max_length=200)
# Long enough for a recovery code typed with spaces and dashes; the service decides
# whether it is a TOTP or a recovery code, and whether it is right.
MFA_CODE = Field(
    min_length=1,
    max_length=64,
    description="A 6-digit code from the authenticator app, or an unused recovery code.",
    examples=["123456"],
)


class LoginIn(RequestModel):
    email: str = EMAIL
    password: str = PASSWORD


class RefreshIn(RequestModel):
    refresh_token: str = _RefreshToken


class MfaLoginIn(RequestModel):
    mfa_token: str = Field(
        min_length=1, max_length=200, description="The token from POST /api/v1/auth/login."
    )
    code: str = MFA_CODE


class TokenPairOut(ResponseModel):
    access_token: str
    refresh_token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105 - a token type, not a secret
    expires_in: int = Field(description="Seconds until the access token expires.")


class SecondFactorRequiredOut(BaseModel):
    """The answer to a correct password when the account has MFA on: no tokens yet."""

    mfa_required: Literal[True] = True
    mfa_token: str = Field(
        description="Send it with a code to POST /api/v1/auth/login/mfa; works once."
    )
    expires_in: int = Field(description="Seconds until the MFA token expires.")

    @classmethod
    def of(cls, challenge: SecondFactorRequired) -> dict[str, object]:
        return {
            "mfa_required": True,
            "mfa_token": challenge.mfa_token,
            "expires_in": challenge.expires_in,
        }


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


class CookieSessionOut(ResponseModel):
    session_id: UUID
    csrf_token: str = Field(
        description="Send it as `X-CSRF-Token` with every POST, PUT, PATCH and DELETE; "
        "it is also in the `__Host-agora_csrf` cookie for the page's scripts."
    )
    expires_at: datetime = Field(description="The session's absolute end.")
