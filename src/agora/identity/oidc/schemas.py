"""Response shapes of signing in with an OpenID Connect provider."""

from __future__ import annotations

from typing import Literal
from uuid import UUID

from pydantic import BaseModel, Field

from agora.identity.oidc.services import OidcLogin, ProviderInfo
from agora.identity.sessions.schemas import SecondFactorRequiredOut, TokenPairOut


class OidcProviderOut(BaseModel):
    name: str = Field(examples=["Example ID"], description="Shown on the sign-in button.")
    issuer: str = Field(examples=["https://id.example.com"])
    login_url: str = Field(
        examples=["/api/v1/auth/oidc/login"],
        description="Send the browser here (optionally with ?redirect_uri=) to sign in.",
    )

    @classmethod
    def of(cls, info: ProviderInfo, login_url: str) -> dict[str, object]:
        return {"name": info.name, "issuer": info.issuer, "login_url": login_url}


class OidcLoginOut(BaseModel):
    access_token: str
    refresh_token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105 - a token type, not a secret
    expires_in: int = Field(description="Seconds until the access token expires.")
    user_id: UUID
    account: Literal["created", "linked", "existing"] = Field(
        description=(
            "`created`: a new account was opened; `linked`: the provider identity was "
            "linked to the existing account with its verified email; `existing`: a "
            "returning sign-in."
        )
    )

    @classmethod
    def of(cls, login: OidcLogin) -> dict[str, object]:
        if login.challenge is not None or login.tokens is None:
            return OidcSecondFactorOut.of(login)
        return {**TokenPairOut.of(login.tokens), "user_id": login.user.id, "account": login.outcome}


class OidcSecondFactorOut(BaseModel):
    """The provider vouched for the user, whose account has MFA on: no tokens yet."""

    mfa_required: Literal[True] = True
    mfa_token: str = Field(
        description="Send it with a code to POST /api/v1/auth/login/mfa; works once."
    )
    expires_in: int = Field(description="Seconds until the MFA token expires.")
    account: Literal["created", "linked", "existing"]

    @classmethod
    def of(cls, login: OidcLogin) -> dict[str, object]:
        challenge = login.challenge
        if challenge is None:
            raise ValueError("a sign-in without tokens must carry an MFA challenge")
        return {**SecondFactorRequiredOut.of(challenge), "account": login.outcome}
