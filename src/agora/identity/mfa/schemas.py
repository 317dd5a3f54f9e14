"""Request and response shapes of the multi-factor authentication API."""

from __future__ import annotations

from pydantic import BaseModel, Field

from agora.http.schemas import RequestModel
from agora.identity.mfa.domain import MfaStatus, TotpEnrollment
from agora.identity.sessions.schemas import MFA_CODE


class MfaCodeIn(RequestModel):
    code: str = MFA_CODE


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
