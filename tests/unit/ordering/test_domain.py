"""Order rules: quantities, totals, the state machine (with property-based checks)."""

from __future__ import annotations

import itertools
import re
from uuid import UUID, uuid4

import pytest
from hypothesis import given
from hypothesis import strategies as st

from agora.ordering.domain import (
    MAX_LINES,
    TRANSITIONS,
    Cart,
    Order,
    OrderLine,
    OrderStatus,
    can_transition,
    merge_lines,
    new_order_number,
    order_event,
)
from agora.platform.errors import IllegalTransitionError, ValidationError
from agora.platform.money import Money


def line(amount: int = 1999, quantity: int = 1, currency: str = "EUR") -> OrderLine:
    return OrderLine(uuid4(), "SKU-1", "Thing", Money(amount, currency), quantity)


def test_order_total_is_the_sum_of_line_totals() -> None:
    order = Order.place(uuid4(), [line(1999, 2), line(500, 3)])
    assert order.total == Money(1999 * 2 + 500 * 3, "EUR")
    assert order.status is OrderStatus.PENDING_PAYMENT
    assert order.version == 1


def test_order_with_mixed_currencies_is_refused() -> None:
    with pytest.raises(ValidationError):
        Order.place(uuid4(), [line(100, 1, "EUR"), line(100, 1, "USD")])


def test_order_needs_at_least_one_line() -> None:
    with pytest.raises(ValidationError):
        Order.place(uuid4(), [])


def test_order_number_is_short_and_readable() -> None:
    numbers = {new_order_number() for _ in range(200)}
    assert len(numbers) == 200
    assert all(re.fullmatch(r"AG-[A-Z2-7]{8}", n) for n in numbers)


@pytest.mark.parametrize("quantity", [0, -1, 100, True])
def test_merge_lines_refuses_quantities_out_of_range(quantity: int) -> None:
    with pytest.raises(ValidationError):
        merge_lines([(uuid4(), quantity)])


def test_merge_lines_merges_duplicates_and_checks_the_sum() -> None:
    product = uuid4()
    assert merge_lines([(product, 40), (product, 50)]) == {product: 90}
    with pytest.raises(ValidationError):
        merge_lines([(product, 50), (product, 50)])


def test_merge_lines_refuses_empty_and_too_many_lines() -> None:
    with pytest.raises(ValidationError):
        merge_lines([])
    with pytest.raises(ValidationError):
        merge_lines([(uuid4(), 1) for _ in range(MAX_LINES + 1)])


def test_cart_add_accumulates_up_to_99() -> None:
    product = uuid4()
    cart = Cart(uuid4()).add(product, 60).add(product, 39)
    assert cart.lines[product] == 99
    with pytest.raises(ValidationError):
        cart.add(product, 1)


def test_cart_holds_a_bounded_number_of_products() -> None:
    cart = Cart(uuid4())
    for _ in range(MAX_LINES):
        cart = cart.add(uuid4(), 1)
    with pytest.raises(ValidationError):
        cart.add(uuid4(), 1)


def test_paid_order_can_be_fulfilled_shipped_and_delivered() -> None:
    order = Order.place(uuid4(), [line()])
    actor = uuid4()
    for target in (OrderStatus.PAID, OrderStatus.FULFILLED, OrderStatus.SHIPPED):
        order, change = order.transition(target, actor)
        assert change.to_status is target
    order, change = order.transition(OrderStatus.DELIVERED, actor, "left at the door")
    assert order.status is OrderStatus.DELIVERED
    assert order.version == 5
    assert change.from_status is OrderStatus.SHIPPED
    assert change.reason == "left at the door"


def test_shipped_order_cannot_be_cancelled() -> None:
    order = Order.place(uuid4(), [line()])
    for target in (OrderStatus.PAID, OrderStatus.FULFILLED, OrderStatus.SHIPPED):
        order, _ = order.transition(target, None)
    with pytest.raises(IllegalTransitionError) as caught:
        order.transition(OrderStatus.CANCELLED, None)
    assert caught.value.details["status"] == "shipped"


def test_events_are_named_for_the_status_reached() -> None:
    order = Order.place(uuid4(), [line()])
    assert order_event(order).name == "ordering.OrderPlaced"
    paid, _ = order.transition(OrderStatus.PAID, None)
    event = order_event(paid)
    assert event.name == "ordering.OrderPaid"
    assert event.aggregate_id == order.id
    assert event.payload["total"] == {"amount": 1999, "currency": "EUR"}


statuses = st.sampled_from(list(OrderStatus))


@given(st.lists(statuses, max_size=20))
def test_random_transition_sequences_only_follow_the_state_machine(
    targets: list[OrderStatus],
) -> None:
    order = Order.place(uuid4(), [line()])
    seen = [order.status]
    for target in targets:
        before = order
        try:
            order, change = order.transition(target, None)
        except IllegalTransitionError:
            assert not can_transition(before.status, target)
            assert order is before
            continue
        assert target in TRANSITIONS[before.status]
        assert change.from_status is before.status
        assert order.version == before.version + 1
        seen.append(order.status)
    # Terminal statuses are never left once reached.
    for earlier, later in itertools.pairwise(seen):
        assert TRANSITIONS[earlier], f"left terminal status {earlier}"
        assert later in TRANSITIONS[earlier]


cart_lines = st.lists(
    st.tuples(st.integers(min_value=0, max_value=10**7), st.integers(min_value=1, max_value=99)),
    min_size=1,
    max_size=MAX_LINES,
)


@given(cart_lines)
def test_totals_equal_the_sum_of_lines_for_random_carts(
    lines: list[tuple[int, int]],
) -> None:
    items = [
        OrderLine(UUID(int=i + 1), "S", "N", Money(a, "EUR"), q) for i, (a, q) in enumerate(lines)
    ]
    order = Order.place(uuid4(), items)
    assert order.total.amount == sum(a * q for a, q in lines)
    assert order.total.amount == sum(item.line_total.amount for item in order.items)
    assert order.total.currency == "EUR"
