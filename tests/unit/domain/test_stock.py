"""The stock ledger: invariants under any sequence of moves, all-or-nothing reservations in
deadline order, bundles, and what the shop is told."""

import pytest
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from hypothesis import given

from fahuo.domain.stock import (
    Demand, Level, Move, StockError, SyncRule, advertised, apply, bundle_sellable, entry_for,
    expand, plan_reservations, pushed_quantity, rebuild,
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
    with pytest.raises(StockError, match="同步比例（percent）必须在 0 到 100 之间"):
        SyncRule.from_dict({"percent": 150})
    with pytest.raises(StockError, match="未知字段 colour"):
        SyncRule.from_dict({"colour": 1})
    with pytest.raises(StockError, match=r"最高（maximum）3 不能低于最低（minimum）5"):
        SyncRule.from_dict({"minimum": 5, "maximum": 3})
    with pytest.raises(StockError, match="加量（add）必须是整数"):
        SyncRule.from_dict({"add": 10**20})


def test_add_and_minimum_never_advertise_what_is_not_sellable_unless_overselling():
    empty = Level(on_hand=5, reserved=1, safety=4)  # available 4, sellable 0
    rule = SyncRule(add=5, minimum=3)
    assert pushed_quantity(empty, rule) == 0  # was 5: the shop sold units nobody had
    assert pushed_quantity(empty, rule, oversell=True) == 5  # the merchant chose it
    two = Level(on_hand=6, safety=4)  # 2 sellable
    assert pushed_quantity(two, rule) == 2  # capped at what can be sold
    assert pushed_quantity(two, rule, oversell=True) == 7
    assert pushed_quantity(two, SyncRule(add=5, maximum=4), oversell=True) == 4
    # half of 10 is 5, the add-on brings it back up to, never past, the 10 sellable
    assert pushed_quantity(Level(on_hand=10), SyncRule(percent=50, add=3)) == 8
    assert pushed_quantity(Level(on_hand=10), SyncRule(percent=50, add=30)) == 10


def test_a_bundle_sells_what_its_scarcest_part_can_make():
    parts = {"CUP-A": 2, "LID": 1}
    levels = {"CUP-A": Level(on_hand=9, reserved=1, safety=1),  # 7 sellable → 3 bundles
              "LID": Level(on_hand=10)}  # 10 bundles
    assert bundle_sellable(parts, levels) == 3
    assert bundle_sellable(parts, {**levels, "LID": Level(on_hand=2, reserved=2)}) == 0
    assert bundle_sellable(parts, {"LID": Level(on_hand=4)}) == 4  # cups not kept: no limit
    assert bundle_sellable(parts, {}) is None  # nothing of it kept: not pushed at all
    assert advertised(3, SyncRule(minimum=5)) == 3 and advertised(0, SyncRule(add=2)) == 0
    assert advertised(0, SyncRule(add=2), oversell=True) == 2


@given(st.dictionaries(st.sampled_from("ABCD"), st.integers(1, 5), min_size=1),
       st.dictionaries(st.sampled_from("ABCD"),
                       st.tuples(st.integers(0, 60), st.integers(0, 60), st.integers(0, 20))),
       st.integers(0, 100), st.integers(0, 30), st.integers(0, 30),
       st.none() | st.integers(30, 60))
def test_pushed_bundles_can_always_be_made_from_the_parts(parts, raw, percent, add, minimum,
                                                         maximum):
    levels = {c: Level(on_hand=oh, reserved=min(rs, oh), safety=sf) for c, (oh, rs, sf)
              in raw.items()}
    can = bundle_sellable(parts, levels)
    if can is None:
        assert not set(parts) & set(levels)
        return
    pushed = advertised(can, SyncRule(percent, add, minimum, maximum))
    for code, each in parts.items():  # every bundle the shop sells has its parts on the shelf
        if code in levels:
            assert pushed * each <= max(0, levels[code].available - levels[code].safety)
    # and no part could make one more than that (without a rule cutting it)
    assert any(code in levels and (can + 1) * each > levels[code].available - levels[code].safety
               for code, each in parts.items())


def test_moves_name_what_is_wrong():
    with pytest.raises(StockError, match="入库数量必须大于 0，收到 0"):
        entry_for(Move.RECEIVE, 0)
    with pytest.raises(StockError, match="数量必须是整数"):
        entry_for(Move.RECEIVE, 1.5)
    with pytest.raises(StockError, match="可用只有 2 件，不能占用 3 件"):
        apply(Level(on_hand=2), entry_for(Move.RESERVE, 3))
    with pytest.raises(StockError, match="盘点后实物为 1 件，少于已付款订单占用的 3 件"):
        lv = Level(on_hand=5, reserved=3)
        apply(lv, entry_for(Move.COUNT, 1, lv))
    with pytest.raises(StockError, match="调整后实物为 -2 件，库存不能为负"):
        apply(Level(on_hand=3), entry_for(Move.ADJUST, -5))
