"""The system under test for one ``make bench`` run, set up and taken down again.

A fresh PostgreSQL database (migrated and seeded with the ``agora`` CLI, then
vacuumed), ``agora serve`` and the bare ASGI + asyncpg endpoint, both on free loopback
ports. ``close`` stops the servers and drops the database on any outcome. Agora is
reached only through its CLI, its HTTP API, its settings and the composition root.

Agora's modules are imported inside the functions that read them: the Python load
generator's processes re-import this harness (multiprocessing spawn), and they should
carry no more than the load generator itself.
"""

from __future__ import annotations

import os
import secrets
import sys
import tempfile
import time
from pathlib import Path

from database import BenchDatabase, describe
from servers import LOOPBACK, ServerProcess, free_port, run_command

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
WORKERS = 2


class Clock:
    """Progress lines stamped with the seconds since the run started."""

    def __init__(self) -> None:
        self.started = time.monotonic()

    def say(self, message: str) -> None:
        print(f"[{time.monotonic() - self.started:6.1f}s] {message}", flush=True)


class Stack:
    """The database and the two servers of one run; ``close`` undoes whatever was set up."""

    def __init__(self, clock: Clock, *, keep_database: bool) -> None:
        self.clock = clock
        self.keep_database = keep_database
        self.logs = Path(tempfile.mkdtemp(prefix="agora-bench-"))
        self.db = BenchDatabase.fresh()
        self.db_created = False
        self.servers: list[ServerProcess] = []
        self.env = agora_env(self.db.url)
        self.total_ttl = list_total_cache_seconds()

    def agora(self, what: str, *args: str, timeout: float) -> None:
        """Run one ``agora`` CLI command against the benchmark database, logged."""
        run_command(
            agora_command(what, *args),
            env=self.env,
            cwd=ROOT,
            log_path=self.logs / f"{what}.log",
            what=f"agora {what}",
            timeout=timeout,
        )

    def setup_database(self, products: int) -> float:
        """Create, migrate and seed the database; the seconds seeding took."""
        self.clock.say(f"creating database {self.db.name} on {describe(self.db.admin_url)}")
        self.db.create()
        self.db_created = True
        self.agora("migrate", timeout=120)
        self.clock.say(f"seeding {products:,} products (agora seed)")
        started = time.monotonic()
        self.agora("seed", "--products", str(products), "--allow-production", timeout=600)
        seconds = time.monotonic() - started
        # A shop's database has been vacuumed and analysed by autovacuum long before it
        # sees traffic like this; a freshly loaded one has not.
        self.db.fetch("VACUUM ANALYZE")
        count = self.db.fetchval("SELECT count(*) FROM products WHERE is_published")
        self.clock.say(f"seeded in {seconds:.1f} s; {count:,} published products")
        return seconds

    def start_servers(self) -> tuple[ServerProcess, ServerProcess]:
        """``agora serve`` and the bare endpoint, each with ``WORKERS`` workers, ready."""
        port = free_port()
        agora = ServerProcess(
            "agora serve",
            agora_command(
                "serve", "--host", LOOPBACK, "--port", str(port), "--workers", str(WORKERS)
            ),
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

    def close(self) -> None:
        for server in reversed(self.servers):
            try:
                server.stop()
            except Exception as exc:
                print(f"could not stop {server.name}: {exc}", file=sys.stderr)
        if self.db_created and not self.keep_database:
            try:
                self.db.drop()
            except Exception as exc:
                print(f"could not drop database {self.db.name}: {exc}", file=sys.stderr)
        elif self.db_created:
            print(f"database kept: {self.db.url}")


def agora_command(*args: str) -> list[str]:
    """The ``agora`` CLI of this interpreter's environment."""
    return [sys.executable, "-m", "agora.cli.main", *args]


def agora_env(database_url: str) -> dict[str, str]:
    """The environment ``agora`` runs with: production settings on the benchmark database."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AGORA_BENCH_")}
    env.update(
        {
            "AGORA_DATABASE_URL": database_url,
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


def agora_pool_size(field: str = "database_pool_size") -> int:
    """Agora's pool setting (environment or default); the bare endpoint gets the same size."""
    from agora.platform.settings import Settings

    configured = os.environ.get(f"AGORA_{field.upper()}")
    if configured and configured.isdigit():
        return int(configured)
    return int(Settings.model_fields[field].default)


def rate_limits(env: dict[str, str]) -> str | None:
    """How the server under test limits rates, for the report (None: no rate limiting)."""
    from agora.platform.settings import Settings

    if "rate_limit_enabled" not in Settings.model_fields:
        return None
    if env.get("AGORA_RATE_LIMIT_ENABLED", "true").lower() in ("0", "false", "no", "off"):
        return "off"
    auth = env.get("AGORA_RATE_LIMIT_AUTH_PER_MINUTE", "default")
    api = env.get("AGORA_RATE_LIMIT_API_PER_MINUTE", "default")
    return f"on ({auth} auth and {api} API requests per minute)"


def list_total_cache_seconds() -> float:
    """How long Agora keeps a counted list total, so the bare endpoint can do the same."""
    from agora.bootstrap import LIST_TOTAL_CACHE_SECONDS

    return LIST_TOTAL_CACHE_SECONDS
