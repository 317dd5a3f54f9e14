"""Where the machine's CPU went during a scenario: app workers, PostgreSQL, load generator.

On a 2-core machine the server, the database and the load generator compete for the
same cores, so the split says more about the bottleneck than requests/s alone. What no
group claims is "other": the kernel's interrupt work, this harness, and any other
process on the machine (named in ``other_top``).
"""

from __future__ import annotations

import collections
import contextlib
import os
import resource
import time
from collections.abc import Collection
from dataclasses import dataclass, field

import psutil


def _machine_seconds() -> tuple[float, float]:
    """(busy, interrupts) CPU seconds of the whole machine since boot."""
    times = psutil.cpu_times()
    idle = times.idle + getattr(times, "iowait", 0.0)
    guests = getattr(times, "guest", 0.0) + getattr(times, "guest_nice", 0.0)
    interrupts = getattr(times, "irq", 0.0) + getattr(times, "softirq", 0.0)
    return float(sum(times)) - idle - guests, interrupts


def _children_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _processes() -> dict[int, tuple[str, float]]:
    """CPU seconds of every live process, by pid, with its name.

    For PostgreSQL the reaped children are included: a backend that ends (a pool closing
    a connection) takes its CPU time with it, but the kernel adds that time to the
    postmaster's ``children_*`` counters.
    """
    seen: dict[int, tuple[str, float]] = {}
    for process in psutil.process_iter(["name", "cpu_times"]):
        times = process.info.get("cpu_times")
        if times is None:
            continue
        name = process.info.get("name") or "?"
        seconds = times.user + times.system
        if name.startswith("postgres"):
            seconds += times.children_user + times.children_system
        seen[process.pid] = (name, seconds)
    return seen


@dataclass
class CpuSnapshot:
    wall: float
    busy: float
    interrupts: float
    generator: float
    processes: dict[int, tuple[str, float]] = field(default_factory=dict)


class CpuAccount:
    """Snapshot before and after a scenario; ``split`` gives shares of the whole machine."""

    def __init__(self, worker_pids: Collection[int]) -> None:
        self.worker_pids = set(worker_pids)
        self.cores = psutil.cpu_count() or 1

    def snapshot(self) -> CpuSnapshot:
        busy, interrupts = _machine_seconds()
        return CpuSnapshot(
            wall=time.monotonic(),
            busy=busy,
            interrupts=interrupts,
            # wrk (or the Python generator's processes) are children this process waits for.
            generator=_children_seconds(),
            processes=_processes(),
        )

    def _group(self, pid: int, name: str) -> str:
        if pid in self.worker_pids:
            return "app_workers"
        if name.startswith("postgres"):
            return "postgresql"
        if pid == os.getpid():
            return "benchmark harness"
        return name

    def split(self, before: CpuSnapshot, after: CpuSnapshot) -> dict[str, object]:
        capacity = (after.wall - before.wall) * self.cores
        if capacity <= 0:
            return {}
        groups: collections.Counter[str] = collections.Counter()
        for pid, (name, seconds) in after.processes.items():
            previous = before.processes.get(pid)
            with contextlib.suppress(TypeError):
                # A process that started during the scenario counts from zero.
                groups[self._group(pid, name)] += seconds - (previous[1] if previous else 0.0)
        workers = groups.pop("app_workers", 0.0)
        postgres = groups.pop("postgresql", 0.0)
        generator = after.generator - before.generator
        busy = after.busy - before.busy
        other = max(0.0, busy - workers - postgres - generator)
        groups["kernel interrupts"] = after.interrupts - before.interrupts

        def percent(seconds: float) -> float:
            return round(100 * seconds / capacity, 1)

        return {
            "app_workers": percent(workers),
            "postgresql": percent(postgres),
            "load_generator": percent(generator),
            "other": percent(other),
            "idle": round(max(0.0, 100 - 100 * busy / capacity), 1),
            "other_top": {
                name: percent(seconds)
                for name, seconds in groups.most_common(4)
                if percent(seconds) >= 1
            },
        }
