"""Test support for multi-factor authentication: an authenticator app and a clock to drive it.

``AuthenticatorApp`` computes codes with pyotp from the enrolled secret, exactly as a
phone app does. ``ManualClock`` stands in for the service's clock where a test must
step through TOTP time steps or past an expiry without waiting.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import httpx
import pyotp

from agora.platform.clock import utcnow
from tests.support.accounts import Account

ENROLL = "/api/v1/auth/mfa/totp/enroll"
CONFIRM = "/api/v1/auth/mfa/totp/confirm"
DISABLE = "/api/v1/auth/mfa/totp/disable"
STATUS = "/api/v1/auth/mfa"
LOGIN = "/api/v1/auth/login"
LOGIN_MFA = "/api/v1/auth/login/mfa"
REFRESH = "/api/v1/auth/refresh"


class ManualClock:
    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or utcnow()

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)

    def next_step(self) -> None:
        """Wait for the next code, as a person does after using one."""
        self.advance(30)


@dataclass
class AuthenticatorApp:
    secret: str
    clock: Callable[[], datetime] = utcnow

    def code(self, steps_ahead: int = 0) -> str:
        moment = self.clock() + timedelta(seconds=30 * steps_ahead)
        return pyotp.TOTP(self.secret).at(moment)


@dataclass
class MfaAccount:
    account: Account
    app: AuthenticatorApp
    recovery_codes: list[str] = field(default_factory=list)


async def enroll(client: httpx.AsyncClient, account: Account) -> dict[str, Any]:
    response = await client.post(ENROLL, headers=account.headers)
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()["data"]
    return data


async def enable_mfa(
    client: httpx.AsyncClient, account: Account, clock: Callable[[], datetime] = utcnow
) -> MfaAccount:
    """Enroll and confirm with the current code; the code's time step is then used up."""
    app = AuthenticatorApp((await enroll(client, account))["secret"], clock)
    response = await client.post(CONFIRM, json={"code": app.code()}, headers=account.headers)
    assert response.status_code == 200, response.text
    return MfaAccount(account, app, response.json()["data"]["recovery_codes"])


async def password_step(client: httpx.AsyncClient, account: Account) -> str:
    """Log in with the password; returns the MFA token the answer must carry."""
    response = await client.post(LOGIN, json={"email": account.email, "password": account.password})
    assert response.status_code == 200, response.text
    data = response.json()["data"]
    assert data["mfa_required"] is True, data
    assert "access_token" not in data
    assert "refresh_token" not in data
    token: str = data["mfa_token"]
    return token


async def code_step(client: httpx.AsyncClient, mfa_token: str, code: str) -> httpx.Response:
    return await client.post(LOGIN_MFA, json={"mfa_token": mfa_token, "code": code})
