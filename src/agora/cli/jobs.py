"""``agora jobs``: list the scheduled jobs with their last run and lease, run one now."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from agora.bootstrap import Container
from agora.cli.runtime import console, run_with_container
from agora.platform.clock import utcnow
from agora.platform.jobs import JobRun, JobState, Outcome

app = typer.Typer(help="Scheduled jobs: housekeeping run by one instance at a time.")
stdout = Console()


def _when(at: datetime | None, now: datetime) -> str:
    if at is None:
        return "-"
    seconds = int((at - now).total_seconds())
    ago = seconds < 0
    seconds = abs(seconds)
    span = (
        f"{seconds}s"
        if seconds < 120
        else f"{seconds // 60}m"
        if seconds < 7200
        else f"{seconds // 3600}h"
    )
    stamp = at.strftime("%Y-%m-%d %H:%M:%S")
    return f"{stamp} ({span} ago)" if ago else f"{stamp} (in {span})"


def _interval(seconds: float) -> str:
    if seconds % 3600 == 0:
        return f"{int(seconds // 3600)}h"
    if seconds % 60 == 0:
        return f"{int(seconds // 60)}m"
    return f"{seconds:g}s"


@app.command("list")
def list_jobs() -> None:
    """Every job: interval, last run and its outcome, next run, who holds its lease."""

    async def work(container: Container) -> list[tuple[str, float, JobState | None]]:
        scheduler = container.jobs.scheduler
        states = await scheduler.states()
        return [
            (job.name, job.interval.total_seconds(), states.get(job.name)) for job in scheduler.jobs
        ]

    rows = run_with_container(work)
    now = utcnow()
    table = Table(title="Scheduled jobs")
    for column in ("job", "interval", "last run", "outcome", "next run", "lease holder"):
        table.add_column(column, overflow="fold")
    for name, interval, state in rows:
        if state is None:
            table.add_row(name, _interval(interval), "-", "-", "-", "-")
            continue
        outcome = state.last_outcome or "never run"
        if state.last_error:
            outcome = f"{outcome}: {state.last_error}"
        holder = (
            f"{state.lease_owner} until {state.lease_until:%H:%M:%S}"
            if state.held(now) and state.lease_owner and state.lease_until
            else "-"
        )
        table.add_row(
            name,
            _interval(interval),
            _when(state.last_started_at, now),
            escape(outcome),
            "due now"
            if state.next_run_at <= now and not state.held(now)
            else _when(state.next_run_at, now),
            escape(holder),
        )
    stdout.print(table)


@app.command("run")
def run_job(
    name: Annotated[str, typer.Argument(help="The job, as `agora jobs list` names it")],
) -> None:
    """Run one job now, whether due or not, under its lease (waits for nobody: if
    another instance holds the lease, says so and exits 1)."""

    async def work(container: Container) -> JobRun | tuple[str | None, datetime | None] | None:
        scheduler = container.jobs.scheduler
        run = await scheduler.run_now(name)
        if run is not None:
            return run
        state = (await scheduler.states()).get(name)
        return (state.lease_owner, state.lease_until) if state else (None, None)

    result = run_with_container(work)
    if not isinstance(result, JobRun):
        owner, until = result if isinstance(result, tuple) else (None, None)
        console.print(
            f"[yellow]{escape(name)} is running elsewhere[/] (lease held by "
            f"{escape(owner or 'another instance')} until {until:%H:%M:%S} UTC); "
            "try again after it finishes."
            if until
            else f"[yellow]{escape(name)} is running elsewhere[/]"
        )
        raise typer.Exit(1)
    if result.outcome is not Outcome.SUCCEEDED:
        console.print(f"[bold red]{escape(name)} failed:[/] {escape(result.error or '')}")
        raise typer.Exit(1)
    typer.echo(f"{name}: {result.summary or 'done'} (fencing token {result.token})")
