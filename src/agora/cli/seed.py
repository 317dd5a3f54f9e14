"""``agora seed``: a deterministic demo catalog and the demo customer.

Products go in through ``CatalogService.import_catalog`` in batches of 1,000, one
transaction each, so a 100,000-product load streams without holding it all in memory.
"""

from __future__ import annotations

from itertools import islice
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from agora.bootstrap import Container
from agora.catalog.demo import demo_categories, demo_products
from agora.catalog.services import CatalogService
from agora.cli.runtime import console, fail, run_with_container, settings_or_exit
from agora.platform.access import Principal, Role
from agora.platform.errors import AlreadyExistsError, ValidationError
from agora.platform.ids import new_id
from agora.platform.production_guard import DEFAULT_DEMO_PASSWORD

BATCH = 1_000
DEMO_CUSTOMER_NAME = "Demo Shopper"


def seed(
    products: Annotated[
        int | None,
        typer.Option(
            "--products",
            min=0,
            max=1_000_000,
            help="How many products to generate (default: AGORA_SEED_PRODUCTS)",
        ),
    ] = None,
    if_empty: Annotated[
        bool, typer.Option("--if-empty", help="Do nothing to the catalog if it has products")
    ] = False,
    seed_value: Annotated[
        int, typer.Option("--seed", help="Random seed: the same seed, the same catalog")
    ] = 2026,
    allow_production: Annotated[
        bool,
        typer.Option(
            "--allow-production",
            help="Seed even with AGORA_ENVIRONMENT=production (load tests, staging)",
        ),
    ] = False,
) -> None:
    """Load demo data: categories, products and a demo customer."""
    settings = settings_or_exit()
    if settings.is_production and not allow_production:
        fail("no demo data in production without --allow-production", code=1)

    async def work(container: Container) -> None:
        settings = container.settings
        count = settings.seed_products if products is None else products
        catalog = container.commerce.catalog
        if if_empty and await catalog.has_products():
            console.print("[yellow]catalog already has products; not seeding it[/]")
        else:
            await _load_catalog(catalog, count, seed_value, settings.currency)
        if await _create_demo_customer(container):
            console.print(
                f"Demo login: [bold]{settings.demo_customer_email}[/] / "
                f"[bold]{settings.demo_customer_password.get_secret_value()}[/]"
            )

    run_with_container(work, settings)


async def _load_catalog(catalog: CatalogService, count: int, seed: int, currency: str) -> None:
    # The CLI is trusted: it acts as a system administrator, not as a logged-in user.
    system = Principal.for_user(new_id(), Role.ADMIN)
    existing = {c.slug: c for c in await catalog.list_categories()}
    categories = demo_categories(existing)
    new_categories = [c for c in categories if c.slug not in existing]
    generated = demo_products(categories, count, seed=seed, currency=currency)
    try:
        with Progress(
            TextColumn("[bold]seeding products"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
        ) as progress:
            task = progress.add_task("products", total=count)
            await catalog.import_catalog(system, new_categories, [])
            while batch := list(islice(generated, BATCH)):
                await catalog.import_catalog(system, [], batch)
                progress.advance(task, len(batch))
    except AlreadyExistsError:
        console.print(
            "[bold red]error:[/] demo products are already loaded; "
            "use --if-empty to skip seeding a catalog that has products"
        )
        raise typer.Exit(1) from None
    console.print(
        f"[green]seeded {count} products in {len(categories)} categories[/] (seed {seed})"
    )


async def _create_demo_customer(container: Container) -> bool:
    """Create the demo shopper (once); a refused setting is reported, not fatal."""
    settings = container.settings
    password = settings.demo_customer_password.get_secret_value()
    if settings.is_production and password == DEFAULT_DEMO_PASSWORD:
        console.print(
            "[yellow]warning:[/] the demo customer was not created: its default password "
            "is public (set AGORA_DEMO_CUSTOMER_PASSWORD to seed it in production)"
        )
        return False
    try:
        await container.identity.registration.create_user(
            email=settings.demo_customer_email,
            password=password,
            name=DEMO_CUSTOMER_NAME,
            role=Role.CUSTOMER,
        )
    except AlreadyExistsError:
        pass  # seeded before: the demo login still works
    except ValidationError as exc:
        console.print(
            f"[yellow]warning:[/] the demo customer was not created: {exc.message} "
            "(check AGORA_DEMO_CUSTOMER_EMAIL and AGORA_DEMO_CUSTOMER_PASSWORD)"
        )
        return False
    return True
