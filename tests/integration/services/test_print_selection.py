"""What a print takes: any pack with a live number (confirmed or not), by selection or filter,
split by itself into platform e-waybills (print component) and self-drawn labels (PDF)."""

import time

import fitz
import pytest

from labels_support import own_account_packs
from support import labelled_pack

from fahuo.domain.waybills import WaybillState

from fahuo.services.print_component import component_results, record_component_result
from fahuo.services.print_jobs import Selection, plan_print, print_selection
from fahuo.services.printing import NothingToPrint, PrintError

HOUR = 3600


def _pack(app, make_order, oid, *, courier="zhongtong", source="ewaybill", state="waybill_taken",
          due=None, waybill="live"):
    """A pack with a number; ``source`` says how the number came (None: no waybill row)."""
    from fahuo.adapters.store import models as m
    track_no = "7" + oid[-13:]
    _, pid = labelled_pack(app, make_order, oid, track_no)
    with app.uow() as u:
        u.conn.execute(m.packs.update().where(m.packs.c.id == pid).values(
            courier_code=courier, state=state,
            exp_ship_time=due if due is not None else int(time.time()) + 48 * HOUR))
        if source is not None:  # every number is born live, then it may go back
            u.pipeline.add_waybills([{"courier_code": courier, "track_no": track_no,
                                      "shop_ref": 1, "pack_id": pid, "status": "live",
                                      "source": source}])
            if waybill != "live":  # every number is taken live first
                u.pipeline.move_waybills([(courier, track_no)], WaybillState(waybill))
    return pid


def _drawn(app, sandbox, n, seed, state="confirmed"):
    """Self-drawn packs (the merchant's own numbers) on sandbox orders: their addresses
    decrypt through the platform."""
    from fahuo.adapters.store import models as m
    _, _, packs = own_account_packs(app, sandbox, n, seed)
    ids = [p["id"] for p in packs]
    with app.uow() as u:
        u.conn.execute(m.packs.update().where(m.packs.c.id.in_(ids)).values(state=state))
    return ids


def _state(app, pid):
    with app.uow() as u:
        return u.pipeline.packs_by_ids([pid])[0]["state"]


def test_print_all_waiting_splits_platform_waybills_from_self_drawn_labels(
        fahuo, sandbox, make_order, tmp_path):
    drawn = _drawn(fahuo, sandbox, 2, seed=81)
    platform = [_pack(fahuo, make_order, f"69100000000000000{i}") for i in (11, 12, 13)]
    plan = print_selection(fahuo.uow, fahuo.platform_for, Selection(), actor="t",
                           out_dir=tmp_path / "p")
    assert sorted(plan.platform) == sorted(platform)
    assert sorted(plan.self_drawn) == sorted(drawn)
    assert plan.message == "3 个平台电子面单已交给打印组件，2 个自绘面单已生成 PDF"
    doc = fitz.open(plan.result.path)
    assert doc.page_count == 2  # only the self-drawn ones are drawn
    text = "".join(p.get_text() for p in doc)
    with fahuo.uow() as u:
        nos = {p["id"]: p["track_no"] for p in u.pipeline.packs_by_ids(platform + drawn)}
    assert all(nos[i] in text for i in drawn)
    assert not any(nos[i] in text for i in platform)
    # The self-drawn ones are printed now; the platform ones still wait for the component.
    again = plan_print(fahuo.uow, Selection())
    assert sorted(again.platform) == sorted(platform) and again.self_drawn == []


def test_a_confirmed_pack_reprints_with_a_reason_and_its_state_stays(fahuo, sandbox, tmp_path):
    [pid] = _drawn(fahuo, sandbox, 1, seed=82)
    first = print_selection(fahuo.uow, fahuo.platform_for, Selection(pack_ids=(pid,)),
                            actor="t", out_dir=tmp_path / "p")
    assert first.result.packs == 1 and not first.result.reprint
    with pytest.raises(PrintError, match="补打请填写补打原因"):
        print_selection(fahuo.uow, fahuo.platform_for, Selection(batch=first.result.batch_id),
                        fmt="zpl", actor="t", out_dir=tmp_path / "p")
    again = print_selection(fahuo.uow, fahuo.platform_for,
                            Selection(batch=first.result.batch_id), fmt="zpl", actor="t",
                            out_dir=tmp_path / "p", reason="卡纸")
    assert again.result.reprint
    with fahuo.uow() as u:
        batch = u.prints.batch(again.result.batch_id)
    assert batch["reason"] == "卡纸" and batch["reprint_of"] == first.result.batch_id
    assert _state(fahuo, pid) == "confirmed"  # never moved back to printed


def test_a_confirmed_platform_waybill_reprinted_by_the_component_stays_confirmed(
        fahuo, make_order):
    import json
    pid = _pack(fahuo, make_order, "6910000000000000032", state="confirmed")
    assert plan_print(fahuo.uow, Selection(pack_ids=(pid,))).platform == [pid]

    def report(task, status="success", msg=""):
        return json.dumps({"cmd": "notifyPrintResult", "taskID": task, "taskStatus": "printed"
                           if status == "success" else "failed", "printStatus": [
                               {"documentID": f"fahuo-pack-{pid}", "status": status,
                                "msg": msg}]})
    record_component_result(fahuo.uow, report("t1"), actor="packer")
    # printed once: the second time is a reprint and needs (and keeps) its reason
    with pytest.raises(PrintError, match="补打请填写补打原因"):
        plan_print(fahuo.uow, Selection(pack_ids=(pid,)))
    record_component_result(fahuo.uow, report("t2", "failed", "打印机缺纸"), actor="packer")
    record_component_result(fahuo.uow, report("t3"), actor="packer", reason="面单污损")
    assert _state(fahuo, pid) == "confirmed"
    with fahuo.uow() as u:
        batches = u.prints.batches()
    assert [b["reason"] for b in batches][:2] == ["面单污损", ""]
    results = component_results(fahuo.uow)
    assert [(r["task_id"], r["ok"]) for r in results] == [("t3", True), ("t2", False),
                                                          ("t1", True)]
    assert results[1]["failed"] == {str(pid): "打印机缺纸"}
    assert results[1]["status_zh"] == "打印失败"


def test_a_filter_by_courier_takes_only_that_couriers_packs(fahuo, make_order):
    zto = [_pack(fahuo, make_order, f"69100000000000000{i}") for i in (41, 42)]
    _pack(fahuo, make_order, "6910000000000000043", courier="yuantong")
    assert sorted(plan_print(fahuo.uow, Selection(courier="中通")).platform) == sorted(zto)
    assert sorted(plan_print(fahuo.uow, Selection(courier="zhongtong")).platform) == sorted(zto)
    with pytest.raises(PrintError, match="不认识的快递公司"):
        plan_print(fahuo.uow, Selection(courier="不存在快递"))


def test_a_deadline_window_takes_only_packs_due_within_it(fahuo, make_order):
    now = int(time.time())
    soon = _pack(fahuo, make_order, "6910000000000000051", due=now + 2 * HOUR)
    late = _pack(fahuo, make_order, "6910000000000000052", due=now + 30 * HOUR)
    assert plan_print(fahuo.uow, Selection(due_within_h=4), now=now).platform == [soon]
    assert plan_print(fahuo.uow, Selection(due_before=now + 31 * HOUR)).platform == [soon, late]
    with pytest.raises(NothingToPrint):
        plan_print(fahuo.uow, Selection(due_within_h=1), now=now)


def test_not_yet_printed_is_the_default_and_printed_ones_need_a_reason(fahuo, sandbox,
                                                                      tmp_path):
    a, b = _drawn(fahuo, sandbox, 2, seed=83)
    out = tmp_path / "p"
    print_selection(fahuo.uow, fahuo.platform_for, Selection(pack_ids=(a,)), actor="t",
                    out_dir=out)
    assert plan_print(fahuo.uow, Selection()).self_drawn == [b]
    with pytest.raises(PrintError, match="补打"):
        print_selection(fahuo.uow, fahuo.platform_for,
                        Selection(not_printed=False, courier="zhongtong"), actor="t",
                        out_dir=out)
    both = print_selection(fahuo.uow, fahuo.platform_for,
                           Selection(not_printed=False, courier="zhongtong"), actor="t",
                           out_dir=out, reason="重打")
    assert sorted(both.self_drawn) == sorted([a, b])


def test_orders_are_printed_by_their_live_packs(fahuo, make_order):
    pid = _pack(fahuo, make_order, "6910000000000000071")
    assert plan_print(fahuo.uow, Selection(order_ids=("6910000000000000071",))).platform == [pid]
    with pytest.raises(PrintError, match="订单 6910000000000000099 没有可打印的包裹"):
        plan_print(fahuo.uow, Selection(order_ids=("6910000000000000099",)))


@pytest.mark.parametrize("why", ["recycled", "cancelled", "delivered"])
def test_a_number_gone_back_or_delivered_does_not_print(fahuo, make_order, why):
    from fahuo.adapters.store import models as m
    pid = _pack(fahuo, make_order, "6910000000000000081",
                state="cancelled" if why == "cancelled" else "confirmed",
                waybill="recycled" if why == "recycled" else "live")
    if why == "delivered":
        with fahuo.uow() as u:
            u.conn.execute(m.orders.update().where(
                m.orders.c.order_id == "6910000000000000081").values(state="delivered"))
    with pytest.raises(PrintError, match=f"包裹 {pid} 没有可用的运单号"):
        plan_print(fahuo.uow, Selection(pack_ids=(pid,)))
    with pytest.raises(NothingToPrint):
        plan_print(fahuo.uow, Selection())


def test_a_selection_and_a_filter_do_not_mix(fahuo, make_order):
    pid = _pack(fahuo, make_order, "6910000000000000091")
    with pytest.raises(PrintError, match="不能再加筛选条件"):
        plan_print(fahuo.uow, Selection(pack_ids=(pid,), courier="中通"))
    with pytest.raises(PrintError, match="没有打印批次 #77"):
        plan_print(fahuo.uow, Selection(batch=77))
