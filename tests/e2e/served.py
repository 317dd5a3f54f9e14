"""Run the real ``agora`` command in a subprocess and talk to it over loopback HTTP."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx


@dataclass(frozen=True)
class Served:
    base_url: str
    env: dict[str, str]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def agora(
    *args: str, env: dict[str, str], timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "agora.cli.main", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def base_env(database_url: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AGORA_")}
    env.update(
        AGORA_DATABASE_URL=database_url,
        AGORA_ENVIRONMENT="test",
        AGORA_PASSWORD_HASH_MEMORY_KIB="1024",
        AGORA_PASSWORD_HASH_TIME_COST="1",
        AGORA_LOG_LEVEL="WARNING",
    )
    env.update(extra)
    return env


@contextmanager
def serve(
    env: dict[str, str], log_path: Path, ready_path: str = "/health/ready"
) -> Iterator[Served]:
    port = free_port()
    env = {**env, "AGORA_PORT": str(port), "AGORA_HOST": "127.0.0.1"}
    base = f"http://127.0.0.1:{port}"
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "agora.cli.main", "serve"],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            deadline = time.monotonic() + 60
            while True:
                if process.poll() is not None:
                    raise RuntimeError(f"agora serve exited: {log_path.read_text()}")
                try:
                    if httpx.get(f"{base}{ready_path}", timeout=2).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError(f"agora serve never became ready: {log_path.read_text()}")
                time.sleep(0.2)
            yield Served(base, env)
        finally:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
