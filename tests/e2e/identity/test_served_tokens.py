"""Two real ``agora serve`` processes on one database, and the ``agora keys`` command.

What one process does (a logout, a key rotation by the CLI) must reach the other
without a restart: revocations within the poll interval, a new key as soon as a token
signed with it arrives, a dropped key within the key refresh interval.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import httpx
import jwt
import pytest

from tests.e2e.served import Served, agora, base_env, serve

pytestmark = pytest.mark.slow

PASSWORD = "violet-anchor-museum-tide-42"


@dataclass(frozen=True)
class Pair:
    first: Served  # re-reads the keys every 5 seconds
    second: Served  # re-reads the keys only when it meets an unknown kid


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pair]:
    workdir = tmp_path_factory.mktemp("served-tokens")
    env = base_env(
        f"sqlite+aiosqlite:///{workdir / 'tokens.db'}",
        AGORA_SESSION_REVOCATION_POLL_SECONDS="0.5",
    )
    migrated = agora("migrate", env=env)
    assert migrated.returncode == 0, migrated.stderr
    first_env = {**env, "AGORA_SIGNING_KEY_REFRESH_SECONDS": "5"}
    second_env = {**env, "AGORA_SIGNING_KEY_REFRESH_SECONDS": "3600"}
    with (
        serve(first_env, workdir / "first.log") as first,
        serve(second_env, workdir / "second.log") as second,
    ):
        yield Pair(first, second)


def _sign_up(served: Served) -> dict[str, str]:
    email = f"served-{uuid.uuid4().hex[:12]}@example.com"
    registered = httpx.post(
        f"{served.base_url}/api/v1/auth/register",
        json={"email": email, "password": PASSWORD, "name": "Served"},
        timeout=30,
    )
    assert registered.status_code == 201, registered.text
    return _login(served, email)


def _login(served: Served, email: str) -> dict[str, str]:
    response = httpx.post(
        f"{served.base_url}/api/v1/auth/login",
        json={"email": email, "password": PASSWORD},
        timeout=30,
    )
    assert response.status_code == 200, response.text
    data: dict[str, str] = response.json()["data"]
    data["email"] = email
    return data


def _profile_status(served: Served, token: str) -> int:
    response = httpx.get(
        f"{served.base_url}/api/v1/auth/profile",
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    )
    return response.status_code


def _kid(token: str) -> str:
    return str(jwt.get_unverified_header(token)["kid"])


def _eventually(check: Callable[[], bool], within: float) -> float:
    """Seconds until ``check`` held; fails after ``within`` seconds."""
    started = time.monotonic()
    while not check():
        assert time.monotonic() - started < within, f"not within {within}s"
        time.sleep(0.1)
    return time.monotonic() - started


def test_a_logout_in_one_process_stops_the_access_token_in_the_other(pair: Pair) -> None:
    tokens = _sign_up(pair.first)
    assert _profile_status(pair.second, tokens["access_token"]) == 200
    logout = httpx.post(
        f"{pair.first.base_url}/api/v1/auth/logout",
        json={"refresh_token": tokens["refresh_token"]},
        timeout=30,
    )
    assert logout.status_code == 204
    assert _profile_status(pair.first, tokens["access_token"]) == 401  # at once, here
    _eventually(lambda: _profile_status(pair.second, tokens["access_token"]) == 401, within=5)


def test_logout_all_in_one_process_reaches_every_session_in_the_other(pair: Pair) -> None:
    phone = _sign_up(pair.first)
    laptop = _login(pair.second, phone["email"])
    response = httpx.post(
        f"{pair.second.base_url}/api/v1/auth/logout-all",
        headers={"Authorization": f"Bearer {laptop['access_token']}"},
        timeout=30,
    )
    assert response.status_code == 204
    _eventually(lambda: _profile_status(pair.first, phone["access_token"]) == 401, within=5)
    _eventually(lambda: _profile_status(pair.first, laptop["access_token"]) == 401, within=5)


def test_a_rotation_by_the_cli_reaches_both_processes_without_a_restart(pair: Pair) -> None:
    old = _sign_up(pair.first)
    before = _kid(old["access_token"])
    rotated = agora("keys", "rotate", env=pair.first.env)
    assert rotated.returncode == 0, rotated.stderr
    assert "new active signing key" in rotated.stderr
    listed = agora("keys", "list", env=pair.first.env)
    assert listed.returncode == 0, listed.stderr
    states = {line.split()[0]: line.split()[1] for line in listed.stdout.splitlines()[1:]}
    assert states[before] == "verifying"
    [after] = [kid for kid, state in states.items() if state == "active"]

    # Old tokens keep working everywhere until they expire.
    assert _profile_status(pair.first, old["access_token"]) == 200
    assert _profile_status(pair.second, old["access_token"]) == 200

    # The first process signs with the new key after its next re-read (every 5 s) ...
    fresh: dict[str, str] = {}

    def signs_with_new_key() -> bool:
        fresh.update(_login(pair.first, old["email"]))
        return _kid(fresh["access_token"]) == after

    _eventually(signs_with_new_key, within=10)
    # ... and the second, which would re-read only in an hour, accepts the new kid at once.
    assert _profile_status(pair.second, fresh["access_token"]) == 200
    jwks = httpx.get(f"{pair.second.base_url}/.well-known/jwks.json", timeout=30).json()
    assert {before, after} <= {k["kid"] for k in jwks["keys"]}


def test_dropping_a_leaked_key_refuses_its_tokens_within_the_refresh_interval(
    pair: Pair,
) -> None:
    leaked = _sign_up(pair.first)
    leaked_kid = _kid(leaked["access_token"])
    dropped = agora("keys", "rotate", "--drop-previous", env=pair.first.env)
    assert dropped.returncode == 0, dropped.stderr
    assert f"dropped {leaked_kid}" in dropped.stderr
    _eventually(lambda: _profile_status(pair.first, leaked["access_token"]) == 401, within=10)
    # The session itself is fine: a refresh brings a token signed with the new key.
    refreshed = httpx.post(
        f"{pair.first.base_url}/api/v1/auth/refresh",
        json={"refresh_token": leaked["refresh_token"]},
        timeout=30,
    )
    assert refreshed.status_code == 200
    token = refreshed.json()["data"]["access_token"]
    assert _kid(token) != leaked_kid
    assert _profile_status(pair.first, token) == 200
    jwks = httpx.get(f"{pair.first.base_url}/.well-known/jwks.json", timeout=30).json()
    assert leaked_kid not in {k["kid"] for k in jwks["keys"]}


def test_a_demotion_in_one_process_reaches_the_staff_token_in_the_other(pair: Pair) -> None:
    admin_email = f"served-admin-{uuid.uuid4().hex[:12]}@example.com"
    created = agora(
        "create-admin", "--email", admin_email, "--password", PASSWORD, env=pair.first.env
    )
    assert created.returncode == 0, created.stderr
    admin = {"Authorization": f"Bearer {_login(pair.first, admin_email)['access_token']}"}
    user_id = httpx.get(
        f"{pair.first.base_url}/api/v1/auth/profile",
        headers={"Authorization": f"Bearer {_sign_up(pair.first)['access_token']}"},
        timeout=30,
    ).json()["data"]
    promoted = httpx.patch(
        f"{pair.first.base_url}/api/v1/users/{user_id['id']}",
        json={"role": "staff"},
        headers=admin,
        timeout=30,
    )
    assert promoted.status_code == 200, promoted.text
    staff_token = _login(pair.first, user_id["email"])["access_token"]

    def staff_route(served: Served) -> int:
        return httpx.get(
            f"{served.base_url}/api/v1/products?include_unpublished=true",
            headers={"Authorization": f"Bearer {staff_token}"},
            timeout=30,
        ).status_code

    assert staff_route(pair.second) == 200
    demoted = httpx.patch(
        f"{pair.first.base_url}/api/v1/users/{user_id['id']}",
        json={"role": "customer"},
        headers=admin,
        timeout=30,
    )
    assert demoted.status_code == 200, demoted.text
    assert staff_route(pair.first) == 403  # at once, here
    _eventually(lambda: staff_route(pair.second) == 403, within=5)
    assert _profile_status(pair.second, staff_token) == 200  # still a customer there
