"""The Python load generator, for machines without wrk: asyncio in one process per thread.

It replays the same request file as wrk (see ``load.py``) in the same closed loop and
reports the same ``LoadResult``.
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

try:
    import uvloop
except ImportError:  # uvicorn[standard] brings it only where it builds (not on Windows)
    uvloop = None

from load import PERCENTILES, LoadResult, RequestSpec, read_requests
from servers import LOOPBACK, BenchmarkError


def run_python(
    base_url: str,
    request_file: Path,
    *,
    connections: int,
    threads: int,
    duration: float,
    count_statuses: bool,
) -> LoadResult:
    """The same closed loop as wrk, in ``threads`` processes running asyncio."""
    host, port = base_url.removeprefix("http://").split(":")
    if host != LOOPBACK:
        raise BenchmarkError("the load generator only targets the loopback address")
    raw_requests = [_encode(spec, host) for spec in read_requests(request_file)]
    per_process = [connections // threads + (i < connections % threads) for i in range(threads)]
    context = multiprocessing.get_context("spawn")
    with context.Pool(threads) as pool:
        parts = pool.map(
            _process_main,
            [
                _Job(host, int(port), raw_requests, n, duration, index)
                for index, n in enumerate(per_process)
            ],
        )
    latencies: list[float] = []
    statuses: Counter[int] = Counter()
    socket_errors: Counter[str] = Counter()
    measured = duration
    for part_latencies, part_statuses, part_errors, part_elapsed in parts:
        latencies.extend(part_latencies)
        statuses.update(part_statuses)
        socket_errors.update(part_errors)
        measured = max(measured, part_elapsed)
    latencies.sort()
    latency = {p: _percentile(latencies, float(p)) for p in PERCENTILES}
    latency["mean"] = sum(latencies) / len(latencies) if latencies else 0.0
    latency["max"] = latencies[-1] if latencies else 0.0
    return LoadResult(
        generator="python",
        connections=connections,
        threads=threads,
        duration_s=round(measured, 3),
        requests=len(latencies),
        requests_per_s=len(latencies) / measured,
        latency_ms=latency,
        socket_errors={k: socket_errors.get(k, 0) for k in ("connect", "read", "write", "timeout")},
        error_responses=sum(n for code, n in statuses.items() if code >= 400),
        statuses={str(k): v for k, v in statuses.items()} if count_statuses else {},
    )


def _encode(spec: RequestSpec, host: str) -> bytes:
    lines = [f"{spec.method} {spec.path} HTTP/1.1", f"Host: {host}"]
    if spec.token:
        lines.append(f"Authorization: Bearer {spec.token}")
    body = (spec.body or "").encode()
    if spec.body is not None:
        lines.append("Content-Type: application/json")
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def _percentile(ordered: list[float], p: float) -> float:
    if not ordered:
        return 0.0
    index = min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))
    return ordered[index]


@dataclass(frozen=True)
class _Job:
    """What one generator process does: ``connections`` loops against host:port."""

    host: str
    port: int
    requests: list[bytes]
    connections: int
    duration: float
    index: int


def _process_main(job: _Job) -> tuple[list[float], dict[int, int], dict[str, int], float]:
    loop_factory = None if uvloop is None else uvloop.new_event_loop
    with asyncio.Runner(loop_factory=loop_factory) as runner:
        return runner.run(_drive(job))


async def _drive(job: _Job) -> tuple[list[float], dict[int, int], dict[str, int], float]:
    host, port, requests, index = job.host, job.port, job.requests, job.index
    latencies: list[float] = []
    statuses: Counter[int] = Counter()
    errors: Counter[str] = Counter()
    started = time.perf_counter()
    deadline = started + job.duration
    stride = max(1, len(requests) // 13)

    async def connection(number: int) -> None:
        position = (index * 7 + number) * stride % len(requests)
        while time.perf_counter() < deadline:
            try:
                reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), 10)
            except (OSError, TimeoutError):
                errors["connect"] += 1
                await asyncio.sleep(0.05)
                continue
            try:
                while time.perf_counter() < deadline:
                    payload = requests[position]
                    position = (position + 1) % len(requests)
                    sent = time.perf_counter()
                    writer.write(payload)
                    status, keep_alive = await asyncio.wait_for(_read_response(reader), 10)
                    latencies.append((time.perf_counter() - sent) * 1000)
                    statuses[status] += 1
                    if not keep_alive:
                        break
            except TimeoutError:
                errors["timeout"] += 1
            except (OSError, asyncio.IncompleteReadError, ValueError):
                errors["read"] += 1
            finally:
                writer.close()
                with contextlib.suppress(OSError):
                    await writer.wait_closed()

    await asyncio.gather(*(connection(n) for n in range(job.connections)))
    return latencies, dict(statuses), dict(errors), time.perf_counter() - started


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bool]:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    length = 0
    keep_alive = True
    chunked = False
    for line in lines[1:]:
        name, _, value = line.partition(":")
        name = name.strip().lower()
        if name == "content-length":
            length = int(value)
        elif name == "connection" and value.strip().lower() == "close":
            keep_alive = False
        elif name == "transfer-encoding" and "chunked" in value.lower():
            chunked = True
    if chunked:
        while True:
            size = int((await reader.readline()).split(b";")[0], 16)
            await reader.readexactly(size + 2)
            if size == 0:
                break
    elif length:
        await reader.readexactly(length)
    return status, keep_alive
