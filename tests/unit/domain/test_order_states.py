from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from fahuo.domain.orders import (
    RANK, TERMINAL, TRANSITIONS, IllegalTransition, OrderState, apply_platform_status, can_move,
    move,
)

import pytest

PLATFORM_STATUSES = [1, 105, 2, 101, 3, 4, 5]
MAIN_STATUSES = [None, 103, 21, 22, 39]


def test_every_state_has_a_row_and_terminals_are_final():
    assert set(TRANSITIONS) == set(OrderState)
    assert {OrderState.CANCELLED, OrderState.REFUNDED} <= TERMINAL
    for s in TERMINAL:
        for t in OrderState:
            assert not can_move(s, t)


def test_no_transition_goes_backwards_in_progress_except_hold():
    for s, targets in TRANSITIONS.items():
        for t in targets:
            # Steps down: holding (a human looks), or a voided label sending the order back
            # to planning. Never from shipped on.
            assert RANK[t] >= RANK[s] or t in (OrderState.HELD, OrderState.APPROVED), (s, t)
            assert RANK[t] >= RANK[s] or RANK[s] < RANK[OrderState.PARTLY_SHIPPED]


def test_illegal_move_is_refused_with_the_order_named():
    with pytest.raises(IllegalTransition, match="order 123: cannot move from shipped to approved"):
        move("123", OrderState.SHIPPED, OrderState.APPROVED)


def test_shipped_order_seen_as_waiting_in_a_stale_page_stays_shipped():
    assert apply_platform_status(OrderState.SHIPPED, 2) == OrderState.SHIPPED
    assert apply_platform_status(OrderState.HELD, 2) == OrderState.HELD
    assert apply_platform_status(OrderState.PRINTED, 3) == OrderState.SHIPPED
    assert apply_platform_status(OrderState.APPROVED, 2, 21) == OrderState.REFUNDED
    assert apply_platform_status(None, 105) == OrderState.SYNCED
    assert apply_platform_status(OrderState.UNPAID, 4) == OrderState.CANCELLED


@given(st.sampled_from(list(OrderState)), st.sampled_from(PLATFORM_STATUSES),
       st.sampled_from(MAIN_STATUSES))
def test_platform_update_is_legal_and_never_moves_backwards(current, status, main):
    new = apply_platform_status(current, status, main)
    assert new == current or can_move(current, new)
    assert RANK[new] >= RANK[current]


class OrderLife(RuleBasedStateMachine):
    """Random mixes of platform updates and fahuo's own moves from a fresh order."""

    def __init__(self) -> None:
        super().__init__()
        self.state: OrderState | None = None
        self.history: list[OrderState] = []

    def _set(self, new: OrderState) -> None:
        if self.state is not None and new != self.state:
            assert can_move(self.state, new), (self.state, new)
        self.state = new
        self.history.append(new)

    @rule(status=st.sampled_from(PLATFORM_STATUSES), main=st.sampled_from(MAIN_STATUSES))
    def platform_update(self, status, main):
        before = self.state
        self._set(apply_platform_status(self.state, status, main))
        if before is not None:
            assert RANK[self.state] >= RANK[before]

    @rule(target_state=st.sampled_from(list(OrderState)))
    def fahuo_move(self, target_state):
        if self.state is None:
            return
        if can_move(self.state, target_state):
            self._set(move("1", self.state, target_state))
        else:
            with pytest.raises(IllegalTransition):
                move("1", self.state, target_state)

    @invariant()
    def terminal_states_are_never_left(self):
        for i, s in enumerate(self.history):
            if s in TERMINAL:
                assert all(x == s for x in self.history[i:])


TestOrderLife = OrderLife.TestCase
TestOrderLife.settings = settings(max_examples=200, stateful_step_count=30, deadline=None)
