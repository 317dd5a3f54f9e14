"""``agora mfa reset``: remove a user's authenticator when they lost it."""

from __future__ import annotations

from typing import Annotated

import typer

from agora.bootstrap import Container
from agora.cli.runtime import console, run_with_container
from agora.identity.mfa.services import MfaService

app = typer.Typer(
    name="mfa",
    help="Multi-factor authentication: operator tasks.",
    no_args_is_help=True,
)


@app.command("reset")
def reset(
    email: Annotated[str, typer.Argument(help="Email address of the account")],
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation")] = False,
) -> None:
    """Remove the account's authenticator and recovery codes and end all its sessions.

    Verify the person's identity by other means first: afterwards their password alone
    signs them in, until they enroll again (docs/runbooks/mfa.md).
    """
    if not yes:
        typer.confirm(
            f"Remove multi-factor authentication from {email} and end all its sessions?",
            abort=True,
        )

    async def work(container: Container) -> tuple[str, bool]:
        user, had = await container.registry.get(MfaService).reset(email)
        return user.email, had

    address, had = run_with_container(work)
    if had:
        console.print(
            f"[green]multi-factor authentication removed from {address}[/]; all its sessions "
            "were ended. They can log in with their password and enroll again."
        )
    else:
        console.print(
            f"[yellow]{address} had no authenticator enrolled[/]; all its sessions were ended."
        )
