"""The README's command-line walk-through, run as written against a served shop.

Every ``bash`` block between ``<!-- walkthrough:start -->`` and ``<!-- walkthrough:end -->``
in README.md, concatenated in order, runs with ``bash -euo pipefail`` against
``agora serve`` on a fresh database migrated and seeded as ``make run`` leaves it, on the
database the suite runs on. The walk-through's ``curl`` fails on any 4xx or 5xx answer,
so a step that drifts from the API stops the script.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import postgres_database
from tests.e2e.served import Served, agora, base_env, serve

README = Path(__file__).resolve().parents[2] / "README.md"
_BASH_BLOCK = re.compile(r"^```bash\n(.*?)^```$", re.MULTILINE | re.DOTALL)
TOOLS = ("bash", "curl", "jq", "python3")


def walkthrough_script() -> str:
    text = README.read_text(encoding="utf-8")
    start = text.index("<!-- walkthrough:start -->")
    end = text.index("<!-- walkthrough:end -->", start)
    blocks = _BASH_BLOCK.findall(text[start:end])
    assert len(blocks) >= 5, "the walk-through lost its shell blocks"
    return "\n".join(blocks)


@pytest.fixture(scope="module")
def shop_database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    server = os.environ.get("AGORA_TEST_DATABASE_URL")
    if not server:
        yield f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('readme-db') / 'agora.db'}"
        return
    with postgres_database(server, "agora_readme") as url:
        yield url


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory, shop_database: str) -> Iterator[Served]:
    """``make run``: migrate, seed the demo shop when empty, serve."""
    workdir = tmp_path_factory.mktemp("readme-shop")
    env = base_env(shop_database)
    for command in (("migrate",), ("seed", "--if-empty")):
        result = agora(*command, env=env)
        assert result.returncode == 0, result.stdout + result.stderr
    with serve(env, workdir / "server.log") as running:
        yield running


def _require_tools() -> None:
    missing = [tool for tool in TOOLS if shutil.which(tool) is None]
    if not missing:
        return
    message = f"the README walk-through needs {', '.join(missing)} (see its prerequisites)"
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


def test_the_readme_walkthrough_runs_top_to_bottom_against_a_served_shop(
    shop: Served, tmp_path: Path
) -> None:
    _require_tools()
    # The walk-through calls .venv/bin/agora from the repository root. A scratch directory
    # stands in for the root (so no developer's .env is read), its agora this interpreter's.
    agora_command = tmp_path / ".venv" / "bin" / "agora"
    agora_command.parent.mkdir(parents=True)
    agora_command.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m agora.cli.main "$@"\n')
    agora_command.chmod(0o755)
    script = tmp_path / "walkthrough.sh"
    script.write_text(walkthrough_script(), encoding="utf-8")

    result = subprocess.run(
        ["bash", "-euo", "pipefail", str(script)],
        cwd=tmp_path,
        env={**shop.env, "AGORA_URL": shop.base_url},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    assert '"status": "paid"' in out, "the order was placed and paid"
    assert '"fulfilled"\n"shipped"\n"delivered"\n' in out, "staff moved the order on"
    assert out.count('"admin@example.com"') == 2, "the API key acted as its owner, both ways"
    assert '"action": "auth.login"' in out, "the audit trail shows the logins"
    assert "Ada's phone" in out, "the second session was listed"
    remaining = json.loads(out.rstrip().splitlines()[-1])
    assert len(remaining) == 1, "the phone's session ended"
    assert remaining[0].startswith("curl/"), "the walk-through's own session is left"

    with httpx.Client(base_url=shop.base_url, timeout=30) as http:
        login = http.post(
            "/api/v1/auth/login",
            json={"email": "ada@example.com", "password": "quartz-meadow-lantern-ferry"},
        )
        assert login.status_code == 200, "the reset password works"
        assert "access_token" in login.json()["data"], "MFA was turned off again"
        orders = http.get(
            "/api/v1/orders",
            headers={"Authorization": f"Bearer {login.json()['data']['access_token']}"},
        ).json()["data"]
        assert [order["status"] for order in orders] == ["delivered"]
