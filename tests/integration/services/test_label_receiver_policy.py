"""The receiver on a self-rendered label is masked unless the shop's policy says plain and
the person printing may see it."""

import os

import fitz
import pytest

from fahuo.adapters.labels.pdf import find_font

from fahuo.services.orders import store_platform_orders
from support import labelled_pack
from fahuo.services.printing import print_labels
from fahuo.services.settings import update_settings


def _pack(app, make_order, oid):
    return labelled_pack(app, make_order, oid, "78" + "5" * 12)


def _text(path):
    return "".join(p.get_text() for p in fitz.open(path))


# Text extraction needs an embedded CJK font (CI installs one; elsewhere it may be missing).
@pytest.mark.skipif(not find_font().embedded and not os.environ.get("CI"),
                    reason="no embeddable CJK font on this machine")
def test_masked_by_default_plain_only_by_policy_and_permission(fahuo, make_order, tmp_path):
    ref, pid = _pack(fahuo, make_order, "6900000000000000077")
    masked = print_labels(fahuo.uow, [pid], actor="t", out_dir=tmp_path, may_see_receiver=True)
    assert "王小明" not in _text(masked.path) and "张*" in _text(masked.path)
    update_settings(fahuo.uow, ref, {"label_receiver": "plain"}, actor="t")
    # the shop allows plain, but this packer may not see receivers: still masked
    other = print_labels(fahuo.uow, [pid], actor="packer", out_dir=tmp_path, reason="补打")
    assert "王小明" not in _text(other.path)
    plain = print_labels(fahuo.uow, [pid], actor="t", out_dir=tmp_path, reason="改用明文",
                         may_see_receiver=True)
    assert "王小明" in _text(plain.path) and plain.path != other.path


def test_route_order_follows_bin_locations(fahuo, make_order, tmp_path):
    ref, first = _pack(fahuo, make_order, "6900000000000000088")
    with fahuo.uow() as uow:
        order = uow.pipeline.load_orders(["6900000000000000088"])["6900000000000000088"][2]
        code = order.sub_orders[0].merchant_code
    # A second pack whose SKU sits earlier on the route prints first.
    with fahuo.uow() as uow:
        store_platform_orders(uow, ref, [make_order("6900000000000000099", 1_700_000_000)])
        other = uow.pipeline.load_orders(["6900000000000000099"])["6900000000000000099"][2]
        for s in other.sub_orders:
            uow.conn.exec_driver_sql("update sub_orders set merchant_code='CUP-A' "
                                     "where sku_order_id=?", (s.sku_order_id,))
        second = uow.pipeline.add_pack({
            "shop_ref": ref, "kind": "whole", "state": "waybill_taken",
            "main_order_id": "6900000000000000099", "platform_pack_id": "",
            "courier_code": "zhongtong", "track_no": "78" + "6" * 12, "request_id": "r2",
            "exp_ship_time": 1}, [{"order_id": "6900000000000000099",
                                   "sku_order_id": s.sku_order_id, "quantity": 1}
                                  for s in other.sub_orders])
    update_settings(fahuo.uow, ref, {"sku_facts": {code: {"bin": "A-01-01"},
                                                   "CUP-A": {"bin": "Z-09-09"}}}, actor="t")
    r = print_labels(fahuo.uow, [first, second], fmt="zpl", order_by="route", actor="t",
                     out_dir=tmp_path)
    body = r.path.read_text()
    assert body.index("78" + "5" * 12) < body.index("78" + "6" * 12)  # A-01 before Z-09
    r2 = print_labels(fahuo.uow, [first, second], fmt="zpl", order_by="deadline", actor="t",
                      out_dir=tmp_path, reason="按截止时间重排")
    body2 = r2.path.read_text()
    assert body2.index("78" + "6" * 12) < body2.index("78" + "5" * 12)  # earlier deadline
