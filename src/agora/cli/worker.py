"""``agora worker``: the process that relays the outbox and runs the consumers and the
scheduled jobs. Run as many as you like; they share the work through the database."""

from __future__ import annotations

import asyncio
import os
import signal

from agora.bootstrap import Container
from agora.cli.runtime import console, describe_database, run_with_container, settings_or_exit
from agora.platform.logging import get_logger

log = get_logger("agora.worker")


def worker() -> None:
    """Relay committed events, run the consumers and the scheduled jobs until stopped
    (SIGTERM or Ctrl-C finish the event in hand, then exit)."""
    settings = settings_or_exit()
    os.environ.setdefault("MALLOC_ARENA_MAX", "2")
    transport = (
        f"RabbitMQ (exchange {settings.broker_exchange}, queues {settings.broker_queue_prefix}.*)"
        if settings.broker_url
        else "this database's inboxes (embedded)"
    )
    console.print(
        f"[bold]Agora worker[/] ({describe_database(settings.database_url)}), "
        f"delivering through {transport}"
    )
    run_with_container(_run, settings)


async def _run(container: Container) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    backbone = container.events.backbone
    scheduler = container.jobs.scheduler if container.settings.jobs_enabled else None
    await backbone.start()
    if scheduler is not None:
        scheduler.start()
    log.info("worker_started", pid=os.getpid(), jobs=scheduler is not None)
    try:
        await stop.wait()
    finally:
        log.info("worker_stopping", pid=os.getpid())
        if scheduler is not None:  # a job in hand gives its lease back for the next worker
            await scheduler.stop()
        await backbone.stop()
