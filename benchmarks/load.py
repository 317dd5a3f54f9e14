"""Request files, load results, and wrk, the preferred load generator.

A request file holds one request per line (method, path, bearer token, JSON body,
tab-separated, ``-`` where there is none). wrk and the asyncio fallback
(``python_load.py``) both replay it: they keep ``connections`` HTTP/1.1 keep-alive
connections busy for ``duration`` seconds (closed loop) and report requests/s, latency
percentiles, socket errors and, when asked, counts per status code.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from servers import BenchmarkError

HERE = Path(__file__).resolve().parent
REPLAY_SCRIPT = HERE / "wrk" / "replay.lua"
PERCENTILES = ("50", "75", "90", "95", "99", "99.9")


@dataclass(frozen=True)
class RequestSpec:
    method: str
    path: str
    token: str | None = None
    body: str | None = None

    def line(self) -> str:
        for part in (self.path, self.token or "", self.body or ""):
            if "\t" in part or "\n" in part:
                raise ValueError("request parts may not contain tabs or newlines")
        return "\t".join((self.method, self.path, self.token or "-", self.body or "-"))


def write_requests(path: Path, specs: Iterable[RequestSpec]) -> int:
    lines = [spec.line() for spec in specs]
    if not lines:
        raise BenchmarkError(f"no requests to write to {path}")
    path.write_text("\n".join(lines) + "\n")
    return len(lines)


def read_requests(path: Path) -> list[RequestSpec]:
    specs = []
    for line in path.read_text().splitlines():
        method, target, bearer, body = line.split("\t", 3)
        specs.append(
            RequestSpec(
                method, target, None if bearer == "-" else bearer, None if body == "-" else body
            )
        )
    return specs


@dataclass
class LoadResult:
    generator: str
    connections: int
    threads: int
    duration_s: float
    requests: int
    requests_per_s: float
    latency_ms: dict[str, float]
    socket_errors: dict[str, int]
    error_responses: int
    statuses: dict[str, int] = field(default_factory=dict)

    @property
    def errors(self) -> int:
        return sum(self.socket_errors.values()) + self.error_responses

    def as_dict(self) -> dict[str, Any]:
        body = asdict(self)
        body["errors"] = self.errors
        return body


def ensure_wrk() -> str | None:
    """Path of wrk, installing Debian's package when missing and possible; None otherwise."""
    found = shutil.which("wrk")
    if found:
        return found
    apt = shutil.which("apt-get")
    if apt is None or os.geteuid() != 0:
        print("  wrk is not installed and cannot be installed here; using the Python generator")
        return None
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    print("  installing wrk (apt-get install -y wrk) ...")
    install = [apt, "install", "-y", "-q", "wrk"]
    _quiet(install, env)
    if not shutil.which("wrk"):
        # The package lists may be missing or stale: refresh them and try once more.
        _quiet([apt, "update", "-q"], env)
        _quiet(install, env)
    found = shutil.which("wrk")
    if found is None:
        print("  could not install wrk; using the Python generator")
    return found


def _quiet(command: list[str], env: dict[str, str]) -> None:
    with contextlib.suppress(subprocess.SubprocessError, OSError):
        subprocess.run(
            command,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            timeout=300,
            check=False,
        )


def run_wrk(
    wrk: str,
    base_url: str,
    request_file: Path,
    *,
    connections: int,
    threads: int,
    duration: float,
    count_statuses: bool,
) -> LoadResult:
    command = [
        wrk,
        f"-t{threads}",
        f"-c{connections}",
        f"-d{max(1, round(duration))}s",
        "--timeout",
        "10s",
        "-s",
        str(REPLAY_SCRIPT),
        base_url,
        "--",
        str(request_file),
    ]
    if count_statuses:
        command.append("count-statuses")
    try:
        completed = subprocess.run(
            command,
            capture_output=True,
            text=True,
            timeout=duration + 60,
            check=False,
            stdin=subprocess.DEVNULL,
        )
    except subprocess.TimeoutExpired as exc:
        raise BenchmarkError(f"wrk did not finish within {duration + 60:.0f} s") from exc
    line = next(
        (ln for ln in completed.stdout.splitlines() if ln.startswith("BENCH_RESULT ")), None
    )
    if completed.returncode != 0 or line is None:
        raise BenchmarkError(
            f"wrk failed (exit {completed.returncode}): {completed.stderr.strip()[-2000:]}"
            f"\n{completed.stdout.strip()[-2000:]}"
        )
    raw = json.loads(line.removeprefix("BENCH_RESULT "))
    seconds = raw["duration_us"] / 1e6
    errors = raw["errors"]
    percentiles = raw["latency_us"]["percentiles"]
    latency = {p: percentiles[p] / 1000 for p in PERCENTILES}
    latency["mean"] = raw["latency_us"]["mean"] / 1000
    latency["max"] = raw["latency_us"]["max"] / 1000
    return LoadResult(
        generator="wrk",
        connections=connections,
        threads=threads,
        duration_s=round(seconds, 3),
        requests=raw["requests"],
        requests_per_s=raw["requests"] / seconds if seconds else 0.0,
        latency_ms=latency,
        socket_errors={k: errors[k] for k in ("connect", "read", "write", "timeout")},
        error_responses=errors["status"],
        statuses=dict(raw["statuses"]),
    )
