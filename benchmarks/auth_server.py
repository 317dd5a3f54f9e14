"""The server under test for ``make bench-auth``: ``agora serve`` on a temporary SQLite
database, migrated and given an administrator with the ``agora`` CLI.

``settings`` name the same database and secret key, so a container built in process
(``agora.bootstrap.build_container``) verifies the tokens this server signs.
"""

from __future__ import annotations

import os
import secrets
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from agora.platform.settings import Settings
from servers import LOOPBACK, ServerProcess, free_port, run_command

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "violet-anchor-museum-tide-42"  # noqa: S105 - the benchmark's throwaway accounts
ADMIN_EMAIL = "bench-admin@example.com"
# The in-process container reads revoked sessions, account access and signing keys
# from the database at these intervals, inline on the call that finds one due; set
# beyond the measurement, so no timed call does I/O (the server polls as configured).
POLL_SECONDS = 300.0
KEY_REFRESH_SECONDS = 3_600


@dataclass
class AuthServer:
    server: ServerProcess
    settings: Settings

    @property
    def base_url(self) -> str:
        return self.server.base_url


def start(workdir: Path, workers: int) -> AuthServer:
    """Migrate, create the administrator and serve; the caller stops ``server``."""
    database_url = f"sqlite+aiosqlite:///{workdir / 'auth-bench.db'}"
    secret = secrets.token_urlsafe(48)
    port = free_port()
    env = _env(database_url, secret, port, workers)
    agora = [sys.executable, "-m", "agora.cli.main"]
    for what, args in (
        ("migrate", []),
        ("create-admin", ["--email", ADMIN_EMAIL, "--password", PASSWORD]),
    ):
        run_command(
            [*agora, what, *args],
            env=env,
            cwd=ROOT,
            log_path=workdir / f"{what}.log",
            what=f"agora {what}",
            timeout=120,
        )
    server = ServerProcess("agora", [*agora, "serve"], env, port, workdir / "serve.log", ROOT)
    server.start()
    try:
        server.wait_ready("/health/ready", expected_workers=workers if workers > 1 else 0)
    except BaseException:
        server.stop()
        raise
    settings = _settings_without_shell(
        database_url=database_url,
        secret_key=secret,
        log_level="WARNING",
        rate_limit_enabled=False,
        mfa_required_for_staff_and_admins=False,
        session_revocation_poll_seconds=POLL_SECONDS,
        signing_key_refresh_seconds=KEY_REFRESH_SECONDS,
    )
    return AuthServer(server, settings)


def _settings_without_shell(**values: Any) -> Settings:
    """Settings from ``values`` and defaults: the shell's ``AGORA_*`` variables reach
    neither the server (``_env``) nor the container in process."""
    shell = {k: os.environ.pop(k) for k in list(os.environ) if k.startswith("AGORA_")}
    try:
        return Settings(**values)
    finally:
        os.environ.update(shell)


def _env(database_url: str, secret: str, port: int, workers: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AGORA_")}
    env.update(
        AGORA_DATABASE_URL=database_url,
        AGORA_SECRET_KEY=secret,
        AGORA_HOST=LOOPBACK,
        AGORA_PORT=str(port),
        AGORA_WORKERS=str(workers),
        AGORA_ACCESS_LOG="false",
        AGORA_LOG_LEVEL="WARNING",
        # Every login comes from one address, exactly what the limits exist to stop.
        AGORA_RATE_LIMIT_ENABLED="false",
        # The administrator whose token is measured never enrols a second factor.
        AGORA_MFA_REQUIRED_FOR_STAFF_AND_ADMINS="false",
    )
    return env
