"""Every privileged operation checks its own permission in the service layer.

The services are the real ones from the composition root, called directly (no route in
between): a principal holding every permission *but* the one an operation needs is
refused, before anything is looked up, and one holding only that permission is not.
Every service method that takes a principal must be classified here, so a new one
cannot slip in unchecked.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from uuid import UUID

import pytest

from agora.bootstrap import Container
from agora.catalog.domain import ProductFilter
from agora.catalog.drafts import CategoryDraft, ProductDraft
from agora.catalog.services import CatalogService
from agora.identity.access.api_keys import ApiKeyService
from agora.identity.access.users import UserAdministration
from agora.identity.ports import UserFilter
from agora.ordering.carts import CartService
from agora.ordering.services import OrderService
from agora.platform.access import PERMISSIONS, Permission, Principal, Role
from agora.platform.errors import NotFoundError, PermissionDeniedError
from agora.platform.events.operations import EventsOperations, Selection
from agora.platform.ids import new_id
from agora.platform.money import Money

pytestmark = pytest.mark.anyio

EVERY_PERMISSION = frozenset(Permission)


@dataclass(frozen=True)
class Services:
    catalog: CatalogService
    orders: OrderService
    users: UserAdministration
    events: EventsOperations


Operation = Callable[[Services, Principal, UUID], Awaitable[object]]

PRIVILEGED: dict[str, tuple[Permission, Operation]] = {
    "CatalogService.create_product": (
        Permission.CATALOG_WRITE,
        lambda s, p, _: s.catalog.create_product(
            p, ProductDraft(sku=f"PM-{new_id().hex[:10]}", name="Matrix", price=Money(1, "EUR"))
        ),
    ),
    "CatalogService.update_product": (
        Permission.CATALOG_WRITE,
        lambda s, p, i: s.catalog.update_product(p, i, 1, {"name": "x"}),
    ),
    "CatalogService.publish_product": (
        Permission.CATALOG_WRITE,
        lambda s, p, i: s.catalog.publish_product(p, i),
    ),
    "CatalogService.unpublish_product": (
        Permission.CATALOG_WRITE,
        lambda s, p, i: s.catalog.unpublish_product(p, i),
    ),
    "CatalogService.delete_product": (
        Permission.CATALOG_WRITE,
        lambda s, p, i: s.catalog.delete_product(p, i),
    ),
    "CatalogService.adjust_stock": (
        Permission.CATALOG_WRITE,
        lambda s, p, i: s.catalog.adjust_stock(p, i, 1, "matrix"),
    ),
    "CatalogService.import_catalog": (
        Permission.CATALOG_WRITE,
        lambda s, p, _: s.catalog.import_catalog(p, [], []),
    ),
    "CatalogService.create_category": (
        Permission.CATALOG_WRITE,
        lambda s, p, _: s.catalog.create_category(p, CategoryDraft(name=f"M {new_id().hex}")),
    ),
    "CatalogService.update_category": (
        Permission.CATALOG_WRITE,
        lambda s, p, i: s.catalog.update_category(p, i, 1, {"name": "x"}),
    ),
    "CatalogService.delete_category": (
        Permission.CATALOG_WRITE,
        lambda s, p, i: s.catalog.delete_category(p, i),
    ),
    "CatalogService.list_products": (
        Permission.CATALOG_READ_UNPUBLISHED,
        lambda s, p, _: s.catalog.list_products(p, ProductFilter(include_unpublished=True)),
    ),
    "CatalogService.get_product": (
        Permission.CATALOG_READ_UNPUBLISHED,
        lambda s, p, i: s.catalog.get_product(p, i, include_unpublished=True),
    ),
    "OrderService.fulfill": (Permission.ORDERS_MANAGE, lambda s, p, i: s.orders.fulfill(p, i)),
    "OrderService.ship": (Permission.ORDERS_MANAGE, lambda s, p, i: s.orders.ship(p, i)),
    "OrderService.deliver": (Permission.ORDERS_MANAGE, lambda s, p, i: s.orders.deliver(p, i)),
    "OrderService.refund": (Permission.ORDERS_MANAGE, lambda s, p, i: s.orders.refund(p, i)),
    "UserAdministration.list_users": (
        Permission.USERS_MANAGE,
        lambda s, p, _: s.users.list_users(p, UserFilter(), offset=0, limit=1),
    ),
    "UserAdministration.get_user": (
        Permission.USERS_MANAGE,
        lambda s, p, i: s.users.get_user(p, i),
    ),
    "UserAdministration.update_user": (
        Permission.USERS_MANAGE,
        lambda s, p, i: s.users.update_user(p, i, role=Role.STAFF),
    ),
    "EventsOperations.status": (Permission.EVENTS_READ, lambda s, p, i: s.events.status(p)),
    "EventsOperations.dead_letters": (
        Permission.EVENTS_READ,
        lambda s, p, i: s.events.dead_letters(p, limit=1),
    ),
    "EventsOperations.replay": (
        Permission.EVENTS_MANAGE,
        lambda s, p, i: s.events.replay(p, Selection(ids=(i,))),
    ),
    "EventsOperations.purge": (
        Permission.EVENTS_MANAGE,
        lambda s, p, i: s.events.purge(p, Selection(ids=(i,))),
    ),
    "EventsOperations.drain": (Permission.EVENTS_MANAGE, lambda s, p, i: s.events.drain(p, 0.1)),
}

# Operations that create or list rather than act on the id they are given: with the
# permission they succeed; every other one then answers "not found" for a random id.
ACT_ON_NOTHING_IN_PARTICULAR = {
    "CatalogService.create_product",
    "CatalogService.import_catalog",
    "CatalogService.create_category",
    "CatalogService.list_products",
    "UserAdministration.list_users",
    # Events operations read figures, or change nothing for an unknown id (reported missing).
    "EventsOperations.status",
    "EventsOperations.dead_letters",
    "EventsOperations.replay",
    "EventsOperations.purge",
    "EventsOperations.drain",
}

# Methods any signed-in user may call: they act only on the caller's own objects (another
# user's answer 404), or need a permission only for the variant listed above.
OWN_DATA = {
    "CartService.view",
    "CartService.add_item",
    "CartService.set_quantity",
    "CartService.remove_item",
    "CartService.clear",
    "OrderService.place_order",
    "OrderService.get",
    "OrderService.list",
    "OrderService.cancel",
    "ApiKeyService.create",
    "ApiKeyService.list",
    "ApiKeyService.revoke",
}
SERVICES = [
    CatalogService,
    CartService,
    OrderService,
    UserAdministration,
    ApiKeyService,
    EventsOperations,
]


@pytest.fixture
def services(container: Container) -> Services:
    return Services(
        container.commerce.catalog,
        container.commerce.orders,
        container.identity.users,
        container.events.operations,
    )


def holding(permissions: frozenset[Permission]) -> Principal:
    return Principal(new_id(), Role.ADMIN, None, permissions)


def test_every_method_that_takes_a_principal_is_classified() -> None:
    taking_principal = {
        f"{service.__name__}.{name}"
        for service in SERVICES
        for name, method in inspect.getmembers(service, inspect.iscoroutinefunction)
        if not name.startswith("_") and "principal" in inspect.signature(method).parameters
    }
    unclassified = taking_principal - set(PRIVILEGED) - OWN_DATA
    assert unclassified == set()
    assert set(PRIVILEGED) | OWN_DATA <= taking_principal


@pytest.mark.parametrize("name", sorted(PRIVILEGED))
async def test_lacking_just_the_permission_is_refused(services: Services, name: str) -> None:
    required, operation = PRIVILEGED[name]
    with pytest.raises(PermissionDeniedError) as refused:
        await operation(services, holding(EVERY_PERMISSION - {required}), new_id())
    assert refused.value.details == {"required": required.value}


@pytest.mark.parametrize("name", sorted(PRIVILEGED))
async def test_holding_just_the_permission_passes_the_check(services: Services, name: str) -> None:
    required, operation = PRIVILEGED[name]
    principal = holding(frozenset({required}))
    if name in ACT_ON_NOTHING_IN_PARTICULAR:
        await operation(services, principal, new_id())
    else:
        # Past the permission check, the operation looks its (random, unknown) target up.
        with pytest.raises(NotFoundError):
            await operation(services, principal, new_id())


@pytest.mark.parametrize(
    ("role", "name"),
    [
        (role, name)
        for role in Role
        for name, (required, _) in sorted(PRIVILEGED.items())
        if required not in PERMISSIONS[role]
    ],
)
async def test_roles_without_the_permission_are_refused(
    services: Services, role: Role, name: str
) -> None:
    _, operation = PRIVILEGED[name]
    with pytest.raises(PermissionDeniedError):
        await operation(services, Principal.for_user(new_id(), role), new_id())


@pytest.mark.parametrize("name", sorted(PRIVILEGED))
async def test_an_api_key_grants_only_its_scopes(services: Services, name: str) -> None:
    required, operation = PRIVILEGED[name]
    # An admin's key scoped to everything except the one permission.
    principal = Principal.for_api_key(new_id(), Role.ADMIN, new_id(), EVERY_PERMISSION - {required})
    with pytest.raises(PermissionDeniedError):
        await operation(services, principal, new_id())
