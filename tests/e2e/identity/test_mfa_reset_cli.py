"""``agora mfa reset``: an operator removes a lost authenticator and ends the sessions.

Synchronous on purpose: the command runs its own event loop.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

import pyotp
import pytest
from typer.testing import CliRunner

from agora.bootstrap import Container, build_container
from agora.cli.main import app
from agora.identity.mfa.domain import InvalidMfaTokenError
from agora.identity.sessions.domain import InvalidRefreshTokenError, SecondFactorRequired, TokenPair
from agora.platform.access import Principal, Role
from agora.platform.settings import Settings
from tests.support.accounts import PASSWORD, unique_email

T = TypeVar("T")


@pytest.fixture
def cli_env(migrated: str) -> dict[str, str]:
    return {
        "AGORA_DATABASE_URL": migrated,
        "AGORA_ENVIRONMENT": "test",
        "AGORA_PASSWORD_HASH_MEMORY_KIB": "1024",
        "AGORA_PASSWORD_HASH_TIME_COST": "1",
        "AGORA_LOG_LEVEL": "WARNING",
    }


def _run(settings: Settings, work: Callable[[Container], Awaitable[T]]) -> T:
    async def main() -> T:
        container = await build_container(settings)
        try:
            return await work(container)
        finally:
            await container.close()

    return asyncio.run(main())


def _user_with_mfa(settings: Settings) -> tuple[str, str]:
    """A user with MFA on, and the MFA token of a login waiting for its second step."""

    async def work(container: Container) -> tuple[str, str]:
        identity = container.identity
        mfa = container.identity.mfa
        user = await identity.registration.create_user(
            email=unique_email("lost"), password=PASSWORD, name="Lost Phone", role=Role.STAFF
        )
        principal = Principal.for_user(user.id, user.role)
        totp = pyotp.TOTP((await mfa.enroll(principal)).secret)
        await mfa.confirm(principal, totp.now())
        challenge = await identity.sign_in.login(user.email, PASSWORD)
        assert isinstance(challenge, SecondFactorRequired)
        return user.email, challenge.mfa_token

    return _run(settings, work)


def test_reset_removes_mfa_and_ends_every_session(
    cli_env: dict[str, str], settings: Settings
) -> None:
    email, pending_token = _user_with_mfa(settings)

    result = CliRunner().invoke(app, ["mfa", "reset", email.upper(), "--yes"], env=cli_env)

    assert result.exit_code == 0, result.output
    assert "removed" in result.output

    async def after(container: Container) -> None:
        identity = container.identity
        # The password alone signs in again, so the person can enroll a new phone.
        assert isinstance(await identity.sign_in.login(email, PASSWORD), TokenPair)
        # A second step begun before the reset cannot be finished.
        with pytest.raises(InvalidMfaTokenError):
            await identity.sign_in.complete_second_factor(pending_token, "123456")

    _run(settings, after)


def test_reset_ends_sessions_opened_before(cli_env: dict[str, str], settings: Settings) -> None:
    async def session(container: Container) -> tuple[str, str]:
        identity = container.identity
        user = await identity.registration.create_user(
            email=unique_email("sessions"), password=PASSWORD, name="Has Sessions", role=Role.ADMIN
        )
        pair = await identity.sign_in.login(user.email, PASSWORD)
        assert isinstance(pair, TokenPair)
        return user.email, pair.refresh_token

    email, refresh_token = _run(settings, session)

    result = CliRunner().invoke(app, ["mfa", "reset", email, "--yes"], env=cli_env)

    assert result.exit_code == 0, result.output
    assert "had no authenticator" in " ".join(result.output.split())

    async def refresh(container: Container) -> None:
        with pytest.raises(InvalidRefreshTokenError):
            await container.identity.sign_in.refresh(refresh_token)

    _run(settings, refresh)


def test_reset_asks_first_and_a_no_changes_nothing(
    cli_env: dict[str, str], settings: Settings
) -> None:
    email, _ = _user_with_mfa(settings)

    result = CliRunner().invoke(app, ["mfa", "reset", email], input="n\n", env=cli_env)

    assert result.exit_code == 1
    assert "Aborted" in result.output

    async def login(container: Container) -> object:
        return await container.identity.sign_in.login(email, PASSWORD)

    assert isinstance(_run(settings, login), SecondFactorRequired)


def test_reset_of_an_unknown_email_fails_cleanly(cli_env: dict[str, str]) -> None:
    result = CliRunner().invoke(app, ["mfa", "reset", unique_email("nobody"), "--yes"], env=cli_env)
    assert result.exit_code == 1
    assert "No user has this email address" in result.output
    assert "Traceback" not in result.output
