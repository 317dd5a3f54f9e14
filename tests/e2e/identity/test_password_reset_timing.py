"""Over real HTTP, a reset request for a known address takes as long as for an unknown one.

The answer is sent before the account is even looked up (the lookup, the token and the
mail follow the response), so only noise separates the two; this measures it on a served
process, where "after the response" really is after it.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.e2e.served import Served, agora, base_env, serve
from tests.support.accounts import PASSWORD, unique_email

ROUNDS = 40


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    workdir: Path = tmp_path_factory.mktemp("reset-timing")
    env = base_env(
        f"sqlite+aiosqlite:///{workdir / 'agora.db'}",
        AGORA_RATE_LIMIT_ENABLED="false",
        AGORA_ACCESS_LOG="false",
    )
    migrated = agora("migrate", env=env)
    assert migrated.returncode == 0, migrated.stderr
    with serve(env, workdir / "server.log") as running:
        yield running


@pytest.mark.slow
def test_known_and_unknown_addresses_answer_in_similar_time(served: Served) -> None:
    known = unique_email("timing")
    with httpx.Client(base_url=served.base_url, timeout=10) as http:
        registered = http.post(
            "/api/v1/auth/register", json={"email": known, "password": PASSWORD, "name": "Timing"}
        )
        assert registered.status_code == 201, registered.text
        durations: dict[str, list[float]] = {"known": [], "unknown": []}
        for round_number in range(ROUNDS + 5):
            for kind, email in (("known", known), ("unknown", unique_email("nobody"))):
                started = time.perf_counter()
                response = http.post("/api/v1/auth/password-reset/request", json={"email": email})
                elapsed = time.perf_counter() - started
                assert response.status_code == 202
                if round_number >= 5:  # warm-up rounds are not measured
                    durations[kind].append(elapsed)
                time.sleep(0.02)  # let the work after the response finish before the next one
        mailbox = http.get("/dev/mailbox.json").json()["data"]

    known_median = statistics.median(durations["known"])
    unknown_median = statistics.median(durations["unknown"])
    assert abs(known_median - unknown_median) < max(0.003, 0.5 * unknown_median), (
        known_median,
        unknown_median,
    )
    resets = [m for m in mailbox if m["to"] == known and "Reset" in m["subject"]]
    assert resets, "the known address did get its mail, after the responses"
