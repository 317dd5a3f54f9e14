"""Every documented operation, fuzzed over real HTTP: no server errors, no off-schema answers.

Schemathesis generates requests from ``/openapi.json`` (valid and invalid ones) and
checks each response against the same document. It runs as an admin, so staff and
admin operations are exercised too, against a served platform with demo data, on the
database the suite runs on (PostgreSQL refuses text and integers SQLite takes).
``fuzz_hooks`` mixes in what the generators rarely produce: integers past 32 and 64 bits,
NUL and control characters, lone surrogates, path segments that are not UTF-8.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import postgres_database
from tests.e2e.served import Served, agora, base_env, serve

ADMIN = ("fuzz-admin@agora.example", "lantern-orchard-harbour-2026")
REPOSITORY = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def contract_database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    server = os.environ.get("AGORA_TEST_DATABASE_URL")
    if not server:
        yield f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('contract-db') / 'contract.db'}"
        return
    with postgres_database(server, "agora_contract") as url:
        yield url


@pytest.fixture(scope="module")
def served_with_admin(
    tmp_path_factory: pytest.TempPathFactory, contract_database: str
) -> Iterator[Served]:
    workdir = tmp_path_factory.mktemp("contract")
    env = base_env(contract_database, AGORA_RATE_LIMIT_ENABLED="false")
    for command in (
        ("migrate",),
        ("seed", "--products", "30"),
        ("create-admin", "--email", ADMIN[0], "--password", ADMIN[1]),
    ):
        result = agora(*command, env=env)
        assert result.returncode == 0, result.stdout + result.stderr
    with serve(env, workdir / "server.log") as running:
        yield running


# Operations that end the caller's own sessions: fuzzed last, on a session of their own,
# so that the token the other operations run with stays valid throughout.
SIGN_OUT_EVERYWHERE = ["/api/v1/auth/logout-all"]


def _admin_token(base: str) -> str:
    login = httpx.post(
        f"{base}/api/v1/auth/login", json={"email": ADMIN[0], "password": ADMIN[1]}, timeout=30
    )
    assert login.status_code == 200, login.text
    token: str = login.json()["data"]["access_token"]
    return token


def _schemathesis(base: str, token: str, cwd: Path, *selection: str) -> str:
    executable = shutil.which("schemathesis", path=str(Path(sys.executable).parent))
    assert executable, "schemathesis is installed with the test dependencies"
    result = subprocess.run(
        [
            executable,
            "run",
            f"{base}/openapi.json",
            *selection,
            "--checks",
            "not_a_server_error,response_schema_conformance",
            "--header",
            f"Authorization: Bearer {token}",
            "--max-examples",
            "20",
            "--seed",
            "20261122",
            "--workers",
            "2",
            "--phases",
            "examples,coverage,fuzzing",
            # Stated, not left to defaults: NUL bytes and any UTF-8 text in strings.
            "--generation-allow-x00",
            "true",
            "--generation-codec",
            "utf-8",
            "--no-color",
        ],
        env={
            **os.environ,
            "SCHEMATHESIS_HOOKS": "tests.e2e.fuzz_hooks",
            "PYTHONPATH": str(REPOSITORY),
        },
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
        cwd=cwd,
    )
    summary = result.stdout[-4000:]
    # On failure show the failing requests (with their reproducing curl commands) first.
    failures = result.stdout[result.stdout.find("FAILURES") :][:8000]
    assert result.returncode == 0, failures + summary
    assert "generated" in summary, summary
    assert " 0 passed" not in summary, summary
    return summary


def test_every_operation_answers_within_its_documented_schema(
    served_with_admin: Served, tmp_path: Path
) -> None:
    base = served_with_admin.base_url
    excluded = [arg for path in SIGN_OUT_EVERYWHERE for arg in ("--exclude-path", path)]
    _schemathesis(base, _admin_token(base), tmp_path, *excluded)
    included = [arg for path in SIGN_OUT_EVERYWHERE for arg in ("--include-path", path)]
    _schemathesis(base, _admin_token(base), tmp_path, *included)
