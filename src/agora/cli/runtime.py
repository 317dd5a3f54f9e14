"""What every CLI command needs: settings with a readable error, and a container."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

import typer
from rich.console import Console

from agora.bootstrap import Container, build_container
from agora.platform.errors import DomainError
from agora.platform.settings import Settings, SettingsError, load_settings

T = TypeVar("T")
console = Console(stderr=True)


def settings_or_exit() -> Settings:
    try:
        return load_settings()
    except SettingsError as exc:
        console.print(f"[bold red]error:[/] {exc}")
        raise typer.Exit(2) from None


def run_with_container(work: Callable[[Container], Awaitable[T]]) -> T:
    """Build the container, run ``work`` with it, close it; domain errors exit with 1."""
    settings = settings_or_exit()

    async def main() -> T:
        container = await build_container(settings)
        try:
            return await work(container)
        finally:
            await container.close()

    try:
        return asyncio.run(main())
    except DomainError as exc:
        console.print(f"[bold red]error:[/] {exc.message}")
        for key, value in exc.details.items():
            console.print(f"  {key}: {value}")
        raise typer.Exit(1) from None
