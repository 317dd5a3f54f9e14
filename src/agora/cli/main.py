"""Entry point of the ``agora`` command."""

from __future__ import annotations

import asyncio
import os
from typing import Annotated

import typer
import uvicorn

from agora.cli import accounts, audit, erd, events, jobs, keys, mfa, seed, worker
from agora.cli.runtime import check_database, console, describe_database, fail, settings_or_exit
from agora.platform.db.migrations import upgrade

app = typer.Typer(
    name="agora",
    help="Agora commerce platform: serve the API, migrate the database, seed demo data.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
)
app.command("seed")(seed.seed)
app.command("create-admin")(accounts.create_admin)
app.command("erd")(erd.erd)
app.command("worker")(worker.worker)
app.add_typer(audit.app, name="audit")
app.add_typer(events.app, name="events")
app.add_typer(jobs.app, name="jobs")
app.add_typer(keys.app, name="keys")
app.add_typer(mfa.app, name="mfa")


@app.command()
def migrate(
    revision: Annotated[str, typer.Option(help="Target revision")] = "head",
) -> None:
    """Bring the database schema up to date (safe to run repeatedly)."""
    settings = settings_or_exit()
    if not settings.is_sqlite:  # SQLite creates its file (and folder) on the way
        asyncio.run(check_database(settings, need_schema=False))
    upgrade(settings.database_url, revision)
    console.print(f"[green]database at {revision}[/] ({describe_database(settings.database_url)})")


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Bind address (AGORA_HOST)")] = None,
    port: Annotated[int | None, typer.Option(help="Port (AGORA_PORT)")] = None,
    workers: Annotated[int | None, typer.Option(help="Worker processes (AGORA_WORKERS)")] = None,
    reload: Annotated[bool, typer.Option(help="Reload on code changes (development)")] = False,
) -> None:
    """Serve the REST API (and, later, the web UI) with uvicorn."""
    settings = settings_or_exit()
    if reload and settings.is_production:
        fail(
            "--reload watches the source tree and restarts on every change; "
            "it is for development, not production"
        )
    asyncio.run(check_database(settings))
    # Worker processes inherit this: glibc otherwise keeps one malloc arena per thread
    # that ever hashed a password, and a worker's resident memory never shrinks back.
    os.environ.setdefault("MALLOC_ARENA_MAX", "2")
    host = host or settings.host
    port = port or settings.port
    workers = workers or settings.workers
    base = f"http://{host}:{port}"
    console.print(f"[bold]Agora[/] on {base}  ({describe_database(settings.database_url)})")
    console.print(f"  API:        {base}/api/v1/products")
    console.print(f"  API docs:   {base}/docs")
    console.print(f"  Events:     {base}/asyncapi")
    console.print(f"  Health:     {base}/health/ready")
    if not settings.is_production:
        console.print(
            f"  Demo login: {settings.demo_customer_email} / "
            f"{settings.demo_customer_password.get_secret_value()}"
        )
    uvicorn.run(
        "agora.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=None if reload else workers,
        reload=reload,
        access_log=False,
        log_config=None,
        proxy_headers=True,
        server_header=False,
        lifespan="on",
    )


if __name__ == "__main__":
    app()
