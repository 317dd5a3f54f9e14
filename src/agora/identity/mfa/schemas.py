"""Request and response shapes of the multi-factor authentication API."""

from __future__ import annotations

from pydantic import BaseModel, Field

from agora.http.schemas import RequestModel, ResponseModel
from agora.identity.sessions.schemas import MFA_CODE


class MfaCodeIn(RequestModel):
    code: str = MFA_CODE


class TotpEnrollmentOut(ResponseModel):
    secret: str = Field(description="Base32 secret, for typing into an app by hand.")
    otpauth_uri: str = Field(description="The otpauth:// URI the QR code holds.")
    qr_svg: str = Field(description="The QR code as an SVG document.")


class RecoveryCodesOut(BaseModel):
    recovery_codes: list[str] = Field(
        description="Ten single-use codes; shown this once, store them somewhere safe."
    )


class MfaStatusOut(ResponseModel):
    enabled: bool
    pending: bool = Field(description="Enrolled but not yet confirmed with a first code.")
    recovery_codes_left: int
