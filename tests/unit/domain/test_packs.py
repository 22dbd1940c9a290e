from collections import Counter

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fahuo.domain.orders import Order, OrderState, Receiver, SubOrder
from fahuo.domain.packs import (
    MergeCandidate, NothingToShip, PackLine, PackPlan, SkuFacts, SplitRules, closing_state,
    one_pack, pack_ids, plan_merges, plan_split, receiver_key,
    waybill_order_id,
)

S = OrderState
HOUR = 3600


def cand(order_id, pay_time, *, shop="s1", buyer="b1", key="k1", held=False, state=S.SYNCED):
    return MergeCandidate(order_id, shop, buyer, key, pay_time, held, state)


def rcv(**kw):
    base = dict(name_cipher="##n*1#1##", phone_cipher="$$t*2$1$$", detail_cipher="##d#1##",
                name_mask="李*", phone_mask="139****0000", address_mask="文三路****",
                province="浙江省", city="杭州市", district="西湖区", street="文新街道")
    base.update(kw)
    return Receiver(**base)


def sub(i, code, qty=1, order_status=2, **kw):
    return SubOrder(f"70000000000000000{i:02d}", "p", "s", code, f"商品{code}", qty, 1000,
                    order_status, **kw)


def order(subs, receiver=None, order_id="6925621234567891234"):
    return Order(order_id, "s1", 2, None, 0, 100, 0, None, 0, 0, 0, "", "", 0, 0,
                 receiver or rcv(), subs, buyer_id="b1")


# ---------------------------------------------------------------- merging

def test_same_buyer_same_address_within_the_window_merge():
    groups = plan_merges([cand("A", 0), cand("B", 2 * HOUR), cand("C", 30 * HOUR)], 24 * HOUR)
    assert groups == [["A", "B"]]


def test_the_window_is_anchored_at_the_first_order_of_the_group():
    # Paid every 10 h: A,B,C span 20 h (in), D is 30 h after A → starts a new group with E.
    cs = [cand(x, t * HOUR) for x, t in zip("ABCDE", (0, 10, 20, 30, 40))]
    assert plan_merges(cs, 24 * HOUR) == [["A", "B", "C"], ["D", "E"]]


def test_held_orders_other_shops_buyers_addresses_and_states_never_merge():
    cs = [cand("A", 0), cand("B", 1, held=True), cand("C", 2, shop="s2"), cand("D", 3, buyer="b2"),
          cand("E", 4, key="k2"), cand("F", 5, state=S.WAYBILL_TAKEN), cand("G", 6, key=""),
          cand("H", 7, buyer="")]
    assert plan_merges(cs, 24 * HOUR) == []


def test_merge_output_is_deterministic_whatever_the_input_order():
    cs = [cand("B", 10), cand("A", 10), cand("Z", 5, buyer="b9"), cand("Y", 6, buyer="b9")]
    assert plan_merges(cs, HOUR) == plan_merges(list(reversed(cs)), HOUR) == [["Z", "Y"],
                                                                             ["A", "B"]]


def test_duplicate_candidates_are_a_caller_bug():
    with pytest.raises(ValueError, match="订单 A 在待合并订单中出现了两次"):
        plan_merges([cand("A", 0), cand("A", 1)], HOUR)


def test_receiver_key_matches_the_same_receiver_and_hides_the_data():
    a, b = order([], rcv()), order([], rcv(name_mask="X*"))  # masks differ, ciphers equal
    assert receiver_key(a) == receiver_key(b) and len(receiver_key(a)) == 64
    assert "##" not in receiver_key(a)
    assert receiver_key(order([], rcv(detail_cipher="##other#1##"))) != receiver_key(a)
    assert receiver_key(order([], rcv(district="拱墅区"))) != receiver_key(a)


def test_receiver_key_falls_back_to_masks_but_needs_every_part():
    masked = rcv(name_cipher="", phone_cipher="", detail_cipher="")
    assert receiver_key(order([], masked)) != ""
    assert receiver_key(order([], masked)) != receiver_key(order([], rcv()))
    assert receiver_key(order([], rcv(name_cipher="", name_mask=""))) == ""
    assert receiver_key(order([], rcv(city=""))) == ""


cand_st = st.builds(
    MergeCandidate, order_id=st.just(""), shop_id=st.sampled_from(["s1", "s2"]),
    buyer_id=st.sampled_from(["b1", "b2", ""]), receiver_key=st.sampled_from(["k1", "k2", ""]),
    pay_time=st.none() | st.integers(0, 100 * HOUR), held=st.booleans(),
    state=st.sampled_from([S.SYNCED, S.APPROVED, S.HELD, S.PRINTED]))


@given(st.lists(cand_st, max_size=30), st.integers(0, 48 * HOUR))
def test_merge_groups_never_mix_never_hold_held_orders_and_respect_the_window(raw, window):
    cs = [MergeCandidate(str(i), c.shop_id, c.buyer_id, c.receiver_key, c.pay_time, c.held,
                         c.state) for i, c in enumerate(raw)]
    by_id = {c.order_id: c for c in cs}
    groups = plan_merges(cs, window)
    flat = [i for g in groups for i in g]
    assert len(flat) == len(set(flat))
    for g in groups:
        members = [by_id[i] for i in g]
        assert len(g) >= 2
        assert len({(m.shop_id, m.buyer_id, m.receiver_key) for m in members}) == 1
        assert all(not m.held and m.state in {S.SYNCED, S.APPROVED} for m in members)
        assert all(m.buyer_id and m.receiver_key for m in members)
        times = [m.pay_time for m in members]
        assert times == sorted(times) and times[-1] - times[0] <= window
    assert plan_merges(list(reversed(cs)), window) == groups


# ---------------------------------------------------------------- splitting

FACTS = {
    "TEE": SkuFacts("杭州仓", 200), "MUG": SkuFacts("杭州仓", 450),
    "SOFA": SkuFacts("佛山仓", 25000, large=True), "LAMP": SkuFacts("佛山仓", 3000),
}


def lines_of(packs):
    return [(p.warehouse, tuple((ln.sku_order_id[-2:], ln.quantity) for ln in p.lines))
            for p in packs]


def test_one_pack_when_nothing_splits():
    packs = plan_split(order([sub(1, "TEE", 2), sub(2, "MUG")]), FACTS, SplitRules())
    assert lines_of(packs) == [("杭州仓", (("01", 2), ("02", 1)))]
    assert packs[0].why == "整单一包" and packs[0].weight_g == 850 and not packs[0].later


def test_split_per_warehouse_and_each_sofa_alone():
    o = order([sub(1, "TEE"), sub(2, "SOFA", 2), sub(3, "LAMP")])
    packs = plan_split(o, FACTS, SplitRules())
    assert lines_of(packs) == [("杭州仓", (("01", 1),)), ("佛山仓", (("03", 1),)),
                               ("佛山仓", (("02", 1),)), ("佛山仓", (("02", 1),))]
    assert "大件单独成包" in packs[2].why and "佛山仓" in packs[2].why


def test_rules_can_turn_splitting_off():
    o = order([sub(1, "TEE"), sub(2, "SOFA", 2)])
    packs = plan_split(o, FACTS, SplitRules(per_warehouse=False, large_item_alone=False))
    assert lines_of(packs) == [("", (("01", 1), ("02", 2)))]  # mixed warehouses: none named


def test_max_pack_weight_pours_units_into_several_packs():
    o = order([sub(1, "LAMP", 5)])  # 5 × 3 kg, limit 10 kg → 3 + 2 lamps
    packs = plan_split(o, FACTS, SplitRules(max_pack_weight_g=10000))
    assert lines_of(packs) == [("佛山仓", (("01", 3),)), ("佛山仓", (("01", 2),))]
    assert [p.weight_g for p in packs] == [9000, 6000]


def test_short_lines_wait_in_a_later_pack_and_the_rest_ships():
    o = order([sub(1, "TEE"), sub(2, "MUG", 3)])
    packs = plan_split(o, FACTS, SplitRules(), short_sku_orders={o.sub_orders[1].sku_order_id})
    assert [(p.later, p.lines) for p in packs] == [
        (False, (PackLine(o.sub_orders[0].sku_order_id, 1),)),
        (True, (PackLine(o.sub_orders[1].sku_order_id, 3),))]
    assert packs[1].why.startswith("库存不足")


def test_refunded_and_closed_lines_are_not_packed():
    o = order([sub(1, "TEE"), sub(2, "MUG", after_sale_status=12, refund_status=3),
               SubOrder("7000000000000000003", "p", "s", "TEE", "T恤", 1, 0, 4)])
    assert lines_of(plan_split(o, FACTS, SplitRules())) == [("杭州仓", (("01", 1),))]
    assert plan_split(order([]), FACTS, SplitRules()) == []


def test_a_pack_without_lines_or_units_cannot_exist():
    with pytest.raises(NothingToShip):
        PackPlan((), "杭州仓")
    with pytest.raises(NothingToShip, match="7000000000000000001"):
        PackPlan((PackLine("7000000000000000001", 0),), "杭州仓")


def test_one_pack_carries_what_is_left_and_refuses_an_order_with_nothing():
    refunded = sub(2, "MUG", after_sale_status=12, refund_status=3)
    o = order([sub(1, "TEE", 2), refunded])
    assert one_pack([o]).lines == (PackLine(o.sub_orders[0].sku_order_id, 2),)
    done = order([sub(3, "TEE", after_sale_status=12, refund_status=3)],
                 order_id="6925621234567890001")
    with pytest.raises(NothingToShip, match="6925621234567890001"):
        one_pack([done])
    with pytest.raises(NothingToShip):  # a merged parcel needs a line of every order in it
        one_pack([o, done])
    with pytest.raises(NothingToShip):
        one_pack([order([])])


def test_an_order_with_nothing_left_to_ship_is_closed_as_refunded_or_cancelled():
    refunded = sub(2, "MUG", after_sale_status=12, refund_status=3)
    closed = sub(3, "TEE", order_status=4)
    assert closing_state([sub(1, "TEE"), refunded]) is None  # one line still goes
    assert closing_state([refunded]) == S.REFUNDED
    assert closing_state([refunded, closed]) == S.REFUNDED
    assert closing_state([closed]) == S.CANCELLED
    # asked for but not refunded yet (6), or agreed but money not back (12 / 1): still ours
    assert closing_state([sub(4, "TEE", after_sale_status=6, refund_status=1)]) is None
    assert closing_state([sub(5, "TEE", after_sale_status=12, refund_status=1)]) is None
    assert closing_state([]) is None  # no lines at all: nothing to judge by


def test_sku_without_facts_ships_with_unknown_weight():
    packs = plan_split(order([sub(1, "TEE"), sub(2, "NEW-SKU")]), FACTS, SplitRules())
    assert len(packs) == 2 and packs[1].weight_g is None  # unknown warehouse "" differs


sub_st = st.builds(
    lambda code, qty, status, refunded: (code, qty, status, refunded),
    st.sampled_from(["TEE", "MUG", "SOFA", "LAMP", "NEW"]), st.integers(1, 6),
    st.sampled_from([2, 2, 2, 4]), st.booleans())


@given(st.lists(sub_st, max_size=8), st.booleans(), st.booleans(),
       st.none() | st.integers(1, 30000), st.sets(st.integers(0, 7)))
def test_split_preserves_every_unit_and_never_makes_empty_lines(raw, per_wh, large, limit, short):
    subs = [sub(i, code, qty, order_status=status,
                after_sale_status=12 if refunded else 0, refund_status=3 if refunded else None)
            for i, (code, qty, status, refunded) in enumerate(raw)]
    o = order(subs)
    short_ids = {subs[i].sku_order_id for i in short if i < len(subs)}
    packs = plan_split(o, FACTS, SplitRules(per_wh, large, limit), short_sku_orders=short_ids)
    shipped = Counter()
    for p in packs:
        assert p.lines
        for ln in p.lines:
            assert ln.quantity > 0
            shipped[ln.sku_order_id] += ln.quantity
            assert p.later == (ln.sku_order_id in short_ids)
    expected = Counter({s.sku_order_id: s.quantity for s in subs
                        if s.order_status != 4 and s.refund_status != 3})
    assert shipped == expected
    if limit is not None:
        for p in packs:
            if not p.later and p.weight_g is not None and sum(ln.quantity for ln in p.lines) > 1:
                assert p.weight_g <= limit


# ---------------------------------------------------------------- pack ids

def test_pack_ids_are_explicit_stable_and_new_per_attempt():
    assert pack_ids("6925621234567891234", 3) == ["p1", "p2", "p3"]
    assert pack_ids("6925621234567891234", 3) == pack_ids("6925621234567891234", 3)
    assert pack_ids("6925621234567891234", 2, attempt=2) == ["p1_r2", "p2_r2"]
    assert pack_ids("6925621234567891234", 0) == []
    with pytest.raises(ValueError):
        pack_ids("abc", 1)


def test_waybill_order_id_drops_the_historic_a():
    assert waybill_order_id("4812345678901234567A") == "4812345678901234567"
    assert waybill_order_id("6925621234567891234") == "6925621234567891234"


# ---------------------------------------------------------------- settings round trip

def test_split_rules_and_sku_facts_round_trip_through_settings():
    rules = SplitRules(per_warehouse=False, max_pack_weight_g=30000)
    assert SplitRules.from_dict(rules.to_dict()) == rules
    assert SplitRules.from_dict({}) == SplitRules()
    f = SkuFacts("佛山仓", 25000, True, frozenset({"易碎", "大件"}))
    assert SkuFacts.from_dict(f.to_dict()) == f
    assert SkuFacts.from_dict({"weight_g": 200}) == SkuFacts(weight_g=200)


@pytest.mark.parametrize("cls, data, field", [
    (SplitRules, {"per_warehouse": "yes"}, "per_warehouse"),
    (SplitRules, {"max_pack_weight_g": 0}, "max_pack_weight_g"),
    (SplitRules, {"max_weight": 1}, "max_weight"),
    (SkuFacts, {"weight_g": -1}, "weight_g"),
    (SkuFacts, {"weight_g": 1.5}, "weight_g"),
    (SkuFacts, {"large": 1}, "large"),
    (SkuFacts, {"tags": "易碎"}, "tags"),
    (SkuFacts, {"warehouse": 3}, "warehouse"),
    (SkuFacts, {"colour": "red"}, "colour"),
])
def test_bad_split_settings_name_the_field(cls, data, field):
    with pytest.raises(ValueError, match=field):
        cls.from_dict(data)


def test_merge_candidates_accept_the_state_as_stored_text():
    # The store keeps states as text; OrderState is a StrEnum so "approved" is APPROVED.
    assert plan_merges([cand("A", 0, state="approved"), cand("B", 1, state="approved")],
                       HOUR) == [["A", "B"]]
    assert plan_merges([cand("A", 0, state="held"), cand("B", 1, state="approved")], HOUR) == []


def test_orders_paid_exactly_at_the_window_edge_still_merge():
    assert plan_merges([cand("A", 0), cand("B", HOUR)], HOUR) == [["A", "B"]]
    assert plan_merges([cand("A", 0), cand("B", HOUR + 1)], HOUR) == []
