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
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import inspect
import os
import platform
import random
import secrets
import signal
import subprocess
import sys
import tempfile
import time
import urllib.parse
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import orjson

import audit
import bare_app
import cpu
import load
import prepare
import profiling
import report
from agora.catalog.adapters.sql import TotalCache
from agora.platform.settings import Settings
from database import ActivitySampler, BenchDatabase, describe
from servers import LOOPBACK, BenchmarkError, RssSampler, ServerProcess, free_port, run_command

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
RESULTS = HERE / "results"
DOC = ROOT / "docs" / "performance.md"
FULL_CATALOG = 100_000
WORKERS = 2
MB = 1024 * 1024


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


class Clock:
    def __init__(self) -> None:
        self.started = time.monotonic()

    def say(self, message: str) -> None:
        print(f"[{time.monotonic() - self.started:6.1f}s] {message}", flush=True)


class Bench:
    """One benchmark run; ``close`` undoes whatever was set up."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.clock = Clock()
        self.logs = Path(tempfile.mkdtemp(prefix="agora-bench-"))
        self.db = BenchDatabase.fresh()
        self.db_created = False
        self.servers: list[ServerProcess] = []
        self.rng = random.Random(20261122)
        self.wrk: str | None = None
        self.scenarios: list[dict[str, Any]] = []
        self.peaks: dict[int, int] = {}
        self.bare_peaks: dict[int, int] = {}
        self.created_responses = 0
        self.env = self._agora_env()
        self.total_ttl = agora_total_ttl()

    # --- set-up ---------------------------------------------------------------------------

    def _agora_env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("AGORA_BENCH_")}
        env.update(
            {
                "AGORA_DATABASE_URL": self.db.url,
                "AGORA_ENVIRONMENT": "production",
                "AGORA_SECRET_KEY": secrets.token_urlsafe(48),
                "AGORA_ACCESS_LOG": "false",
                # Rate limits protect a shop from one abusive client; the load generator
                # is exactly that, so the benchmark measures the platform without them.
                "AGORA_RATE_LIMIT_ENABLED": "false",
                # Checkout pays with test cards; production takes that only when chosen.
                "AGORA_PAYMENTS_PROVIDER": "test",
                "AGORA_PAYMENT_WEBHOOK_SECRET": secrets.token_urlsafe(48),
                "AGORA_PUBLIC_URL": "https://bench.agora.invalid",
                "AGORA_MAIL_FROM": "Agora benchmark <bench@agora.invalid>",
                # Benchmark customers and the admin script never read mail or enrol MFA.
                "AGORA_REQUIRE_VERIFIED_EMAIL_FOR_CHECKOUT": "false",
                "AGORA_MFA_REQUIRED_FOR_STAFF_AND_ADMINS": "false",
                "AGORA_LOG_LEVEL": "WARNING",
                "AGORA_WORKERS": str(WORKERS),
                "PYTHONUNBUFFERED": "1",
            }
        )
        return env

    def agora(self, *args: str) -> list[str]:
        return [sys.executable, "-m", "agora.cli.main", *args]

    def choose_generator(self) -> str:
        python = "the Python generator in `benchmarks/load.py` (asyncio, one process per thread)"
        if self.args.generator == "python":
            return python
        self.wrk = load.ensure_wrk()
        if self.wrk is None:
            if self.args.generator == "wrk":
                raise BenchmarkError("wrk was requested but is not available")
            return python
        version = subprocess.run(
            [self.wrk, "--version"], capture_output=True, text=True, check=False
        )
        return (version.stdout or version.stderr).split("Copyright")[0].strip() or "wrk"

    def setup_database(self) -> float:
        self.clock.say(f"creating database {self.db.name} on {describe(self.db.admin_url)}")
        self.db.create()
        self.db_created = True
        run_command(
            self.agora("migrate"),
            env=self.env,
            cwd=ROOT,
            log_path=self.logs / "migrate.log",
            what="agora migrate",
            timeout=120,
        )
        self.clock.say(f"seeding {self.args.products:,} products (agora seed)")
        started = time.monotonic()
        run_command(
            self.agora("seed", "--products", str(self.args.products), "--allow-production"),
            env=self.env,
            cwd=ROOT,
            log_path=self.logs / "seed.log",
            what="agora seed",
            timeout=600,
        )
        seconds = time.monotonic() - started
        # A shop's database has been vacuumed and analysed by autovacuum long before it
        # sees traffic like this; a freshly loaded one has not.
        self.db.fetch("VACUUM ANALYZE")
        count = self.db.fetchval("SELECT count(*) FROM products WHERE is_published")
        self.clock.say(f"seeded in {seconds:.1f} s; {count:,} published products")
        return seconds

    def start_servers(self) -> tuple[ServerProcess, ServerProcess]:
        port = free_port()
        agora = ServerProcess(
            "agora serve",
            self.agora("serve", "--host", LOOPBACK, "--port", str(port), "--workers", str(WORKERS)),
            self.env,
            port,
            self.logs / "agora-serve.log",
            ROOT,
        )
        bare_port = free_port()
        bare_env = {
            **self.env,
            "BARE_DATABASE_URL": self.db.url,
            "BARE_POOL_SIZE": str(agora_pool_size()),
            "BARE_TOTAL_TTL": str(self.total_ttl),
        }
        bare = ServerProcess(
            "bare endpoint",
            [
                sys.executable,
                "-m",
                "uvicorn",
                "bare_app:app",
                "--app-dir",
                str(HERE),
                "--host",
                LOOPBACK,
                "--port",
                str(bare_port),
                "--workers",
                str(WORKERS),
                "--no-access-log",
                "--no-server-header",
                "--log-level",
                "warning",
                "--lifespan",
                "on",
            ],
            bare_env,
            bare_port,
            self.logs / "bare.log",
            ROOT,
        )
        for server in (agora, bare):
            self.servers.append(server)
            server.start()
        for server in (agora, bare):
            server.wait_ready("/health/ready", expected_workers=WORKERS)
            self.clock.say(
                f"{server.name} ready on {server.base_url}, workers {server.worker_pids()}"
            )
        return agora, bare

    def prepare(self, agora: ServerProcess) -> prepare.Prepared:
        self.clock.say(f"registering and logging in {self.args.customers} customers")
        customers = asyncio.run(prepare.register_customers(agora.base_url, self.args.customers))
        admin_email = f"bench-admin-{secrets.token_hex(4)}@agora.example"
        admin_password = secrets.token_urlsafe(18)
        run_command(
            self.agora("create-admin", "--email", admin_email, "--password", admin_password),
            env=self.env,
            cwd=ROOT,
            log_path=self.logs / "create-admin.log",
            what="agora create-admin",
            timeout=60,
        )
        admin_token = prepare.login(agora.base_url, admin_email, admin_password)
        product_id, unit_price = prepare.create_checkout_product(agora.base_url, admin_token)
        ids = prepare.sample_product_ids(self.db, 5000)
        terms = prepare.search_terms(self.db, self.rng)
        self.clock.say(
            f"checkout product {product_id}; {len(ids):,} ids for detail; "
            f"{len(terms)} search terms (e.g. {', '.join(terms[:4])})"
        )
        return prepare.Prepared(customers, admin_token, product_id, unit_price, ids, terms)

    def request_files(self, ready: prepare.Prepared) -> dict[str, Path]:
        files = {
            key: self.logs / f"{key}.requests" for key in ("list", "detail", "search", "checkout")
        }
        load.write_requests(
            files["list"], [load.RequestSpec("GET", "/api/v1/products?page_size=20")]
        )
        load.write_requests(
            files["detail"],
            [load.RequestSpec("GET", f"/api/v1/products/{pid}") for pid in ready.product_ids],
        )
        load.write_requests(
            files["search"],
            [
                load.RequestSpec(
                    "GET", f"/api/v1/products?q={urllib.parse.quote_plus(term)}&page_size=20"
                )
                for term in ready.search_terms
            ],
        )
        body = orjson.dumps(
            {
                "payment_token": "tok_success",
                "items": [{"product_id": ready.checkout_product_id, "quantity": 1}],
            }
        ).decode()
        load.write_requests(
            files["checkout"],
            [load.RequestSpec("POST", "/api/v1/orders", c.token, body) for c in ready.customers],
        )
        return files

    def check_same_rows(self, agora: ServerProcess, bare: ServerProcess) -> bool:
        """The bare endpoint must return the very page Agora returns, or the ratio is moot."""
        path = "/api/v1/products?page_size=20"
        mine = httpx.get(agora.base_url + path, timeout=30).json()
        theirs = httpx.get(bare.base_url + path, timeout=30).json()
        same_ids = [p["id"] for p in mine["data"]] == [p["id"] for p in theirs["data"]]
        same_fields = mine["data"][:1] == theirs["data"][:1]
        same_total = mine["meta"].get("pagination") == theirs["meta"].get("pagination")
        if not (same_ids and same_fields and same_total):
            self.clock.say(
                "WARNING: the bare endpoint's page differs from Agora's "
                f"(ids {same_ids}, fields {same_fields}, pagination {same_total})"
            )
        return same_ids and same_fields and same_total

    # --- load -----------------------------------------------------------------------------

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
        return load.run_python(
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

    # --- the run --------------------------------------------------------------------------

    def run(self) -> dict[str, Any]:
        args = self.args
        started_at = datetime.now(UTC)
        loadavg = os.getloadavg()[0]
        generator = self.choose_generator()
        self.clock.say(f"load generator: {generator}; load average {loadavg:.2f}")
        if loadavg > 1.0:
            self.clock.say(
                "note: the machine is busy; absolute numbers will be lower than on a quiet one"
            )
        seed_seconds = self.setup_database()
        list_sql_ms = {
            "page": round(self.db.execution_ms(bare_app.LIST_SQL, bare_app.PAGE_SIZE, 0), 3),
            "count": round(self.db.execution_ms(bare_app.COUNT_SQL), 3),
        }
        self.clock.say(
            f"list SQL in PostgreSQL alone: page {list_sql_ms['page']:.2f} ms, "
            f"count {list_sql_ms['count']:.2f} ms"
        )
        agora, bare = self.start_servers()
        started_rss = RssSampler(agora.worker_pids()).sample()
        ready = self.prepare(agora)
        prepared_rss = RssSampler(agora.worker_pids()).sample()
        files = self.request_files(ready)
        same_rows = self.check_same_rows(agora, bare)
        stock_before = prepare.stock_of(self.db, ready.checkout_product_id)

        c = args.connections
        bare_result = self.scenario(
            "bare", "bare ASGI + asyncpg: product list", bare, files["list"], c
        )
        self.scenario("list", "product list", agora, files["list"], c)
        self.scenario("detail", "product detail", agora, files["detail"], c)
        self.scenario("search", "search", agora, files["search"], c)
        for n in args.checkout_connections:
            self.scenario(
                f"checkout-{n}",
                f"checkout ({n} connections)",
                agora,
                files["checkout"],
                n,
                is_checkout=True,
            )
        for s in self.scenarios:
            s["ratio_to_bare"] = (
                round(s["requests_per_s"] / bare_result["requests_per_s"], 3)
                if bare_result["requests_per_s"]
                else None
            )

        profile: dict[str, Any] | None = None
        list_profile: dict[str, Any] | None = None
        if args.profile_seconds > 0:
            measured = [s for s in self.scenarios if s["key"] != "bare"]
            slowest = min(measured, key=lambda s: s["requests_per_s"])
            file = files["checkout" if slowest["key"].startswith("checkout") else slowest["key"]]
            profile = self.profile(agora, slowest, file)
            # The list carries the ratio target: show where its time goes as well.
            listing = next(s for s in self.scenarios if s["key"] == "list")
            if slowest is not listing:
                list_profile = self.profile(agora, listing, files["list"])

        time.sleep(2)  # let orders still in flight at the last cut-off finish
        stock_audit = audit.checkout_audit(self.db, ready.checkout_product_id, stock_before)
        stock_audit["created_responses"] = self.created_responses
        after_rss = RssSampler(agora.worker_pids()).sample()
        self.clock.say(f"stock audit: {_audit_line(stock_audit)}")

        memory = {
            "workers": [
                {
                    "pid": pid,
                    "started_mb": round(started_rss.get(pid, 0) / MB, 1),
                    "prepared_mb": round(prepared_rss.get(pid, 0) / MB, 1),
                    "peak_mb": round(peak / MB, 1),
                    "after_mb": round(after_rss.get(pid, 0) / MB, 1),
                }
                for pid, peak in sorted(self.peaks.items())
            ],
            "max_rss_mb": round(max(self.peaks.values()) / MB, 1) if self.peaks else None,
            "bare_max_rss_mb": (
                round(max(self.bare_peaks.values()) / MB, 1) if self.bare_peaks else None
            ),
        }
        results: dict[str, Any] = {
            "started_at": started_at.isoformat(timespec="seconds"),
            "finished_at": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
            "commit": _commit(),
            "machine": {
                "cpus": os.cpu_count(),
                "python": platform.python_version(),
                "postgresql": self.db.fetchval("SHOW server_version"),
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
                "list_total_cache_seconds": self.total_ttl,
                "rate_limits": rate_limits(self.env),
                "pool_size": agora_pool_size(),
                "pool_max_overflow": agora_pool_size("database_max_overflow"),
            },
            "list_sql_ms": list_sql_ms,
            "scenarios": self.scenarios,
            "memory": memory,
            "checkout_audit": stock_audit,
            "profile": profile,
            "list_profile": list_profile,
        }
        results["targets"] = report.evaluate_targets(results)
        return results

    def close(self) -> None:
        for server in reversed(self.servers):
            try:
                server.stop()
            except Exception as exc:
                print(f"could not stop {server.name}: {exc}", file=sys.stderr)
        if self.db_created and not self.args.keep_database:
            try:
                self.db.drop()
            except Exception as exc:
                print(f"could not drop database {self.db.name}: {exc}", file=sys.stderr)
        elif self.db_created:
            print(f"database kept: {self.db.url}")


def agora_pool_size(field: str = "database_pool_size") -> int:
    """Agora's pool setting (environment or default); the bare endpoint gets the same size."""
    configured = os.environ.get(f"AGORA_{field.upper()}")
    if configured and configured.isdigit():
        return int(configured)
    return int(Settings.model_fields[field].default)


def rate_limits(env: dict[str, str]) -> str | None:
    """How the server under test limits rates, for the report (None: no rate limiting)."""
    if "rate_limit_enabled" not in Settings.model_fields:
        return None
    if env.get("AGORA_RATE_LIMIT_ENABLED", "true").lower() in ("0", "false", "no", "off"):
        return "off"
    auth = env.get("AGORA_RATE_LIMIT_AUTH_PER_MINUTE", "default")
    api = env.get("AGORA_RATE_LIMIT_API_PER_MINUTE", "default")
    return f"on ({auth} auth and {api} API requests per minute)"


def agora_total_ttl() -> float:
    """How long Agora keeps a counted list total, so the bare endpoint can do the same."""
    default = inspect.signature(TotalCache).parameters.get("ttl")
    if default is None or not isinstance(default.default, int | float):
        return 0.0
    return float(default.default)


def _audit_line(audit_result: dict[str, Any]) -> str:
    if not audit_result.get("verified"):
        return str(audit_result.get("problem"))
    return (
        f"stock {audit_result['stock_before']:,} -> {audit_result['stock_after']:,}, "
        f"{audit_result['units_held_by_orders']:,} units in orders, "
        f"oversells {audit_result['oversells']}, unaccounted {audit_result['units_unaccounted']}"
    )


def _commit() -> str:
    try:
        sha = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return sha + ("+changes" if dirty else "")


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
    bench = Bench(args)
    try:
        results = bench.run()
    except BenchmarkError as exc:
        print(f"\nbenchmark failed: {exc}\nlogs: {bench.logs}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"\nbenchmark interrupted; logs: {bench.logs}", file=sys.stderr)
        return 130
    finally:
        with contextlib.suppress(KeyboardInterrupt):
            bench.close()
        restore()

    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    if args.products >= FULL_CATALOG:
        report.write_json(results, RESULTS / "latest.json", RESULTS / f"{stamp}.json")
        written = "benchmarks/results/latest.json"
    else:
        # A quick check is not the benchmark: keep it out of the repository.
        report.write_json(results, bench.logs / "results.json")
        written = str(bench.logs / "results.json")
    if args.products >= FULL_CATALOG or args.write_docs:
        report.update_doc(DOC, report.results_section(results))
        written += f" and {DOC.relative_to(ROOT)}"
    print(f"\nwrote {written}; logs and profile in {bench.logs}")
    _print_summary(results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
