"""``agora keys``: rotate and list the access-token signing keys.

Running app processes pick a rotation up by themselves (within
``AGORA_SIGNING_KEY_REFRESH_SECONDS``, or at once when they meet a token signed with
the new key); nothing needs a restart. See docs/runbooks/signing-keys.md.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Annotated

import typer

from agora.bootstrap import Container
from agora.cli.runtime import console, run_with_container
from agora.identity.tokens.ports import KeyRotation, SigningKeyInfo

app = typer.Typer(
    name="keys",
    help="Access-token signing keys: rotate them, list them.",
    no_args_is_help=True,
)


def _when(moment: datetime | None) -> str:
    return "-" if moment is None else moment.strftime("%Y-%m-%d %H:%M:%S UTC")


@app.command("rotate")
def rotate(
    drop_previous: Annotated[
        bool,
        typer.Option(
            "--drop-previous",
            help="Also stop accepting tokens signed by every older key, at once (use when "
            "a private key may have leaked: every client must refresh or sign in again)",
        ),
    ] = False,
) -> None:
    """Make a new signing key the active one.

    The previous key keeps verifying the tokens it signed until they have expired
    (access-token lifetime plus the key refresh interval plus a minute), then drops out
    of the JWKS.
    """

    async def work(container: Container) -> KeyRotation:
        return await container.identity.keys.rotate(drop_previous=drop_previous)

    rotation = run_with_container(work)
    console.print(f"[green]new active signing key[/] {rotation.new.kid}")
    for kid in rotation.retired:
        if kid in rotation.dropped:
            continue
        console.print(f"  retired {kid}: verifies its tokens until they expire")
    for kid in rotation.dropped:
        console.print(f"  dropped {kid}: its tokens are refused from now on")


@app.command("list")
def list_keys() -> None:
    """List the signing keys: kid, state, created, retired, verifying until."""

    async def work(container: Container) -> Sequence[SigningKeyInfo]:
        return await container.identity.keys.list_keys()

    keys = run_with_container(work)
    typer.echo(f"{'kid':<44} {'state':<10} {'created':<24} {'retired':<24} verifies until")
    for key in keys:
        typer.echo(
            f"{key.kid:<44} {key.state:<10} {_when(key.created_at):<24} "
            f"{_when(key.retired_at):<24} {_when(key.verifies_until)}"
        )
