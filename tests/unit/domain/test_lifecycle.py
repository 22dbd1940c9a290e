"""The generic lifecycle and the three tables built on it (orders, packs, interceptions)."""

from __future__ import annotations

from enum import StrEnum

import pytest

from fahuo.domain.aftersales import BUSY, INTERCEPT, InterceptState
from fahuo.domain.lifecycle import IllegalTransition, Lifecycle
from fahuo.domain.orders import HOLDABLE, ORDER, PRE_SHIPMENT, SENT, OrderState
from fahuo.domain.packs import GOING_OUT, PACK, PackState
from fahuo.domain.tracking import TrackingState as T, order_state_from_parcels


class Door(StrEnum):
    SHUT = "shut"
    OPEN = "open"
    GONE = "gone"


DOOR = Lifecycle("door", {Door.SHUT: frozenset({Door.OPEN, Door.GONE}),
                          Door.OPEN: frozenset({Door.SHUT}), Door.GONE: frozenset()},
                 frozenset({Door.SHUT}))


def test_move_allows_the_table_and_names_what_it_refuses():
    assert DOOR.move(7, "shut", Door.OPEN) is Door.OPEN  # a stored string is its state
    with pytest.raises(IllegalTransition, match="door 7: cannot move from open to gone") as e:
        DOOR.move(7, Door.OPEN, "gone")
    assert (e.value.kind, e.value.subject, e.value.current, e.value.target) == (
        "door", 7, Door.OPEN, Door.GONE)
    with pytest.raises(IllegalTransition, match="unknown state"):
        DOOR.move(7, "ajar", "shut")
    assert DOOR.check_new(1, "shut") is Door.SHUT
    with pytest.raises(IllegalTransition):
        DOOR.check_new(1, "open")
    assert DOOR.terminal == {Door.GONE}
    assert DOOR.sources(Door.SHUT) == {Door.OPEN}


def test_moves_to_keeps_the_rows_the_rule_names_and_checks_them():
    rows = {"a": "shut", "b": "open", "c": "gone"}
    assert DOOR.moves_to(rows, Door.OPEN, {Door.SHUT}) == {"a": ("shut", "open")}
    assert DOOR.moves_to(rows, Door.SHUT, {Door.SHUT, Door.OPEN}) == {"b": ("open", "shut")}
    with pytest.raises(IllegalTransition):  # a rule naming a state the table forbids
        DOOR.moves_to(rows, Door.OPEN, {Door.GONE})


def test_a_table_must_be_closed_and_not_list_a_state_as_its_own_move():
    with pytest.raises(ValueError):
        Lifecycle("door", {Door.SHUT: frozenset({Door.OPEN})}, frozenset({Door.SHUT}))
    with pytest.raises(ValueError):
        Lifecycle("door", {Door.SHUT: frozenset({Door.SHUT})}, frozenset({Door.SHUT}))


@pytest.mark.parametrize("lc, enum", [(ORDER, OrderState), (PACK, PackState),
                                      (INTERCEPT, InterceptState)])
def test_every_state_has_a_row_and_every_state_can_be_reached(lc, enum):
    assert lc.states == set(enum)
    reached = set(lc.initial)
    frontier = list(reached)
    while frontier:
        for nxt in lc.table[frontier.pop()]:
            if nxt not in reached:
                reached.add(nxt)
                frontier.append(nxt)
    assert reached == set(enum)


def test_the_named_sets_agree_with_the_tables():
    # a hold stops only what has not left; nothing that left goes back before shipment
    assert HOLDABLE <= PRE_SHIPMENT
    assert not any(ORDER.can_move(s, p) for s in SENT for p in PRE_SHIPMENT)
    assert PACK.terminal == {PackState.CONFIRMED}
    assert all(PACK.can_move(s, PackState.FAILED) for s in GOING_OUT)
    # once asked, an interception is never asked again (BUSY never moves to requesting)
    assert not any(INTERCEPT.can_move(s, InterceptState.REQUESTING) for s in BUSY)


def test_where_the_parcels_say_an_order_is():
    assert order_state_from_parcels([]) is None
    assert order_state_from_parcels([T.INFO_RECEIVED, None]) is None
    assert order_state_from_parcels([T.PICKED_UP, None]) is OrderState.IN_TRANSIT
    assert order_state_from_parcels([T.DELIVERED, T.IN_TRANSIT]) is OrderState.IN_TRANSIT
    assert order_state_from_parcels(["delivered", "delivered"]) is OrderState.DELIVERED
    # one parcel not tracked yet: not delivered, and in transit only once a scan says so
    assert order_state_from_parcels([T.DELIVERED, None]) is OrderState.IN_TRANSIT
