"""``agora events``: the events backbone for operators.

``status`` shows the outbox backlog, each consumer's lag and the dead letters;
``dlq list|replay|purge`` inspects and settles dead letters (replays and purges are
audited with actor ``cli``); ``drain`` relays and handles what is due now; ``asyncapi``
prints the AsyncAPI document generated from the event catalogue.
"""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from typing import Annotated
from uuid import UUID

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from agora.bootstrap import Container, build_container
from agora.cli.runtime import console, fail, run_with_container, settings_or_exit
from agora.platform.events.operations import (
    CLI,
    MAX_LIST,
    DrainOutcome,
    Outcome,
    Selection,
    status_as_dict,
)
from agora.platform.events.ports import BackboneStatus, DeadLetter

app = typer.Typer(help="The events backbone: status, dead letters, drain.", no_args_is_help=True)
dlq = typer.Typer(help="Dead letters: events a consumer gave up on.", no_args_is_help=True)
app.add_typer(dlq, name="dlq")
out = Console()  # tables on stdout; messages (``console``) on stderr

Consumer = Annotated[
    str | None,
    typer.Option(help='Only this consumer\'s dead letters ("relay": refused outbox rows)'),
]


def _age(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def _status_table(status: BackboneStatus) -> Table:
    table = Table(title="Consumers", title_justify="left")
    for column in ("consumer", "pending", "oldest pending", "retrying", "dead", "handled"):
        table.add_column(column, justify="left" if column == "consumer" else "right")
    for lag in status.consumers:
        table.add_row(
            escape(lag.consumer),
            str(lag.pending),
            _age(lag.oldest_pending_age_seconds),
            str(lag.retrying),
            f"[red]{lag.dead}[/]" if lag.dead else "0",
            str(lag.handled),
        )
    return table


def _print_status(status: BackboneStatus) -> None:
    backlog = Table(title="Outbox", title_justify="left")
    for column in ("unpublished", "oldest unpublished", "dead letters"):
        backlog.add_column(column, justify="right")
    dead = f"[red]{status.dead_letters}[/]" if status.dead_letters else "0"
    backlog.add_row(str(status.unpublished), _age(status.oldest_unpublished_age_seconds), dead)
    out.print(backlog)
    out.print(_status_table(status))


@app.command()
def status(
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object, for scripts")] = False,
) -> None:
    """Outbox backlog, oldest unpublished age, each consumer's lag and dead letters."""

    async def work(container: Container) -> BackboneStatus:
        return await container.events.operations.status(CLI)

    found = run_with_container(work)
    if as_json:
        typer.echo(json.dumps(status_as_dict(found), sort_keys=True))
        return
    _print_status(found)


@dlq.command("list")
def list_dead_letters(
    consumer: Consumer = None,
    limit: Annotated[int, typer.Option(min=1, max=MAX_LIST, help="At most this many")] = 50,
    as_json: Annotated[bool, typer.Option("--json", help="JSON lines, for scripts")] = False,
) -> None:
    """Dead letters, oldest failure first, with the error each last failed with."""

    async def work(container: Container) -> tuple[list[DeadLetter], int]:
        return await container.events.operations.dead_letters(CLI, consumer=consumer, limit=limit)

    letters, total = run_with_container(work)
    if as_json:
        for letter in letters:
            typer.echo(json.dumps(_letter_dict(letter), sort_keys=True, default=str))
        return
    if not letters:
        console.print("[green]no dead letters[/]")
        return
    table = Table(title=f"Dead letters ({len(letters)} of {total})", title_justify="left")
    for column in ("event id", "consumer", "event", "attempts", "failed", "last error"):
        table.add_column(column, overflow="fold")
    for letter in letters:
        table.add_row(
            str(letter.event_id),
            escape(letter.consumer),
            escape(f"{letter.name} v{letter.version}"),
            str(letter.attempts),
            _when(letter.failed_at),
            escape(letter.last_error),
        )
    out.print(table)


def _letter_dict(letter: DeadLetter) -> dict[str, object]:
    return {
        "event_id": str(letter.event_id),
        "consumer": letter.consumer,
        "name": letter.name,
        "version": letter.version,
        "aggregate_id": str(letter.aggregate_id),
        "occurred_at": letter.occurred_at.isoformat(),
        "attempts": letter.attempts,
        "last_error": letter.last_error,
        "failed_at": letter.failed_at.isoformat() if letter.failed_at else None,
        "payload": letter.payload,
    }


def _when(moment: datetime | None) -> str:
    if moment is None:
        return "-"
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return aware.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _selection(
    event_id: str | None, every: bool, consumer: str | None, older_than: float | None = None
) -> Selection:
    if every == (event_id is not None):
        raise typer.BadParameter("give an event ID or --all (not both)")
    ids: tuple[UUID, ...] = ()
    if event_id is not None:
        try:
            ids = (UUID(event_id),)
        except ValueError:
            raise typer.BadParameter(f"{event_id!r} is not an event id (a UUID)") from None
    return Selection(ids, every, consumer, older_than)


def _report(verb: str, outcome: Outcome) -> None:
    if outcome.missing:
        fail(f"{outcome.missing[0]} is not a dead letter (see `agora events dlq list`)", 1)
    console.print(f"[green]{verb} {outcome.changed} dead letter(s)[/]")


EventId = Annotated[str | None, typer.Argument(help="The event id of a dead letter")]
Every = Annotated[bool, typer.Option("--all", help="Every dead letter (of --consumer)")]


@dlq.command()
def replay(event_id: EventId = None, every: Every = False, consumer: Consumer = None) -> None:
    """Put dead letters back to be handled again, from attempt one (audited).

    Deploy the fix first: a letter replayed into the same bug dies again.
    """
    selection = _selection(event_id, every, consumer)

    async def work(container: Container) -> Outcome:
        return await container.events.operations.replay(CLI, selection)

    _report("replayed", run_with_container(work))


@dlq.command()
def purge(
    event_id: EventId = None,
    every: Every = False,
    consumer: Consumer = None,
    older_than: Annotated[
        float | None,
        typer.Option("--older-than", min=0, help="Only letters that failed this many days ago"),
    ] = None,
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation")] = False,
) -> None:
    """Drop dead letters for good (audited); a redelivered copy is still ignored."""
    selection = _selection(event_id, every, consumer, older_than)
    if not yes:
        what = event_id or ("every dead letter" + (f" of {consumer}" if consumer else ""))
        if older_than is not None:
            what += f" older than {older_than:g} days"
        typer.confirm(f"Purge {what} for good?", abort=True, err=True)

    async def work(container: Container) -> Outcome:
        return await container.events.operations.purge(CLI, selection)

    _report("purged", run_with_container(work))


EXIT_NOT_EMPTY = 1


@app.command()
def drain(
    timeout: Annotated[
        float, typer.Option(min=0.1, max=3600, help="Give up after this many seconds")
    ] = 60.0,
) -> None:
    """Relay the outbox and run every consumer until nothing is left (exits 1 when the
    timeout passes first, e.g. events waiting for a later retry)."""

    async def work(container: Container) -> DrainOutcome:
        return await container.events.operations.drain(CLI, timeout)

    outcome = run_with_container(work)
    _print_status(outcome.status)
    if not outcome.emptied:
        console.print(f"[yellow]not empty after {outcome.seconds:g} s[/]")
        raise typer.Exit(EXIT_NOT_EMPTY)
    console.print(f"[green]drained in {outcome.seconds:g} s[/]")


@app.command()
def asyncapi() -> None:
    """Print the AsyncAPI document (``agora events asyncapi > docs/asyncapi.json``).

    Needs no database: the document comes from the event catalogue alone.
    """
    settings = settings_or_exit()

    async def document() -> str:
        container = await build_container(settings)
        try:
            return asyncapi_text(container)
        finally:
            await container.close()

    typer.echo(asyncio.run(document()), nl=False)


def asyncapi_text(container: Container) -> str:
    """The document as committed in ``docs/asyncapi.json``: stable key order, a newline."""
    return json.dumps(container.events.operations.asyncapi(), indent=2, sort_keys=True) + "\n"
