"""Recycle on the real store: a number the platform cannot vouch for is kept until it can."""

from fakes import FakeShippingApi
from support import labelled_pack

from fahuo.adapters.platforms.doudian.errors import ServiceUnavailable
from fahuo.services.shipping import Pipeline, StepReport
from fahuo.services.shipping.refunds import stop_for_refund


def _labelled(app, make_order, oid, track_no, state):
    """A labelled pack with its live waybill, its order moved on to ``state``."""
    ref, pid = labelled_pack(app, make_order, oid, track_no)
    with app.uow() as u:
        u.pipeline.add_waybills([{"courier_code": "zhongtong", "track_no": track_no,
                                  "shop_ref": ref, "pack_id": pid, "status": "live",
                                  "source": "ewaybill"}])
        u.pipeline.set_states({oid: state})
    return pid


def _shipped_elsewhere(app, make_order, oid, track_no):
    """A labelled pack whose order the last sync saw shipped, and its live waybill."""
    return _labelled(app, make_order, oid, track_no, "shipped")


def _state(app, pid):
    with app.uow() as u:
        return u.pipeline.packs_by_ids([pid])[0]["state"], u.pipeline.waybill_counts()


def test_a_busy_platform_keeps_the_pack_and_the_next_pass_confirms_it(fahuo_any_db, make_order):
    app = fahuo_any_db
    pid = _shipped_elsewhere(app, make_order, "6900000000000000101", "78000000000101")
    api = FakeShippingApi()
    api.read_errors["6900000000000000101"] = ServiceUnavailable("busy",
                                                                method="order.orderDetail")
    pipe = Pipeline(app.uow, lambda shop: api)
    r = pipe.recycle()
    assert api.cancelled == [] and r.done == 0
    assert _state(app, pid) == ("waybill_taken", {"live": 1})
    # Next pass the platform answers: the order shipped with this very number.
    del api.read_errors["6900000000000000101"]
    api.shipped("6900000000000000101", "78000000000101")
    pipe.recycle()
    assert api.cancelled == []
    assert _state(app, pid) == ("confirmed", {"used": 1})
    app.tracking.start()  # a confirmed pack gets its tracker
    with app.uow() as u:
        assert [t["pack_id"] for t in u.tracking.by_track_nos(["78000000000101"])
                ["78000000000101"]] == [pid]


def test_a_number_shown_unused_is_cancelled_and_recorded(fahuo_any_db, make_order):
    app = fahuo_any_db
    pid = _shipped_elsewhere(app, make_order, "6900000000000000102", "78000000000102")
    api = FakeShippingApi()
    api.shipped("6900000000000000102", "78999999999999")  # shipped on the merchant's own label
    assert Pipeline(app.uow, lambda shop: api).recycle().done == 1
    assert api.cancelled == [("zhongtong", "78000000000102")]
    assert _state(app, pid) == ("cancelled", {"recycled": 1})
    app.tracking.start()
    with app.uow() as u:
        assert u.tracking.by_track_nos(["78000000000102"]) == {}


def test_a_refund_stop_never_cancels_a_number_the_platform_shipped_with(fahuo_any_db,
                                                                         make_order):
    # The buyer asks for a refund while fahuo still thinks the label is waiting, but the
    # parcel was confirmed behind its back: the stop keeps the number, recycle confirms it.
    app = fahuo_any_db
    oid, no = "6900000000000000103", "78000000000103"
    pid = _labelled(app, make_order, oid, no, "approved")
    with app.uow() as u:
        u.pipeline.set_states({oid: "waybill_taken"})
        unit = u.pipeline.packs_by_ids([pid])
        lines = u.pipeline.lines([pid])
    api = FakeShippingApi()
    api.shipped(oid, no)
    pipe = Pipeline(app.uow, lambda shop: api)
    stop_for_refund(pipe, unit, lines, [oid], StepReport())
    assert api.cancelled == [] and _state(app, pid) == ("stale", {"live": 1})
    pipe.recycle()
    assert api.cancelled == [] and _state(app, pid) == ("confirmed", {"used": 1})
    with app.uow() as u:
        assert u.orders.get(oid)["state"] == "shipped"
