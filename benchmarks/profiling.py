"""Sampling profile of one worker with py-spy, summarised as text.

py-spy attaches to a running process from outside (no code changes, low overhead) and
writes collapsed stacks (``frame;frame;... count``). The summary groups the samples
three ways: by the library the CPU was in (the leaf frame), by function (self time),
and by Agora function including callees.
"""

from __future__ import annotations

import collections
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

_FRAME = re.compile(r"^(?P<function>.*) \((?P<file>[^()]*?)(?::(?P<line>\d+))?\)$")
_LOOP_FRAMES = ("Runner.run (asyncio/runners.py", "asyncio_run (uvicorn/")
# Leaves of threads that wait (idle thread-pool workers); not CPU time.
_WAITING_LEAVES = (
    "Condition.wait (threading.py",
    "Event.wait (threading.py",
    "Thread._wait_for_tstate_lock (threading.py",
    "Queue.get (queue.py",
)
# Activities worth naming, found anywhere in a stack (so they include what they call).
ACTIVITIES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("FastAPI dependency resolution", ("solve_dependencies (fastapi/",)),
    ("handing sync functions to the thread pool", ("run_in_threadpool (starlette/",)),
    ("opening database connections", ("connect (asyncpg/connection.py",)),
    ("JWT verification", ("(jwt/",)),
    ("password hashing", ("(argon2/",)),
    ("response body serialisation", ("dumps (agora/http/envelope.py",)),
    ("request validation (parameters and body)", ("_validate_value_with_model_field",)),
    (
        "transaction control (BEGIN, COMMIT, ROLLBACK)",
        (
            "_start_transaction (sqlalchemy/",
            "AsyncConnection.rollback (sqlalchemy/",
            "AsyncConnection.commit (sqlalchemy/",
        ),
    ),
    ("structured logging", ("(structlog/",)),
)
_STDLIB_GROUPS = {"asyncio", "uuid", "json", "typing", "enum", "contextvars", "re", "logging"}


def py_spy() -> str | None:
    beside = Path(sys.executable).with_name("py-spy")
    return str(beside) if beside.exists() else shutil.which("py-spy")


def start_recording(pid: int, duration: int, output: Path) -> subprocess.Popen[bytes] | None:
    tool = py_spy()
    if tool is None:
        return None
    return subprocess.Popen(
        [
            tool,
            "record",
            "--pid",
            str(pid),
            "--duration",
            str(duration),
            "--rate",
            "200",
            "--format",
            "raw",
            "--output",
            str(output),
            "--nonblocking",
        ],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )


def finish_recording(process: subprocess.Popen[bytes], timeout: float) -> str:
    """Wait for py-spy; return its output (for messages)."""
    try:
        out, _ = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        out, _ = process.communicate()
    return out.decode(errors="replace")


def _parse(frame: str) -> tuple[str, str]:
    match = _FRAME.match(frame)
    if not match:
        return frame, ""
    return match["function"], match["file"]


def component(file: str) -> str:
    """The library a frame belongs to, from py-spy's shortened file name."""
    if not file:
        return "other"
    if file.startswith("agora/"):
        parts = file.split("/")
        return "agora." + parts[1].removesuffix(".py") if len(parts) > 2 else "agora"
    head = file.split("/", 1)[0].removesuffix(".py")
    if head in _STDLIB_GROUPS:
        return f"stdlib {head}"
    return head


def summarise(raw_path: Path, top: int = 15) -> dict[str, Any]:
    stacks: list[tuple[list[str], int]] = []
    for line in raw_path.read_text(errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if stack and count.isdigit():
            stacks.append((stack.split(";"), int(count)))
    total = sum(count for _, count in stacks)
    if not total:
        return {"samples": 0}
    activities: collections.Counter[str] = collections.Counter()
    for frames, count in stacks:
        joined = ";".join(frames)
        for label, needles in ACTIVITIES:
            if any(needle in joined for needle in needles):
                activities[label] += count
    by_component: collections.Counter[str] = collections.Counter()
    self_time: collections.Counter[str] = collections.Counter()
    inclusive: collections.Counter[str] = collections.Counter()
    waiting = sum(count for frames, count in stacks if frames[-1].startswith(_WAITING_LEAVES))
    stacks = [(f, n) for f, n in stacks if not f[-1].startswith(_WAITING_LEAVES)]
    total -= waiting
    if not total:
        return {"samples": 0}
    for frames, count in stacks:
        leaf = frames[-1]
        if leaf.startswith(_LOOP_FRAMES):
            # Time inside the event loop's C code: socket I/O, HTTP parsing, callbacks.
            by_component["event loop and I/O (uvloop, httptools)"] += count
            self_time["event loop and I/O (uvloop, httptools)"] += count
        else:
            function, file = _parse(leaf)
            by_component[component(file)] += count
            self_time[f"{function} ({file.split(':')[0]})"] += count
        seen = set()
        for frame in frames:
            function, file = _parse(frame)
            if file.startswith("agora/"):
                key = f"{function} ({file})"
                if key not in seen:
                    seen.add(key)
                    inclusive[key] += count

    def share(counter: collections.Counter[str], limit: int) -> list[dict[str, Any]]:
        return [
            {"name": name, "samples": n, "percent": round(100 * n / total, 1)}
            for name, n in counter.most_common(limit)
        ]

    return {
        "samples": total,
        "waiting_samples_excluded": waiting,
        "by_component": share(by_component, top),
        "top_self": share(self_time, top),
        "agora_inclusive": share(inclusive, top),
        "activities": share(activities, len(ACTIVITIES)),
    }
