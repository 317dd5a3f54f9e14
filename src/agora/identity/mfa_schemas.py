"""Request and response shapes of the multi-factor authentication API."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from agora.http.schemas import RequestModel
from agora.identity.second_factor import MfaStatus, SecondFactorRequired, TotpEnrollment

# Long enough for a recovery code typed with spaces and dashes; the service decides
# whether it is a TOTP or a recovery code, and whether it is right.
_Code = Field(
    min_length=1,
    max_length=64,
    description="A 6-digit code from the authenticator app, or an unused recovery code.",
    examples=["123456"],
)


class MfaCodeIn(RequestModel):
    code: str = _Code


class MfaLoginIn(RequestModel):
    mfa_token: str = Field(
        min_length=1, max_length=200, description="The token from POST /api/v1/auth/login."
    )
    code: str = _Code


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


class TotpEnrollmentOut(BaseModel):
    secret: str = Field(description="Base32 secret, for typing into an app by hand.")
    otpauth_uri: str = Field(description="The otpauth:// URI the QR code holds.")
    qr_svg: str = Field(description="The QR code as an SVG document.")

    @classmethod
    def of(cls, enrollment: TotpEnrollment) -> dict[str, object]:
        return {
            "secret": enrollment.secret,
            "otpauth_uri": enrollment.otpauth_uri,
            "qr_svg": enrollment.qr_svg,
        }


class RecoveryCodesOut(BaseModel):
    recovery_codes: list[str] = Field(
        description="Ten single-use codes; shown this once, store them somewhere safe."
    )


class MfaStatusOut(BaseModel):
    enabled: bool
    pending: bool = Field(description="Enrolled but not yet confirmed with a first code.")
    recovery_codes_left: int

    @classmethod
    def of(cls, status: MfaStatus) -> dict[str, object]:
        return {
            "enabled": status.enabled,
            "pending": status.pending,
            "recovery_codes_left": status.recovery_codes_left,
        }
