"""Labels in tests (importable as `labels_support`). Platform e-waybills print through the
print component, answered by the demo's stand-in (``print_by_component``). Self-drawn labels
on sandbox orders: numbers that are not Douyin platform e-waybills, whose labels fahuo draws
with the address the platform decrypts.

Two ways in, both the merchant's: a tracking-number file (``imported_packs``: the real import,
confirmed at once, source 'manual') and a number from the merchant's own courier account
still waiting for its label (``own_account_packs``: source 'manual', not yet printed)."""

from __future__ import annotations

import io

from support import orders_in_fahuo


def number(seed: int, i: int) -> str:
    """A 中通-shaped tracking number, one per (seed, i)."""
    return f"78{seed % 10000:04d}{i:08d}"


def waiting_orders(app, ref: int) -> list[dict]:
    """The shop's orders still waiting to ship, oldest first."""
    with app.uow(readonly=True) as u:
        return sorted((o for o in u.orders.search(shop_ref=ref, order_status=2, limit=500)[1]),
                      key=lambda o: o["order_id"])


def _shop_with_orders(app, sandbox, count: int, seed: int, confirm_mode):
    """A ready sandbox shop and ``count`` of its orders waiting to ship (the sandbox makes
    some unpaid or done: more are made, the first ``count`` waiting are taken)."""
    ref, creds = orders_in_fahuo(app, sandbox, 2 * count + 4, seed, run=False,
                                 confirm_mode=confirm_mode)
    orders = waiting_orders(app, ref)[:count]
    assert len(orders) == count, len(orders)
    return ref, creds, orders


def imported_packs(app, sandbox, count: int, seed: int, *, confirm_mode="on_print"
                   ) -> tuple[int, dict, list[dict]]:
    """(shop ref, creds, packs): ``count`` sandbox orders, their numbers imported from a
    file and confirmed on the platform, as ``apply_import`` does for a merchant."""
    from fahuo.bootstrap import apply_import
    ref, creds, orders = _shop_with_orders(app, sandbox, count, seed, confirm_mode)
    buf = io.StringIO()
    buf.write("订单号,快递公司,快递单号\n")
    for i, o in enumerate(orders):
        buf.write(f"{o['order_id']},中通快递,{number(seed, i)}\n")
    job = apply_import(app.uow, app.platform_for, "单号.csv", buf.getvalue().encode("utf-8-sig"),
                       actor="test")
    assert job["ok"] > 0, job
    with app.uow(readonly=True) as u:
        packs = [p for p in u.pipeline.packs_of_orders([o["order_id"] for o in orders])
                 if p["state"] == "confirmed"]
    return ref, creds, sorted(packs, key=lambda p: p["id"])


def own_account_packs(app, sandbox, count: int, seed: int, *, confirm_mode="on_print",
                      source: str | None = "manual") -> tuple[int, dict, list[dict]]:
    """(shop ref, creds, packs): ``count`` sandbox orders, each in a pack carrying a number
    from the merchant's own courier account (``source``; None: no waybill row), waiting
    for its label (waybill_taken)."""
    from fahuo.adapters.store import models as m
    ref, creds, orders = _shop_with_orders(app, sandbox, count, seed, confirm_mode)
    ids = []
    with app.uow() as u:
        loaded = u.pipeline.load_orders([o["order_id"] for o in orders])
        u.pipeline.lock_orders(sorted(loaded))
        for i, o in enumerate(orders):
            order = loaded[o["order_id"]][2]
            track_no = number(seed, i)
            pid = u.pipeline.add_pack({
                "shop_ref": ref, "kind": "whole", "state": "waybill_taken",
                "main_order_id": order.order_id, "platform_pack_id": "",
                "courier_code": "zhongtong", "track_no": track_no,
                "request_id": f"own-{order.order_id}", "exp_ship_time": order.exp_ship_time},
                [{"order_id": order.order_id, "sku_order_id": s.sku_order_id,
                  "quantity": s.quantity} for s in order.sub_orders])
            if source is not None:
                u.pipeline.add_waybills([{"courier_code": "zhongtong", "track_no": track_no,
                                          "shop_ref": ref, "pack_id": pid, "status": "live",
                                          "source": source}])
            ids.append(pid)
        # as the pipeline leaves an order whose pack has its number (set here directly: the
        # pass itself would take a platform e-waybill)
        u.conn.execute(m.orders.update().where(m.orders.c.order_id.in_(sorted(loaded)))
                       .values(state="waybill_taken"))
        packs = u.pipeline.packs_by_ids(ids)
    return ref, creds, sorted(packs, key=lambda p: p["id"])


def plain_receivers(app, ref: int, order_ids) -> dict:
    """What the platform decrypts for these orders, asked through fahuo's client (the
    sandbox shows only ciphertexts and masks)."""
    from fahuo.services.receivers import full_receivers
    got, refused = full_receivers(app.uow, app.platform_for, {ref: list(order_ids)},
                                  actor="test", why="测试核对")
    assert not refused, refused
    return got


def print_by_component(app, pack_ids=None, *, actor: str = "t", reason: str = "",
                       strict: bool = True) -> list[int]:
    """Print platform e-waybills as a packer does: the print component's tasks, answered by
    the local stand-in of the component (``demo_packer.component_answer``) and recorded.
    None: every platform e-waybill waiting. The packs printed; ``strict``: each one asked."""
    from fahuo.entrypoints.demo_packer import component_answer
    from fahuo.services.print_component import component_tasks, record_component_result
    from fahuo.services.print_jobs import Selection, plan_print
    from fahuo.services.printing import NothingToPrint
    if pack_ids is None:
        try:
            pack_ids = plan_print(app.uow, Selection(), reason=reason).platform
        except NothingToPrint:
            return []
    got = component_tasks(app.uow, app.platform_for, list(pack_ids), printer="测试打印机")
    assert not strict or not got["problems"], got["problems"]
    printed: list[int] = []
    for task in got["tasks"]:
        printed += record_component_result(app.uow, component_answer(task), actor=actor,
                                           reason=reason)["printed"]
    assert not strict or sorted(printed) == sorted(pack_ids), (printed, pack_ids)
    return printed


def component_reports_printed(uow, pack_ids=None, *, actor: str = "t") -> list[int]:
    """What the print component reports once these platform e-waybills printed (None: every
    one waiting), answered as the stand-in answers a task; for fake shops, which serve no
    print data to build the task from. The packs printed."""
    import uuid

    from fahuo.entrypoints.demo_packer import component_answer
    from fahuo.services.print_component import DOC_PREFIX, record_component_result
    from fahuo.services.print_jobs import Selection, plan_print
    from fahuo.services.printing import NothingToPrint
    if pack_ids is None:
        try:
            pack_ids = plan_print(uow, Selection()).platform
        except NothingToPrint:
            return []
    if not pack_ids:
        return []
    task = {"task": {"taskID": f"fahuo-{uuid.uuid4().hex[:12]}", "documents": [
        {"documentID": f"{DOC_PREFIX}{pid}"} for pid in pack_ids]}}
    return record_component_result(uow, component_answer(task), actor=actor)["printed"]
