"""``agora create-admin``: create (or promote) an administrator account."""

from __future__ import annotations

from typing import Annotated

import typer

from agora.bootstrap import Container
from agora.cli.runtime import console, run_with_container
from agora.platform.access import Role
from agora.platform.errors import AlreadyExistsError


def create_admin(
    email: Annotated[str, typer.Option(help="Email address of the administrator")],
    password: Annotated[
        str | None,
        typer.Option(
            help="Password (12-128 characters); prompted for, hidden, when omitted",
            show_default=False,
        ),
    ] = None,
    name: Annotated[str, typer.Option(help="Display name")] = "Administrator",
) -> None:
    """Create an administrator; an existing account with this email is promoted instead.

    Promotion leaves the existing password untouched.
    """
    if password is None:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    secret: str = password

    async def work(container: Container) -> tuple[str, bool]:
        registration, users = container.identity.registration, container.identity.users
        if await registration.find_by_email(email) is not None:
            user = await users.set_role(email, Role.ADMIN)
            return user.email, True
        try:
            user = await registration.create_user(
                email=email, password=secret, name=name, role=Role.ADMIN
            )
        except AlreadyExistsError:  # created concurrently: promote it all the same
            user = await users.set_role(email, Role.ADMIN)
            return user.email, True
        return user.email, False

    address, promoted = run_with_container(work)
    if promoted:
        console.print(
            f"[green]{address} already had an account; it is now an administrator[/] "
            "(its password was not changed)."
        )
    else:
        console.print(f"[green]administrator {address} created[/]")
