"""``agora audit verify``: walk the audit trail's hash chain and report the first break."""

from __future__ import annotations

from typing import Annotated

import typer

from agora.audit.domain import Anchor, ChainReport
from agora.bootstrap import Container
from agora.cli.runtime import console, run_with_container
from agora.platform.errors import ValidationError

app = typer.Typer(help="The audit trail.", no_args_is_help=True)

EXIT_BROKEN = 1


@app.command()
def verify(
    anchor: Annotated[
        str | None,
        typer.Option(
            help="'<seq>:<hash>' printed by an earlier run and kept outside the database; "
            "the record at <seq> must still carry <hash>.",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Check that no audit record was edited, deleted or inserted.

    Exits 0 when the chain is intact, 1 naming the first bad record otherwise.
    """
    try:
        parsed = Anchor.parse(anchor) if anchor is not None else None
    except ValidationError as exc:
        raise typer.BadParameter(exc.message, param_hint="--anchor") from None

    async def work(container: Container) -> ChainReport:
        return await container.infrastructure.audit.verify(parsed)

    report = run_with_container(work)
    if report.broken is not None:
        bad = report.broken
        record_id = f" (id {bad.record_id})" if bad.record_id is not None else ""
        console.print(f"[bold red]audit chain broken at record {bad.seq}{record_id}[/]")
        console.print(f"  {bad.reason}")
        console.print(f"  records 1 to {report.last_seq} verified before the break")
        raise typer.Exit(EXIT_BROKEN)
    # On stdout, so a scheduled run can append the anchor to a file kept elsewhere.
    if report.checked == 0:
        typer.echo("audit chain intact: no records yet")
        return
    typer.echo(
        f"audit chain intact: {report.checked} records, 1 to {report.last_seq}; "
        f"anchor {report.last_seq}:{report.last_hash}"
    )
