"""Multi-factor authentication through the API, with pyotp playing the authenticator app.

Enrollment and confirmation, the two-step login, refresh keeping the second factor,
disable, and what must be refused: wrong, replayed and spent codes, expired, reused and
foreign MFA tokens, and concurrent uses of one code or token.
"""

from __future__ import annotations

import asyncio
import re
from typing import Any

import httpx
import jwt
import pytest

from agora.bootstrap import Container
from agora.identity.mfa.services import MfaService
from tests.fakes import RecordingAuditTrail
from tests.support.accounts import Account, login, register_customer
from tests.support.mfa import (
    CONFIRM,
    DISABLE,
    ENROLL,
    LOGIN,
    REFRESH,
    STATUS,
    AuthenticatorApp,
    ManualClock,
    MfaAccount,
    code_step,
    enable_mfa,
    enroll,
    password_step,
)

pytestmark = pytest.mark.anyio

_RECOVERY_CODE = re.compile(r"^[A-HJ-NP-Z2-9]{4}(-[A-HJ-NP-Z2-9]{4}){3}$")


@pytest.fixture
def mfa_service(container: Container) -> MfaService:
    return container.identity.mfa


@pytest.fixture
def clock(container: Container, monkeypatch: pytest.MonkeyPatch) -> ManualClock:
    """One manual time for both steps of an MFA login: the challenge and its completion."""
    manual = ManualClock()
    monkeypatch.setattr(container.identity.challenges, "clock", manual)
    monkeypatch.setattr(container.identity.mfa, "clock", manual)
    return manual


@pytest.fixture
def audit(container: Container, monkeypatch: pytest.MonkeyPatch) -> RecordingAuditTrail:
    """What MFA's services and the sign-in (which opens the MFA session) record."""
    recording = RecordingAuditTrail()
    identity = container.identity
    for service in (identity.mfa, identity.challenges, identity.sign_in):
        monkeypatch.setattr(service, "audit", recording)
    return recording


@pytest.fixture
async def with_mfa(client: httpx.AsyncClient, customer: Account, clock: ManualClock) -> MfaAccount:
    enabled = await enable_mfa(client, customer, clock)
    clock.next_step()
    return enabled


def _amr(access_token: str) -> list[str]:
    claims: dict[str, Any] = jwt.decode(access_token, options={"verify_signature": False})
    amr: list[str] = claims["amr"]
    return amr


def _error(response: httpx.Response) -> str:
    code: str = response.json()["errors"]["code"]
    return code


# -- enroll and confirm -----------------------------------------------------------------


async def test_enroll_answers_a_secret_an_otpauth_uri_and_a_qr_code(
    client: httpx.AsyncClient, customer: Account
) -> None:
    response = await client.post(ENROLL, headers=customer.headers)

    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    data = response.json()["data"]
    assert re.fullmatch(r"[A-Z2-7]{32}", data["secret"])
    uri = data["otpauth_uri"]
    assert uri.startswith("otpauth://totp/Agora:")
    assert customer.email.replace("@", "%40") in uri
    assert f"secret={data['secret']}" in uri
    assert "issuer=Agora" in uri
    assert data["qr_svg"].startswith("<svg")
    assert data["qr_svg"].rstrip().endswith("</svg>")


async def test_enroll_needs_a_signed_in_user(client: httpx.AsyncClient) -> None:
    response = await client.post(ENROLL)
    assert response.status_code == 401


async def test_confirm_with_the_first_code_enables_mfa_and_answers_ten_recovery_codes(
    client: httpx.AsyncClient, customer: Account, audit: RecordingAuditTrail
) -> None:
    app = AuthenticatorApp((await enroll(client, customer))["secret"])

    response = await client.post(CONFIRM, json={"code": app.code()}, headers=customer.headers)

    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    codes = response.json()["data"]["recovery_codes"]
    assert len(codes) == 10
    assert len(set(codes)) == 10
    assert all(_RECOVERY_CODE.match(code) for code in codes), codes
    status = (await client.get(STATUS, headers=customer.headers)).json()["data"]
    assert status == {"enabled": True, "pending": False, "recovery_codes_left": 10}
    assert ("mfa.enrolled", "success") in audit.actions()


async def test_a_wrong_first_code_enables_nothing(
    client: httpx.AsyncClient, customer: Account
) -> None:
    app = AuthenticatorApp((await enroll(client, customer))["secret"])
    wrong = f"{(int(app.code()) + 1) % 1_000_000:06d}"

    response = await client.post(CONFIRM, json={"code": wrong}, headers=customer.headers)

    assert response.status_code == 422
    assert _error(response) == "INVALID_MFA_CODE"
    assert response.json()["errors"]["details"]["field"] == "code"
    status = (await client.get(STATUS, headers=customer.headers)).json()["data"]
    assert status == {"enabled": False, "pending": True, "recovery_codes_left": 0}
    tokens = await login(client, customer.email, customer.password)
    assert "access_token" in tokens
    assert "mfa_required" not in tokens


@pytest.mark.parametrize("code", ["", "12345", "1234567", "abcdef", "x" * 65])
async def test_a_malformed_code_is_refused(
    client: httpx.AsyncClient, customer: Account, code: str
) -> None:
    await enroll(client, customer)
    response = await client.post(CONFIRM, json={"code": code}, headers=customer.headers)
    assert response.status_code == 422


async def test_confirm_without_an_enrollment_is_a_conflict(
    client: httpx.AsyncClient, customer: Account
) -> None:
    response = await client.post(CONFIRM, json={"code": "123456"}, headers=customer.headers)
    assert response.status_code == 409
    assert _error(response) == "MFA_ENROLLMENT_NOT_STARTED"


async def test_enrolling_again_before_confirming_replaces_the_secret(
    client: httpx.AsyncClient, customer: Account
) -> None:
    first = AuthenticatorApp((await enroll(client, customer))["secret"])
    second = AuthenticatorApp((await enroll(client, customer))["secret"])
    assert first.secret != second.secret

    stale = await client.post(CONFIRM, json={"code": first.code()}, headers=customer.headers)
    fresh = await client.post(CONFIRM, json={"code": second.code()}, headers=customer.headers)

    assert stale.status_code == 422
    assert fresh.status_code == 200, fresh.text


async def test_enrolling_while_mfa_is_on_is_a_conflict(
    client: httpx.AsyncClient, with_mfa: MfaAccount
) -> None:
    account = with_mfa.account
    response = await client.post(ENROLL, headers=account.headers)
    assert response.status_code == 409
    assert _error(response) == "MFA_ALREADY_ENABLED"
    again = await client.post(CONFIRM, json={"code": "123456"}, headers=account.headers)
    assert again.status_code == 409


# -- login --------------------------------------------------------------------------------


async def test_login_without_mfa_keeps_the_token_shape(
    client: httpx.AsyncClient, customer: Account
) -> None:
    data = await login(client, customer.email, customer.password)
    assert set(data) == {"access_token", "refresh_token", "token_type", "expires_in"}
    assert _amr(str(data["access_token"])) == ["pwd"]


async def test_login_with_mfa_is_two_steps_and_the_session_keeps_its_second_factor(
    client: httpx.AsyncClient, with_mfa: MfaAccount, audit: RecordingAuditTrail
) -> None:
    response = await client.post(
        LOGIN, json={"email": with_mfa.account.email, "password": with_mfa.account.password}
    )
    assert response.status_code == 200
    data = response.json()["data"]
    assert set(data) == {"mfa_required", "mfa_token", "expires_in"}
    assert data["mfa_required"] is True
    assert data["expires_in"] == 300
    assert response.headers["cache-control"] == "no-store"

    second = await code_step(client, data["mfa_token"], with_mfa.app.code())

    assert second.status_code == 200, second.text
    assert second.headers["cache-control"] == "no-store"
    tokens = second.json()["data"]
    assert _amr(tokens["access_token"]) == ["pwd", "otp"]
    profile = await client.get(
        "/api/v1/auth/profile", headers={"Authorization": f"Bearer {tokens['access_token']}"}
    )
    assert profile.status_code == 200
    assert profile.json()["data"]["email"] == with_mfa.account.email
    # Rotation carries the second factor on, refresh after refresh.
    refresh_token = tokens["refresh_token"]
    for _ in range(2):
        rotated = await client.post(REFRESH, json={"refresh_token": refresh_token})
        assert rotated.status_code == 200, rotated.text
        assert _amr(rotated.json()["data"]["access_token"]) == ["pwd", "otp"]
        refresh_token = rotated.json()["data"]["refresh_token"]
    assert ("auth.login", "success") in audit.actions()


async def test_a_wrong_password_says_nothing_about_mfa(
    client: httpx.AsyncClient, with_mfa: MfaAccount
) -> None:
    response = await client.post(
        LOGIN, json={"email": with_mfa.account.email, "password": "not-the-password-at-all"}
    )
    assert response.status_code == 401
    assert _error(response) == "INVALID_CREDENTIALS"
    assert "mfa" not in response.text


async def test_a_wrong_code_is_401_and_leaves_the_token_usable(
    client: httpx.AsyncClient, with_mfa: MfaAccount, audit: RecordingAuditTrail
) -> None:
    token = await password_step(client, with_mfa.account)
    wrong = f"{(int(with_mfa.app.code()) + 1) % 1_000_000:06d}"

    refused = await code_step(client, token, wrong)

    assert refused.status_code == 401
    assert _error(refused) == "INVALID_MFA_CODE"
    assert refused.json()["errors"]["details"]["attempts_left"] == 4
    assert "access_token" not in refused.text
    assert ("auth.login", "failure") in audit.actions()
    assert audit.records[-1]["details"] == {"reason": "invalid_second_factor"}
    accepted = await code_step(client, token, with_mfa.app.code())
    assert accepted.status_code == 200, accepted.text


async def test_five_wrong_codes_use_the_token_up(
    client: httpx.AsyncClient, with_mfa: MfaAccount
) -> None:
    token = await password_step(client, with_mfa.account)
    for left in range(4, -1, -1):
        refused = await code_step(client, token, "000000")
        assert refused.status_code == 401
        assert refused.json()["errors"]["details"]["attempts_left"] == left

    response = await code_step(client, token, with_mfa.app.code())

    assert response.status_code == 401
    assert _error(response) == "INVALID_MFA_TOKEN"


async def test_an_expired_mfa_token_is_refused(
    client: httpx.AsyncClient, with_mfa: MfaAccount, clock: ManualClock
) -> None:
    token = await password_step(client, with_mfa.account)
    clock.advance(301)

    response = await code_step(client, token, with_mfa.app.code())

    assert response.status_code == 401
    assert _error(response) == "INVALID_MFA_TOKEN"
    assert "log in again" in response.json()["errors"]["message"]


async def test_an_mfa_token_works_once(
    client: httpx.AsyncClient, with_mfa: MfaAccount, clock: ManualClock
) -> None:
    token = await password_step(client, with_mfa.account)
    assert (await code_step(client, token, with_mfa.app.code())).status_code == 200
    clock.next_step()

    again = await code_step(client, token, with_mfa.app.code())

    assert again.status_code == 401
    assert _error(again) == "INVALID_MFA_TOKEN"


async def test_an_unknown_mfa_token_is_refused(client: httpx.AsyncClient) -> None:
    response = await code_step(client, "not-a-token", "123456")
    assert response.status_code == 401
    assert _error(response) == "INVALID_MFA_TOKEN"


async def test_one_mfa_token_used_twice_at_once_opens_one_session(
    client: httpx.AsyncClient, with_mfa: MfaAccount
) -> None:
    token = await password_step(client, with_mfa.account)
    # Two different valid codes (this step's and the next), so only the token is shared.
    first, second = await asyncio.gather(
        code_step(client, token, with_mfa.app.code()),
        code_step(client, token, with_mfa.app.code(steps_ahead=1)),
    )
    assert sorted([first.status_code, second.status_code]) == [200, 401]


async def test_a_used_code_is_refused_when_presented_again(
    client: httpx.AsyncClient, with_mfa: MfaAccount, clock: ManualClock
) -> None:
    code = with_mfa.app.code()
    assert (await code_step(client, await password_step(client, with_mfa.account), code)).is_success

    token = await password_step(client, with_mfa.account)
    replayed = await code_step(client, token, code)

    assert replayed.status_code == 401
    assert _error(replayed) == "INVALID_MFA_CODE"
    # The previous step's code is older than the one used: refused as well.
    older = await code_step(client, token, with_mfa.app.code(steps_ahead=-1))
    assert older.status_code == 401
    clock.next_step()
    fresh = await code_step(client, token, with_mfa.app.code())
    assert fresh.status_code == 200, fresh.text


async def test_one_code_used_twice_at_once_works_once(
    client: httpx.AsyncClient, with_mfa: MfaAccount
) -> None:
    tokens = [await password_step(client, with_mfa.account) for _ in range(2)]
    code = with_mfa.app.code()

    results = await asyncio.gather(*(code_step(client, t, code) for t in tokens))

    assert sorted(r.status_code for r in results) == [200, 401]


async def test_codes_within_one_step_of_drift_are_accepted(
    client: httpx.AsyncClient, with_mfa: MfaAccount, clock: ManualClock
) -> None:
    # A phone clock running 30 s fast: its code is for the next step.
    ahead = await code_step(
        client, await password_step(client, with_mfa.account), with_mfa.app.code(steps_ahead=1)
    )
    assert ahead.status_code == 200, ahead.text
    clock.advance(90)
    # Running 30 s slow: the previous step's code.
    behind = await code_step(
        client, await password_step(client, with_mfa.account), with_mfa.app.code(steps_ahead=-1)
    )
    assert behind.status_code == 200, behind.text
    clock.advance(90)
    too_far = await code_step(
        client, await password_step(client, with_mfa.account), with_mfa.app.code(steps_ahead=2)
    )
    assert too_far.status_code == 401


async def test_another_users_mfa_token_does_not_take_my_code(
    client: httpx.AsyncClient, clock: ManualClock
) -> None:
    mine = await enable_mfa(client, await register_customer(client), clock)
    theirs = await enable_mfa(client, await register_customer(client), clock)
    clock.next_step()
    my_token = await password_step(client, mine.account)

    # Someone who knows their own code cannot finish the login my password started.
    hijack = await code_step(client, my_token, theirs.app.code())
    hijack_recovery = await code_step(client, my_token, theirs.recovery_codes[0])

    assert hijack.status_code == 401
    assert hijack_recovery.status_code == 401
    completed = await code_step(client, my_token, mine.app.code())
    assert completed.status_code == 200
    access = completed.json()["data"]["access_token"]
    profile = await client.get(
        "/api/v1/auth/profile", headers={"Authorization": f"Bearer {access}"}
    )
    assert profile.json()["data"]["email"] == mine.account.email


# -- recovery codes -----------------------------------------------------------------------


async def test_a_recovery_code_logs_in_once(
    client: httpx.AsyncClient, with_mfa: MfaAccount, audit: RecordingAuditTrail
) -> None:
    code = with_mfa.recovery_codes[0]
    # Typed the way people type: lower case, with spaces instead of dashes.
    typed = code.lower().replace("-", " ")

    first = await code_step(client, await password_step(client, with_mfa.account), typed)
    second = await code_step(client, await password_step(client, with_mfa.account), code)

    assert first.status_code == 200, first.text
    assert _amr(first.json()["data"]["access_token"]) == ["pwd", "otp"]
    assert second.status_code == 401
    assert _error(second) == "INVALID_MFA_CODE"
    status = (await client.get(STATUS, headers=with_mfa.account.headers)).json()["data"]
    assert status["recovery_codes_left"] == 9
    used = [r for r in audit.records if r["action"] == "mfa.recovery_code_used"]
    assert len(used) == 1
    assert used[0]["details"] == {"recovery_codes_left": 9}


async def test_one_recovery_code_used_twice_at_once_works_once(
    client: httpx.AsyncClient, with_mfa: MfaAccount
) -> None:
    tokens = [await password_step(client, with_mfa.account) for _ in range(2)]
    code = with_mfa.recovery_codes[3]

    results = await asyncio.gather(*(code_step(client, t, code) for t in tokens))

    assert sorted(r.status_code for r in results) == [200, 401]


# -- lockout ------------------------------------------------------------------------------


async def test_ten_wrong_codes_in_a_row_lock_the_second_factor_for_a_while(
    client: httpx.AsyncClient, with_mfa: MfaAccount, clock: ManualClock
) -> None:
    for _ in range(2):
        token = await password_step(client, with_mfa.account)
        for _ in range(5):
            assert (await code_step(client, token, "000000")).status_code == 401

    token = await password_step(client, with_mfa.account)
    locked = await code_step(client, token, with_mfa.app.code())

    assert locked.status_code == 429
    assert _error(locked) == "MFA_LOCKED"
    assert 0 < int(locked.headers["retry-after"]) <= 900
    clock.advance(901)
    unlocked = await code_step(
        client, await password_step(client, with_mfa.account), with_mfa.app.code()
    )
    assert unlocked.status_code == 200, unlocked.text


# -- disable ------------------------------------------------------------------------------


async def test_disable_with_a_code_turns_mfa_off_and_deletes_the_recovery_codes(
    client: httpx.AsyncClient, with_mfa: MfaAccount, audit: RecordingAuditTrail
) -> None:
    account = with_mfa.account

    response = await client.post(
        DISABLE, json={"code": with_mfa.app.code()}, headers=account.headers
    )

    assert response.status_code == 204
    assert ("mfa.disabled", "success") in audit.actions()
    status = (await client.get(STATUS, headers=account.headers)).json()["data"]
    assert status == {"enabled": False, "pending": False, "recovery_codes_left": 0}
    tokens = await login(client, account.email, account.password)
    assert "access_token" in tokens
    # Enrolling again starts from scratch, old recovery codes included.
    enabled = await enable_mfa(client, account)
    assert set(enabled.recovery_codes).isdisjoint(with_mfa.recovery_codes)


async def test_disable_with_a_recovery_code(
    client: httpx.AsyncClient, with_mfa: MfaAccount
) -> None:
    response = await client.post(
        DISABLE, json={"code": with_mfa.recovery_codes[-1]}, headers=with_mfa.account.headers
    )
    assert response.status_code == 204


async def test_disable_with_a_wrong_code_changes_nothing(
    client: httpx.AsyncClient, with_mfa: MfaAccount, audit: RecordingAuditTrail
) -> None:
    account = with_mfa.account

    response = await client.post(DISABLE, json={"code": "000000"}, headers=account.headers)

    assert response.status_code == 422
    assert _error(response) == "INVALID_MFA_CODE"
    assert ("mfa.disabled", "failure") in audit.actions()
    assert (await client.get(STATUS, headers=account.headers)).json()["data"]["enabled"] is True
    await password_step(client, account)


async def test_disable_without_mfa_is_a_conflict(
    client: httpx.AsyncClient, customer: Account
) -> None:
    response = await client.post(DISABLE, json={"code": "123456"}, headers=customer.headers)
    assert response.status_code == 409
    assert _error(response) == "MFA_NOT_ENABLED"
