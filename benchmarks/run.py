"""``make bench``: load Agora on PostgreSQL and write docs/performance.md.

Steps: a fresh database (migrated, seeded, vacuumed) -> ``agora serve --workers 2`` and
the bare ASGI + asyncpg endpoint, both on free loopback ports -> customers, tokens and a
checkout product through the API -> one load run per scenario (wrk, or a Python
fallback) with CPU and memory sampling -> a stock audit -> a py-spy profile of the
slowest scenario -> results (JSON and the doc). Servers and the database are removed on
any outcome. Only 127.0.0.1 is ever loaded.

Usage: ``python benchmarks/run.py [--products N] [--duration S] ...`` (see ``--help``).
A full run writes ``benchmarks/results/latest.json`` (plus a dated copy) and the results
part of ``docs/performance.md``. A run with fewer than 100,000 products is a quick
check: its JSON stays in the run's temporary log directory and the doc is left alone
(unless ``--write-docs``).

The steps live in ``stack.py`` (database and servers), ``prepare.py`` (customers, tokens,
products), ``scenarios.py`` (what is loaded, in which order), ``measure.py`` (load,
CPU, memory, database, profiles) and ``report.py`` with ``report_tables.py``,
``analysis.py`` and ``targets.py`` (the JSON and the results part of the doc).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import platform
import random
import signal
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import audit
import bare_app
import provenance
import report
import scenarios
import targets
from measure import Measurement
from prepare import prepare, stock_of
from servers import BenchmarkError, RssSampler
from stack import ROOT, WORKERS, Clock, Stack, agora_pool_size, rate_limits

RESULTS = Path(__file__).resolve().parent / "results"
DOC = ROOT / "docs" / "performance.md"
FULL_CATALOG = 100_000


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Agora load benchmark (see module docstring).")
    parser.add_argument("--products", type=int, default=FULL_CATALOG, help="products to seed")
    parser.add_argument("--duration", type=float, default=12.0, help="seconds per scenario")
    parser.add_argument("--warmup", type=float, default=3.0, help="warm-up seconds per scenario")
    parser.add_argument("--connections", type=int, default=64, help="connections (reads)")
    parser.add_argument(
        "--checkout-connections",
        type=int,
        nargs="+",
        default=[64, 16],
        help="connection counts for the checkout load points",
    )
    parser.add_argument("--threads", type=int, default=2, help="load generator threads")
    parser.add_argument("--customers", type=int, default=32, help="customers placing orders")
    parser.add_argument("--profile-seconds", type=int, default=8, help="0 skips the profile")
    parser.add_argument(
        "--generator", choices=("auto", "wrk", "python"), default="auto", help="load generator"
    )
    parser.add_argument("--keep-database", action="store_true", help="do not drop the database")
    parser.add_argument(
        "--write-docs",
        action="store_true",
        help="update docs/performance.md even for a quick run (fewer products)",
    )
    return parser.parse_args(argv)


def run(args: argparse.Namespace, stack: Stack, measure: Measurement) -> dict[str, Any]:
    """The whole benchmark, step by step (module docstring); the results to write."""
    clock = stack.clock
    started_at = datetime.now(UTC)
    loadavg = os.getloadavg()[0]
    generator = measure.choose_generator()
    clock.say(f"load generator: {generator}; load average {loadavg:.2f}")
    if loadavg > 1.0:
        clock.say("note: the machine is busy; absolute numbers will be lower than on a quiet one")
    seed_seconds = stack.setup_database(args.products)
    list_sql_ms = {
        "page": round(stack.db.execution_ms(bare_app.LIST_SQL, bare_app.PAGE_SIZE, 0), 3),
        "count": round(stack.db.execution_ms(bare_app.COUNT_SQL), 3),
    }
    clock.say(
        f"list SQL in PostgreSQL alone: page {list_sql_ms['page']:.2f} ms, "
        f"count {list_sql_ms['count']:.2f} ms"
    )
    agora, bare = stack.start_servers()
    started_rss = RssSampler(agora.worker_pids()).sample()
    ready = prepare(stack, agora, args.customers, random.Random(20261122))
    prepared_rss = RssSampler(agora.worker_pids()).sample()
    files = scenarios.write_request_files(stack.logs, ready)
    same_rows = scenarios.check_same_rows(clock, agora, bare)
    stock_before = stock_of(stack.db, ready.checkout_product_id)

    scenarios.run_scenarios(measure, args, agora, bare, files)
    profile, list_profile = scenarios.profile_scenarios(measure, agora, files)

    time.sleep(2)  # let orders still in flight at the last cut-off finish
    stock_audit = audit.checkout_audit(stack.db, ready.checkout_product_id, stock_before)
    stock_audit["created_responses"] = measure.created_responses
    after_rss = RssSampler(agora.worker_pids()).sample()
    clock.say(f"stock audit: {_audit_line(stock_audit)}")

    results: dict[str, Any] = {
        "started_at": started_at.isoformat(timespec="seconds"),
        "finished_at": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "commit": provenance.commit(),
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "postgresql": stack.db.fetchval("SHOW server_version"),
            "loadavg_before": round(loadavg, 2),
        },
        "config": {
            "products": args.products,
            "customers": args.customers,
            "workers": WORKERS,
            "generator": generator,
            "threads": args.threads,
            "connections": args.connections,
            "checkout_connections": args.checkout_connections,
            "duration": args.duration,
            "warmup": args.warmup,
            "detail_ids": len(ready.product_ids),
            "search_terms": len(ready.search_terms),
            "seed_seconds": round(seed_seconds, 1),
            "bare_returns_same_rows": same_rows,
            "list_total_cache_seconds": stack.total_ttl,
            "rate_limits": rate_limits(stack.env),
            "pool_size": agora_pool_size(),
            "pool_max_overflow": agora_pool_size("database_max_overflow"),
        },
        "list_sql_ms": list_sql_ms,
        "scenarios": measure.scenarios,
        "memory": measure.memory(started_rss, prepared_rss, after_rss),
        "checkout_audit": stock_audit,
        "profile": profile,
        "list_profile": list_profile,
    }
    results["targets"] = targets.evaluate_targets(results)
    return results


def _audit_line(audit_result: dict[str, Any]) -> str:
    if not audit_result.get("verified"):
        return str(audit_result.get("problem"))
    return (
        f"stock {audit_result['stock_before']:,} -> {audit_result['stock_after']:,}, "
        f"{audit_result['units_held_by_orders']:,} units in orders, "
        f"oversells {audit_result['oversells']}, unaccounted {audit_result['units_unaccounted']}"
    )


def _print_summary(results: dict[str, Any]) -> None:
    print()
    for line in report.results_section(results).splitlines():
        if line.startswith(("|", "- ")):
            print(line)


def _terminate_on_signal() -> Callable[[], None]:
    """SIGTERM/SIGHUP unwind like Ctrl-C, so servers and the database are cleaned up."""

    def handler(signum: int, _frame: object) -> None:
        raise KeyboardInterrupt(f"signal {signum}")

    previous = {s: signal.signal(s, handler) for s in (signal.SIGTERM, signal.SIGHUP)}

    def restore() -> None:
        for s, h in previous.items():
            signal.signal(s, h)

    return restore


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    restore = _terminate_on_signal()
    clock = Clock()
    stack = Stack(clock, keep_database=args.keep_database)
    logs = stack.logs
    try:
        results = run(args, stack, Measurement(args, clock, stack.db, logs))
    except BenchmarkError as exc:
        print(f"\nbenchmark failed: {exc}\nlogs: {logs}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"\nbenchmark interrupted; logs: {logs}", file=sys.stderr)
        return 130
    finally:
        with contextlib.suppress(KeyboardInterrupt):
            stack.close()
        restore()

    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    if args.products >= FULL_CATALOG:
        report.write_json(results, RESULTS / "latest.json", RESULTS / f"{stamp}.json")
        written = "benchmarks/results/latest.json"
    else:
        # A quick check is not the benchmark: keep it out of the repository.
        report.write_json(results, logs / "results.json")
        written = str(logs / "results.json")
    if args.products >= FULL_CATALOG or args.write_docs:
        report.update_doc(DOC, report.results_section(results))
        written += f" and {DOC.relative_to(ROOT)}"
    print(f"\nwrote {written}; logs and profile in {logs}")
    _print_summary(results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
