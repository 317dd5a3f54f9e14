"""``make bench-auth``: what authentication costs, written to docs/performance.md.

``agora serve`` runs on a loopback port with a temporary SQLite database (``auth_server``),
then, in about 30 seconds in all:

1. The per-request cost of authenticating a bearer access token and checking a
   permission (``auth_tokens``): tokens obtained from the server over HTTP (a login and
   refreshes of its session), checked in this process by the ``Authenticator`` that
   ``agora.bootstrap.build_container`` wires for the API. Timed with ``timeit`` (mean
   over many iterations) and call by call (percentiles), for a token this process has
   verified before and for tokens it has never seen.
2. Logins per second over HTTP at the configured argon2id parameters (``auth_logins``):
   a closed loop of concurrent logins for a bounded time.

The product is reached only through HTTP, the ``agora`` CLI and its public entry points
(``agora.bootstrap``, ``agora.platform.settings`` and the ``agora.platform.access``
port the container provides). Results go to ``benchmarks/results/auth-latest.json`` and
the marked section of ``docs/performance.md`` (``auth_report``). The machine is shared:
run it when nothing heavy runs.

Usage: ``python benchmarks/bench_auth.py [--duration S] [--concurrency N] [--workers N]``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import orjson

import auth_report
import auth_server
import provenance
from auth_logins import measure_logins
from auth_tokens import measure_verification, obtain_tokens

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results" / "auth-latest.json"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Authentication benchmark (module docstring).")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds of login load")
    parser.add_argument("--warmup", type=float, default=2.0, help="seconds of warm-up")
    parser.add_argument("--concurrency", type=int, default=4, help="concurrent logins")
    parser.add_argument("--workers", type=int, default=1, help="agora serve worker processes")
    parser.add_argument("--iterations", type=int, default=100_000, help="warm-path calls")
    parser.add_argument("--cold-tokens", type=int, default=2_000, help="never-seen tokens")
    parser.add_argument("--no-docs", action="store_true", help="leave docs/performance.md alone")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    started = datetime.now(UTC)
    load_before = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    with tempfile.TemporaryDirectory(prefix="agora-auth-bench-") as tmp:
        served = auth_server.start(Path(tmp), args.workers)
        try:
            print(f"obtaining {args.cold_tokens:,} access tokens over HTTP ...", flush=True)
            tokens = obtain_tokens(
                served.base_url, auth_server.ADMIN_EMAIL, auth_server.PASSWORD, args.cold_tokens
            )
            print("measuring token verification and permission checks ...", flush=True)
            verification = asyncio.run(
                measure_verification(served.settings, tokens, args.iterations)
            )
            print(
                f"  warm: mean {verification['warm']['timeit_mean_us']:.1f} µs, "
                f"p99 {verification['warm']['p99_us']:.1f} µs; "
                f"cold: mean {verification['cold']['mean_us']:.1f} µs",
                flush=True,
            )
            print("measuring logins over HTTP ...", flush=True)
            logins = measure_logins(served.base_url, args)
        finally:
            served.server.stop()
    loaded = logins["loaded"]
    print(
        f"  {loaded['logins_per_second']:.1f} logins/s at {loaded['concurrency']} clients, "
        f"p99 {loaded['p99_ms']:.0f} ms",
        flush=True,
    )
    results = {
        "started": started.strftime("%Y-%m-%d %H:%M UTC"),
        "seconds": (datetime.now(UTC) - started).total_seconds(),
        "commit": provenance.commit(),
        "machine": f"{os.cpu_count()} CPU cores, Python {platform.python_version()}, "
        f"{platform.system()} {platform.machine()}",
        "load_before": load_before,
        "verification": verification,
        "logins": logins,
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_bytes(orjson.dumps(results, option=orjson.OPT_INDENT_2) + b"\n")
    written = str(RESULTS.relative_to(ROOT))
    if not args.no_docs:
        auth_report.update_doc(auth_report.section(results))
        written += f" and {auth_report.DOC.relative_to(ROOT)}"
    print(f"done in {results['seconds']:.0f} s; wrote {written}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
