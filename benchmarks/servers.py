"""Server processes under test: start in their own process group, wait until ready, stop.

Every server runs in a new session, so stopping it signals the whole group (the
uvicorn supervisor and its workers) and nothing is left behind on any error.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psutil

LOOPBACK = "127.0.0.1"


class BenchmarkError(Exception):
    """A step of the benchmark failed; the message says which and why."""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOOPBACK, 0))
        return int(sock.getsockname()[1])


@dataclass
class ServerProcess:
    """One server (supervisor plus worker processes) started by the benchmark."""

    name: str
    command: Sequence[str]
    env: Mapping[str, str]
    port: int
    log_path: Path
    cwd: Path
    process: subprocess.Popen[bytes] | None = None

    @property
    def base_url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"

    def start(self) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = self.log_path.open("wb")
        try:
            self.process = subprocess.Popen(
                list(self.command),
                env=dict(self.env),
                cwd=self.cwd,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        finally:
            log.close()

    def wait_ready(self, path: str, *, expected_workers: int, timeout: float = 60.0) -> None:
        """Poll ``path`` until it answers 200 and every worker process is up."""
        deadline = time.monotonic() + timeout
        last_problem = "no answer yet"
        while time.monotonic() < deadline:
            if self.process is None or self.process.poll() is not None:
                raise BenchmarkError(
                    f"{self.name} exited during start-up; last lines of {self.log_path}:\n"
                    + self.log_tail()
                )
            try:
                status = httpx.get(self.base_url + path, timeout=2).status_code
            except httpx.HTTPError as exc:
                last_problem = str(exc) or type(exc).__name__
            else:
                if status == 200 and len(self.worker_pids()) >= expected_workers:
                    return
                last_problem = f"status {status}"
            time.sleep(0.25)
        raise BenchmarkError(
            f"{self.name} not ready on {self.base_url}{path} after {timeout:.0f} s "
            f"({last_problem}); last lines of {self.log_path}:\n" + self.log_tail()
        )

    def worker_pids(self) -> list[int]:
        """Worker processes: uvicorn spawns them with multiprocessing's ``spawn_main``."""
        if self.process is None:
            return []
        try:
            children = psutil.Process(self.process.pid).children(recursive=True)
        except psutil.NoSuchProcess:
            return []
        pids = []
        for child in children:
            with contextlib.suppress(psutil.Error):
                if any("spawn_main" in part for part in child.cmdline()):
                    pids.append(child.pid)
        return sorted(pids)

    def stop(self, timeout: float = 15.0) -> None:
        """SIGTERM the process group, then SIGKILL whatever is still there."""
        if self.process is None:
            return
        pgid = self.process.pid
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pgid, signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=timeout)
        # Workers can outlive a supervisor that died; the group id still reaches them.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pgid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=5)
        self.process = None

    def log_tail(self, lines: int = 30) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:])


@dataclass
class RssSampler:
    """Samples the resident set size of worker processes in a background thread."""

    pids: Sequence[int]
    interval: float = 0.25
    peak: dict[int, int] = field(default_factory=dict)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def sample(self) -> dict[int, int]:
        current = {}
        for pid in self.pids:
            with contextlib.suppress(psutil.Error):
                current[pid] = psutil.Process(pid).memory_info().rss
        for pid, rss in current.items():
            self.peak[pid] = max(self.peak.get(pid, 0), rss)
        return current

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.sample()

    def __enter__(self) -> RssSampler:
        self.sample()
        self._thread = threading.Thread(target=self._run, name="rss-sampler", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self.sample()


def run_command(
    command: Sequence[str],
    *,
    env: Mapping[str, str],
    cwd: Path,
    log_path: Path,
    what: str,
    timeout: float,
) -> None:
    """Run a set-up command to completion, its output to a log; fail with the log's tail."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("wb") as log:
        try:
            completed = subprocess.run(
                list(command),
                env=dict(env),
                cwd=cwd,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                timeout=timeout,
                check=False,
                start_new_session=True,
            )
        except subprocess.TimeoutExpired as exc:
            raise BenchmarkError(f"{what} did not finish within {timeout:.0f} s") from exc
    if completed.returncode != 0:
        tail = "\n".join(log_path.read_text(errors="replace").splitlines()[-30:])
        raise BenchmarkError(f"{what} failed (exit {completed.returncode}):\n{tail}")
