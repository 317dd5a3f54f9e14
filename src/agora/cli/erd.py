"""``agora erd``: the entity-relationship diagram, generated from the table metadata."""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Annotated

import typer

from agora.bootstrap import load_metadata
from agora.cli.runtime import console
from agora.platform.db.erd import render_diagram, render_document

MAX_DIFF_LINES = 40


def erd(
    output: Annotated[
        Path, typer.Option("--output", "-o", help="Markdown file to write (or check)")
    ] = Path("docs/erd.md"),
    check: Annotated[
        bool,
        typer.Option("--check", help="Write nothing; exit 1 if the file is stale (for CI)"),
    ] = False,
) -> None:
    """Write the Mermaid ERD of the database schema to a markdown file."""
    metadata = load_metadata()
    expected = render_document(metadata)
    diagram = render_diagram(metadata)
    summary = f"{diagram.tables} tables, {diagram.relationships} relationships"
    if check:
        current = output.read_text(encoding="utf-8") if output.is_file() else None
        if current == expected:
            console.print(f"[green]{output} is up to date[/] ({summary})")
            return
        if current is None:
            console.print(
                f"[bold red]error:[/] {output} does not exist; run `agora erd`.", soft_wrap=True
            )
        else:
            console.print(
                f"[bold red]error:[/] {output} is stale: it differs from the table metadata. "
                "Run `agora erd` (or `make erd`) and commit the result.",
                soft_wrap=True,
            )
            diff = difflib.unified_diff(
                current.splitlines(),
                expected.splitlines(),
                f"{output} (committed)",
                f"{output} (generated)",
                lineterm="",
            )
            for line in list(diff)[:MAX_DIFF_LINES]:
                console.print(line, markup=False, highlight=False)
        raise typer.Exit(1)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(expected, encoding="utf-8", newline="\n")
    console.print(f"[green]wrote {output}[/] ({summary})")
