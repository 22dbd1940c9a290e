"""A number is given back only when every order of its pack shows it unused (issue 10 A)."""

from fakes import FakeShippingApi

from fahuo.adapters.platforms.doudian.errors import BusinessError, Throttled, TransportError
from fahuo.services.shipping import StepReport
from fahuo.services.shipping.recycle import cancel_numbers


def _pack(pid: int, track_no: str, kind: str = "whole", main: str = "A") -> dict:
    return {"id": pid, "kind": kind, "main_order_id": main, "track_no": track_no,
            "courier_code": "zhongtong", "courier_rule": ""}


def _lines(**orders_of: list[str]) -> dict[int, list[dict]]:
    return {int(pid[1:]): [{"order_id": oid, "sku_order_id": f"{oid}-{pid}", "quantity": 1}
                           for oid in oids] for pid, oids in orders_of.items()}


def test_a_transient_read_back_error_cancels_nothing_and_keeps_the_pack():
    api = FakeShippingApi()
    api.read_errors["A"] = Throttled("busy", method="order.orderDetail")
    r = StepReport()
    recycled, kept, used = cancel_numbers(api, [_pack(1, "781")], _lines(p1=["A"]), r)
    assert (recycled, kept, used, api.cancelled) == ([], {1}, {}, [])
    assert r.calls == 1 and r.notes  # one read-back, no cancel call


def test_a_read_back_the_platform_refuses_is_no_licence_to_cancel_either():
    api = FakeShippingApi()
    api.read_errors["A"] = BusinessError("订单不存在", method="order.orderDetail")
    recycled, kept, _ = cancel_numbers(api, [_pack(1, "781")], _lines(p1=["A"]),
                                                 StepReport())
    assert (recycled, kept, api.cancelled) == ([], {1}, [])


def test_a_number_the_order_shipped_with_is_kept_and_reported_used():
    api = FakeShippingApi()
    api.shipped("A", "781")
    recycled, kept, used = cancel_numbers(api, [_pack(1, "781")], _lines(p1=["A"]),
                                                    StepReport())
    assert (recycled, kept, api.cancelled) == ([], set(), [])
    assert [x.order_id for x in used[1]] == ["A"]


def test_an_order_shipped_with_another_number_gets_ours_cancelled():
    api = FakeShippingApi()
    api.shipped("A", "789")
    recycled, kept, used = cancel_numbers(api, [_pack(1, "781")], _lines(p1=["A"]),
                                                    StepReport())
    assert (recycled, kept, used) == ([("zhongtong", "781")], set(), {})


def test_a_merged_pack_is_checked_against_each_of_its_orders():
    # The second order carries the number, the first failed to read: still used.
    api = FakeShippingApi()
    api.read_errors["A"] = TransportError("reset", method="order.orderDetail")
    api.shipped("B", "781")
    _, kept, used = cancel_numbers(api, [_pack(1, "781", "merged")],
                                             _lines(p1=["A", "B"]), StepReport())
    assert [x.order_id for x in used[1]] == ["B"] and not kept and not api.cancelled
    # Neither order carries it, one could not be read: unsure, nothing cancelled.
    api = FakeShippingApi()
    api.read_errors["B"] = TransportError("reset", method="order.orderDetail")
    _, kept, used = cancel_numbers(api, [_pack(1, "781", "merged")],
                                             _lines(p1=["A", "B"]), StepReport())
    assert kept == {1} and not used and not api.cancelled


def test_a_split_order_keeps_the_pack_it_shipped_with_and_gives_back_the_other():
    api = FakeShippingApi()
    api.shipped("A", "781", "789")  # pack 1 with our number, the rest with the merchant's
    read: dict = {}
    recycled, kept, used = cancel_numbers(
        api, [_pack(1, "781", "split"), _pack(2, "782", "split")], _lines(p1=["A"], p2=["A"]),
        StepReport(), read=read)
    assert list(used) == [1] and recycled == [("zhongtong", "782")] and not kept
    assert api.reads == ["A"]  # one read-back per order, shared by its packs
    cancel_numbers(api, [_pack(3, "783", "split")], _lines(p3=["A"]), StepReport(),
                             read=read)
    assert api.reads == ["A"]


def test_a_partly_shipped_order_says_so():
    api = FakeShippingApi()
    api.shipped("A", "781", status=101)
    _, _, used = cancel_numbers(api, [_pack(1, "781", "split")], _lines(p1=["A"]),
                                          StepReport())
    assert used[1][0].partly


def test_cancelled_orders_are_not_read_and_their_numbers_go_back():
    api = FakeShippingApi()
    recycled, _, _ = cancel_numbers(api, [_pack(1, "781")], _lines(p1=["A"]),
                                              StepReport(), never_shipped=frozenset({"A"}))
    assert recycled == [("zhongtong", "781")] and api.reads == []


def test_the_merchants_own_numbers_are_neither_read_nor_cancelled():
    api = FakeShippingApi()
    own = dict(_pack(1, "781"), courier_rule="import")
    assert cancel_numbers(api, [own], _lines(p1=["A"]), StepReport()) == ([], set(), {})
    assert api.reads == [] and api.cancelled == []
