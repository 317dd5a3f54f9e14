"""``agora create-admin``: non-interactive, prompted, promotion, and a clean weak-password error.

These tests are synchronous on purpose: the command runs its own event loop.
"""

from __future__ import annotations

import asyncio
import uuid

import pytest
from typer.testing import CliRunner

from agora.bootstrap import build_container
from agora.cli.main import app
from agora.identity.domain import User
from agora.platform.access import Role
from agora.platform.settings import Settings
from tests.support.accounts import PASSWORD


@pytest.fixture
def cli_env(migrated: str) -> dict[str, str]:
    return {
        "AGORA_DATABASE_URL": migrated,
        "AGORA_ENVIRONMENT": "test",
        "AGORA_PASSWORD_HASH_MEMORY_KIB": "1024",
        "AGORA_PASSWORD_HASH_TIME_COST": "1",
        "AGORA_LOG_LEVEL": "WARNING",
    }


def _email() -> str:
    return f"admin-{uuid.uuid4().hex[:12]}@example.com"


def _lookup(settings: Settings, email: str, password: str | None = None) -> User | None:
    async def main() -> User | None:
        container = await build_container(settings)
        try:
            identity = container.identity
            if password is not None:
                await identity.sign_in.login(email, password)
            return await identity.registration.find_by_email(email)
        finally:
            await container.close()

    return asyncio.run(main())


def test_create_admin_non_interactively(cli_env: dict[str, str], settings: Settings) -> None:
    email = _email()
    result = CliRunner().invoke(
        app,
        ["create-admin", "--email", email.upper(), "--password", PASSWORD, "--name", "Root"],
        env=cli_env,
    )
    assert result.exit_code == 0, result.output
    assert "created" in result.output
    user = _lookup(settings, email, PASSWORD)
    assert user is not None
    assert (user.role, user.name) == (Role.ADMIN, "Root")


def test_create_admin_prompts_for_a_hidden_password(
    cli_env: dict[str, str], settings: Settings
) -> None:
    email = _email()
    result = CliRunner().invoke(
        app, ["create-admin", "--email", email], input=f"{PASSWORD}\n{PASSWORD}\n", env=cli_env
    )
    assert result.exit_code == 0, result.output
    assert PASSWORD not in result.output
    user = _lookup(settings, email, PASSWORD)
    assert user is not None
    assert user.role is Role.ADMIN


def test_create_admin_promotes_an_existing_account(
    cli_env: dict[str, str], settings: Settings
) -> None:
    email = _email()
    first = CliRunner().invoke(
        app, ["create-admin", "--email", email, "--password", PASSWORD], env=cli_env
    )
    assert first.exit_code == 0, first.output

    async def demote() -> None:
        container = await build_container(settings)
        try:
            await container.identity.users.set_role(email, Role.CUSTOMER)
        finally:
            await container.close()

    asyncio.run(demote())
    result = CliRunner().invoke(
        app,
        ["create-admin", "--email", email, "--password", "a different passphrase"],
        env=cli_env,
    )
    assert result.exit_code == 0, result.output
    assert "now an administrator" in " ".join(result.output.split())  # Rich wraps lines
    user = _lookup(settings, email, PASSWORD)  # the old password still works
    assert user is not None
    assert user.role is Role.ADMIN


@pytest.mark.parametrize("password", ["short", "password1234"])
def test_create_admin_with_a_weak_password_fails_cleanly(
    cli_env: dict[str, str], settings: Settings, password: str
) -> None:
    email = _email()
    result = CliRunner().invoke(
        app, ["create-admin", "--email", email, "--password", password], env=cli_env
    )
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    assert "password" in result.output.lower()
    assert _lookup(settings, email) is None


def test_create_admin_with_a_bad_email_fails_cleanly(cli_env: dict[str, str]) -> None:
    result = CliRunner().invoke(
        app, ["create-admin", "--email", "not-an-email", "--password", PASSWORD], env=cli_env
    )
    assert result.exit_code == 1
    assert "email" in result.output.lower()
    assert "Traceback" not in result.output
