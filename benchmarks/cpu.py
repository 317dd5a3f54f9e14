"""Where the machine's CPU went during a scenario: app workers, PostgreSQL, load generator.

On a 2-core machine the server, the database and the load generator compete for the
same cores, so the split says more about the bottleneck than requests/s alone.
"""

from __future__ import annotations

import contextlib
import resource
import time
from collections.abc import Collection
from dataclasses import dataclass

import psutil


def _busy_seconds() -> float:
    times = psutil.cpu_times()
    idle = times.idle + getattr(times, "iowait", 0.0)
    return (
        float(sum(times)) - idle - getattr(times, "guest", 0.0) - getattr(times, "guest_nice", 0.0)
    )


def _children_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _process_seconds(pids: Collection[int]) -> float:
    total = 0.0
    for pid in pids:
        with contextlib.suppress(psutil.Error):
            times = psutil.Process(pid).cpu_times()
            total += times.user + times.system
    return total


def _postgres_seconds() -> float:
    """Live PostgreSQL processes plus the backends that already exited.

    A backend that ends (a pool closing a connection) takes its CPU time with it, but
    the postmaster reaps it and the kernel adds that time to the postmaster's
    ``children_*`` counters, which are included here.
    """
    total = 0.0
    for process in psutil.process_iter(["name", "cpu_times"]):
        name = process.info.get("name") or ""
        times = process.info.get("cpu_times")
        if name.startswith("postgres") and times is not None:
            total += times.user + times.system + times.children_user + times.children_system
    return total


@dataclass
class CpuSnapshot:
    wall: float
    busy: float
    workers: float
    postgres: float
    generator: float


class CpuAccount:
    """Snapshot before and after a scenario; ``split`` gives shares of the whole machine."""

    def __init__(self, worker_pids: Collection[int]) -> None:
        self.worker_pids = list(worker_pids)
        self.cores = psutil.cpu_count() or 1

    def snapshot(self) -> CpuSnapshot:
        return CpuSnapshot(
            wall=time.monotonic(),
            busy=_busy_seconds(),
            workers=_process_seconds(self.worker_pids),
            postgres=_postgres_seconds(),
            # wrk (or the Python generator's processes) are children this process waits for.
            generator=_children_seconds(),
        )

    def split(self, before: CpuSnapshot, after: CpuSnapshot) -> dict[str, float]:
        capacity = (after.wall - before.wall) * self.cores
        if capacity <= 0:
            return {}
        workers = after.workers - before.workers
        postgres = after.postgres - before.postgres
        generator = after.generator - before.generator
        busy = after.busy - before.busy
        other = max(0.0, busy - workers - postgres - generator)
        return {
            "app_workers": round(100 * workers / capacity, 1),
            "postgresql": round(100 * postgres / capacity, 1),
            "load_generator": round(100 * generator / capacity, 1),
            "other": round(100 * other / capacity, 1),
            "idle": round(max(0.0, 100 - 100 * busy / capacity), 1),
        }
