"""Privileged credentials follow the account's current role and activation; customers'
credentials never cost a read."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from uuid import UUID

import pytest

from agora.identity.access.current_access import RETRY_AFTER_FAILURE, CurrentAccess
from agora.identity.access.domain import AccountAccess
from agora.platform.access import PERMISSIONS, Permission, Principal, Role
from agora.platform.ids import new_id

POLL = 2.0


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class CountingAccounts:
    """The access feed over a dictionary of accounts, counting the reads."""

    def __init__(self) -> None:
        self.accounts: dict[UUID, AccountAccess] = {}
        self.reads = 0
        self.failing = False

    def put(self, user_id: UUID, role: Role, *, active: bool = True) -> None:
        known = self.accounts.get(user_id)
        version = 1 if known is None else known.version + 1
        self.accounts[user_id] = AccountAccess(user_id, role, active, version)

    async def __call__(self, user_ids: Collection[UUID]) -> Sequence[AccountAccess]:
        self.reads += 1
        if self.failing:
            raise ConnectionError("database unreachable")
        return [self.accounts[u] for u in user_ids if u in self.accounts]


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def accounts() -> CountingAccounts:
    return CountingAccounts()


@pytest.fixture
def access(accounts: CountingAccounts, clock: Clock) -> CurrentAccess:
    return CurrentAccess(accounts, poll_interval=POLL, forget_after=900, clock=clock)


def token(user_id: UUID, role: Role) -> Principal:
    return Principal.for_user(user_id, role, new_id())


async def test_a_customers_credential_is_never_looked_up(
    access: CurrentAccess, accounts: CountingAccounts
) -> None:
    customer = token(new_id(), Role.CUSTOMER)
    for _ in range(100):
        assert await access.check(customer) is customer
    assert accounts.reads == 0
    assert len(access) == 0


async def test_a_staff_credential_costs_one_read_per_poll_interval(
    access: CurrentAccess, accounts: CountingAccounts, clock: Clock
) -> None:
    user_id = new_id()
    accounts.put(user_id, Role.STAFF)
    staff = token(user_id, Role.STAFF)
    for _ in range(100):
        assert await access.check(staff) == staff
        clock.now += POLL / 200
    assert accounts.reads == 1
    clock.now += POLL
    assert await access.check(staff) == staff
    assert accounts.reads == 2  # the poll: one query for every account kept


async def test_a_demotion_made_here_narrows_the_token_at_once(
    access: CurrentAccess, accounts: CountingAccounts
) -> None:
    user_id = new_id()
    accounts.put(user_id, Role.ADMIN)
    admin = token(user_id, Role.ADMIN)
    assert await access.check(admin) == admin
    accounts.put(user_id, Role.CUSTOMER)

    access.record(accounts.accounts[user_id])

    demoted = await access.check(admin)
    assert demoted is not None
    assert (demoted.role, demoted.permissions) == (Role.CUSTOMER, frozenset())
    assert demoted.session_id == admin.session_id
    assert accounts.reads == 1


async def test_a_demotion_made_elsewhere_shows_at_the_next_poll(
    access: CurrentAccess, accounts: CountingAccounts, clock: Clock
) -> None:
    user_id = new_id()
    accounts.put(user_id, Role.ADMIN)
    admin = token(user_id, Role.ADMIN)
    await access.check(admin)
    accounts.put(user_id, Role.STAFF)  # another instance demoted the admin

    still = await access.check(admin)
    assert still is not None
    assert still.can(Permission.USERS_MANAGE)
    clock.now += POLL
    demoted = await access.check(admin)

    assert demoted is not None
    assert demoted.role is Role.STAFF
    assert demoted.permissions == PERMISSIONS[Role.STAFF]


async def test_a_deactivated_or_deleted_account_has_no_principal(
    access: CurrentAccess, accounts: CountingAccounts, clock: Clock
) -> None:
    kept, removed = new_id(), new_id()
    for user_id in (kept, removed):
        accounts.put(user_id, Role.STAFF)
        await access.check(token(user_id, Role.STAFF))
    accounts.put(kept, Role.STAFF, active=False)
    del accounts.accounts[removed]
    clock.now += POLL

    assert await access.check(token(kept, Role.STAFF)) is None
    assert await access.check(token(removed, Role.STAFF)) is None
    assert await access.check(token(new_id(), Role.ADMIN)) is None  # never existed


async def test_a_poll_that_read_before_a_change_does_not_undo_it(
    access: CurrentAccess, accounts: CountingAccounts, clock: Clock
) -> None:
    user_id = new_id()
    accounts.put(user_id, Role.STAFF)
    staff = token(user_id, Role.STAFF)
    await access.check(staff)
    before = accounts.accounts[user_id]
    access.record(AccountAccess(user_id, Role.CUSTOMER, True, before.version + 1))
    clock.now += POLL  # the database still answers the older version

    demoted = await access.check(staff)

    assert demoted is not None
    assert demoted.role is Role.CUSTOMER


async def test_a_promotion_adds_nothing_to_an_older_credential(
    access: CurrentAccess, accounts: CountingAccounts
) -> None:
    user_id = new_id()
    accounts.put(user_id, Role.ADMIN)
    staff = token(user_id, Role.STAFF)
    assert await access.check(staff) == staff


async def test_a_demoted_owners_key_keeps_only_the_scopes_the_new_role_has(
    access: CurrentAccess, accounts: CountingAccounts
) -> None:
    user_id = new_id()
    accounts.put(user_id, Role.STAFF)
    key = Principal.for_api_key(
        user_id, Role.ADMIN, new_id(), {Permission.USERS_MANAGE, Permission.CATALOG_WRITE}
    )

    narrowed = await access.check(key)

    assert narrowed is not None
    assert narrowed.permissions == {Permission.CATALOG_WRITE}
    assert narrowed.api_key_id == key.api_key_id


async def test_a_failed_poll_keeps_what_is_known_and_retries_shortly(
    access: CurrentAccess, accounts: CountingAccounts, clock: Clock
) -> None:
    user_id = new_id()
    accounts.put(user_id, Role.STAFF)
    staff = token(user_id, Role.STAFF)
    await access.check(staff)
    accounts.failing = True
    clock.now += POLL
    assert await access.check(staff) == staff
    reads = accounts.reads
    clock.now += RETRY_AFTER_FAILURE / 2
    await access.check(staff)
    assert accounts.reads == reads  # no read per request while the database is down
    accounts.failing = False
    accounts.put(user_id, Role.CUSTOMER)
    clock.now += RETRY_AFTER_FAILURE
    demoted = await access.check(staff)
    assert demoted is not None
    assert demoted.role is Role.CUSTOMER


async def test_accounts_unused_for_a_while_are_forgotten(
    access: CurrentAccess, accounts: CountingAccounts, clock: Clock
) -> None:
    user_id = new_id()
    accounts.put(user_id, Role.STAFF)
    await access.check(token(user_id, Role.STAFF))
    clock.now += 901
    await access.poll()
    assert len(access) == 0
