"""Measuring one scenario: load, latency, CPU split, memory, database sessions, profiles.

``Measurement`` drives the load generator (wrk, or the Python fallback) against one
server and samples everything else while it runs; it keeps the scenario entries, the
workers' peak memory and the count of ``201 Created`` answers across the run.
"""

from __future__ import annotations

import argparse
import subprocess
import time
from pathlib import Path
from typing import Any

import cpu
import load
import profiling
import python_load
from database import ActivitySampler, BenchDatabase
from servers import BenchmarkError, RssSampler, ServerProcess
from stack import Clock

MB = 1024 * 1024
PYTHON_GENERATOR = (
    "the Python generator in `benchmarks/python_load.py` (asyncio, one process per thread)"
)


class Measurement:
    def __init__(
        self, args: argparse.Namespace, clock: Clock, db: BenchDatabase, logs: Path
    ) -> None:
        self.args = args
        self.clock = clock
        self.db = db
        self.logs = logs
        self.wrk: str | None = None
        self.scenarios: list[dict[str, Any]] = []
        self.peaks: dict[int, int] = {}
        self.bare_peaks: dict[int, int] = {}
        self.created_responses = 0

    def choose_generator(self) -> str:
        """Use wrk when it is (or can be) installed; describe the generator for the report."""
        if self.args.generator == "python":
            return PYTHON_GENERATOR
        self.wrk = load.ensure_wrk()
        if self.wrk is None:
            if self.args.generator == "wrk":
                raise BenchmarkError("wrk was requested but is not available")
            return PYTHON_GENERATOR
        version = subprocess.run(
            [self.wrk, "--version"], capture_output=True, text=True, check=False
        )
        return (version.stdout or version.stderr).split("Copyright")[0].strip() or "wrk"

    def generate(
        self, server: ServerProcess, file: Path, connections: int, seconds: float, statuses: bool
    ) -> load.LoadResult:
        if self.wrk is not None:
            return load.run_wrk(
                self.wrk,
                server.base_url,
                file,
                connections=connections,
                threads=self.args.threads,
                duration=seconds,
                count_statuses=statuses,
            )
        return python_load.run_python(
            server.base_url,
            file,
            connections=connections,
            threads=self.args.threads,
            duration=seconds,
            count_statuses=statuses,
        )

    def db_sessions(self) -> int:
        """Connections ever opened to the benchmark database (pool churn shows here)."""
        value = self.db.fetchval(
            "SELECT sessions FROM pg_stat_database WHERE datname = current_database()"
        )
        return int(value or 0)

    def scenario(
        self,
        key: str,
        name: str,
        server: ServerProcess,
        file: Path,
        connections: int,
        *,
        is_checkout: bool = False,
    ) -> dict[str, Any]:
        """Warm up, then load ``server`` with ``file`` and record the scenario's entry."""
        self.clock.say(
            f"{name}: {self.args.warmup:.0f} s warm-up, {self.args.duration:.0f} s load, "
            f"{connections} connections"
        )
        warm = self.generate(server, file, connections, self.args.warmup, is_checkout)
        self.created_responses += int(warm.statuses.get("201", 0))
        workers = server.worker_pids()
        account = cpu.CpuAccount(workers)
        sessions_before = self.db_sessions()
        before = account.snapshot()
        with RssSampler(workers) as rss, ActivitySampler(self.db.url) as activity:
            result = self.generate(server, file, connections, self.args.duration, is_checkout)
        after = account.snapshot()
        time.sleep(1.2)  # PostgreSQL publishes its statistics about once a second
        sessions_after = self.db_sessions()
        peaks = self.bare_peaks if key == "bare" else self.peaks
        for pid, value in rss.peak.items():
            peaks[pid] = max(peaks.get(pid, 0), value)
        entry = {"key": key, "name": name, **result.as_dict()}
        entry["cpu_percent"] = account.split(before, after)
        entry["db_activity"] = activity.summary()
        # Each warm worker's pool is full already: new sessions mean connections opened
        # and closed under load (pool overflow), each a PostgreSQL backend start.
        # (less the one this measurement itself opens).
        entry["db_connections_opened"] = max(0, sessions_after - sessions_before - 1)
        if is_checkout:
            created = int(result.statuses.get("201", 0))
            self.created_responses += created
            entry["orders_created"] = created
            entry["orders_per_s"] = created / result.duration_s if result.duration_s else 0.0
        entry["worker_peak_rss_mb"] = {str(pid): round(v / MB, 1) for pid, v in rss.peak.items()}
        latency = result.latency_ms
        self.clock.say(
            f"  {result.requests_per_s:,.0f} req/s, p50 {latency['50']:.1f} ms, "
            f"p95 {latency['95']:.1f} ms, p99 {latency['99']:.1f} ms, errors {result.errors}"
            + (f", statuses {result.statuses}" if result.statuses else "")
        )
        if result.requests == 0:
            raise BenchmarkError(f"{name}: no request completed; see {server.log_path}")
        self.scenarios.append(entry)
        return entry

    def profile(
        self, server: ServerProcess, scenario: dict[str, Any], file: Path
    ) -> dict[str, Any]:
        """py-spy on one worker during extra load of ``scenario``, summarised."""
        seconds = self.args.profile_seconds
        pid = server.worker_pids()[0]
        output = self.logs / f"profile-{scenario['key']}.txt"
        self.clock.say(
            f"profiling worker {pid} with py-spy during {seconds} s of {scenario['name']}"
        )
        recorder = profiling.start_recording(pid, seconds, output)
        if recorder is None:
            return {"scenario": scenario["name"], "problem": "py-spy is not installed"}
        is_checkout = scenario["key"].startswith("checkout")
        result = self.generate(server, file, scenario["connections"], seconds + 1, is_checkout)
        self.created_responses += int(result.statuses.get("201", 0))
        message = profiling.finish_recording(recorder, timeout=seconds + 30)
        if recorder.returncode != 0 or not output.exists():
            return {
                "scenario": scenario["name"],
                "problem": f"py-spy failed (exit {recorder.returncode}): {message.strip()[-300:]}",
            }
        summary = profiling.summarise(output)
        return {"scenario": scenario["name"], "seconds": seconds, "pid": pid, "summary": summary}

    def memory(
        self, started: dict[int, int], prepared: dict[int, int], after: dict[int, int]
    ) -> dict[str, Any]:
        """Each worker's memory when ready, after the set-up, at its peak and after load."""
        return {
            "workers": [
                {
                    "pid": pid,
                    "started_mb": round(started.get(pid, 0) / MB, 1),
                    "prepared_mb": round(prepared.get(pid, 0) / MB, 1),
                    "peak_mb": round(peak / MB, 1),
                    "after_mb": round(after.get(pid, 0) / MB, 1),
                }
                for pid, peak in sorted(self.peaks.items())
            ],
            "max_rss_mb": round(max(self.peaks.values()) / MB, 1) if self.peaks else None,
            "bare_max_rss_mb": (
                round(max(self.bare_peaks.values()) / MB, 1) if self.bare_peaks else None
            ),
        }
