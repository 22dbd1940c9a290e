"""The stock ledger: invariants under any sequence of moves, all-or-nothing reservations in
deadline order, bundles, and what the shop is told."""

import pytest
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from fahuo.domain.stock import (
    Demand, Level, Move, StockError, SyncRule, apply, entry_for, expand, plan_reservations,
    pushed_quantity, rebuild,
)


class Ledger(RuleBasedStateMachine):
    """Random moves against one SKU; a refused move changes nothing; the journal rebuilds the
    level; nothing ever goes negative or gets oversold."""

    def __init__(self) -> None:
        super().__init__()
        self.level = Level()
        self.journal = []
        self.reservations: list[int] = []

    def _try(self, move: Move, qty: int) -> bool:
        try:
            e = entry_for(move, qty, self.level)
            self.level = apply(self.level, e)
        except StockError:
            return False
        self.journal.append(e)
        return True

    @rule(qty=st.integers(1, 20))
    def receive(self, qty):
        assert self._try(Move.RECEIVE, qty)

    @rule(qty=st.integers(1, 20))
    def reserve(self, qty):
        before = self.level
        if self._try(Move.RESERVE, qty):
            self.reservations.append(qty)
            assert before.available >= qty
        else:
            assert before.available < qty and self.level == before

    @rule(data=st.data())
    def release_or_ship(self, data):
        if not self.reservations:
            return
        qty = self.reservations.pop(data.draw(st.integers(0, len(self.reservations) - 1)))
        assert self._try(data.draw(st.sampled_from([Move.RELEASE, Move.SHIP])), qty)

    @rule(counted=st.integers(0, 40))
    def count(self, counted):
        before = self.level
        if self._try(Move.COUNT, counted):
            assert self.level.on_hand == counted
        else:  # counting below what is promised to paid orders is refused
            assert counted < before.reserved and self.level == before

    @rule(qty=st.integers(1, 10))
    def damage(self, qty):
        self._try(Move.DAMAGE, qty)

    @invariant()
    def never_negative_never_oversold(self):
        lv = self.level
        assert lv.on_hand >= 0 and lv.damaged >= 0 and 0 <= lv.reserved <= lv.on_hand
        assert lv.reserved == sum(self.reservations)

    @invariant()
    def journal_rebuilds_the_level(self):
        assert rebuild(self.journal) == self.level


TestLedger = Ledger.TestCase


def test_reservations_serve_the_earliest_deadline_and_never_part_of_an_order():
    demands = [Demand("early", {"A": 3, "B": 1}), Demand("big", {"A": 5}),
               Demand("late", {"A": 2})]
    plan = plan_reservations(demands, {"A": 6, "B": 1})
    assert [d.order_id for d in plan.reserved] == ["early", "late"]
    assert plan.short == {"big": {"A": (5, 3)}}


def test_bundles_expand_to_their_components():
    need = expand([("GIFT-BOX", 2), ("CUP", 1)], {"GIFT-BOX": {"CUP": 2, "LID": 1}})
    assert need == {"CUP": 5, "LID": 2}


def test_pushed_quantity_rules():
    lv = Level(on_hand=120, reserved=20, safety=10)  # available 100, sellable 90
    assert pushed_quantity(lv) == 90
    assert pushed_quantity(lv, SyncRule(percent=50)) == 45
    assert pushed_quantity(lv, SyncRule(percent=50, add=5, maximum=40)) == 40
    assert pushed_quantity(Level(on_hand=3, reserved=3, safety=5)) == 0
    assert SyncRule.from_dict({"percent": 50}) == SyncRule(percent=50)
    assert SyncRule.from_dict({}) == SyncRule() and SyncRule.from_dict(None) == SyncRule()
    with pytest.raises(StockError, match="percent"):
        SyncRule.from_dict({"percent": 150})
    with pytest.raises(StockError, match="unknown fields colour"):
        SyncRule.from_dict({"colour": 1})


def test_moves_name_what_is_wrong():
    with pytest.raises(StockError, match="positive"):
        entry_for(Move.RECEIVE, 0)
    with pytest.raises(StockError, match="whole number"):
        entry_for(Move.RECEIVE, 1.5)
    with pytest.raises(StockError, match="cannot reserve"):
        apply(Level(on_hand=2), entry_for(Move.RESERVE, 3))
