"""People and reserved stock: what is reserved and why, a reservation released by hand (with a
note, audited), and a printed parcel that will not ship confirmed unpacked (拆包放回), which
gives back the units its box held.

The rule of what a reservation keeps is one (``stock.orders.follow_lines_in``); these use cases only
say what a person saw: that a box is open again, or that stock is stuck for a reason fahuo
cannot see.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from fahuo.domain.clock import shop_time
from fahuo.domain.couriers import normalize_tracking_no
from fahuo.domain.names import ORDER_STATE, PACK_STATE
from fahuo.domain.orders import OrderState
from fahuo.domain.packs import PackState
from fahuo.domain.reservations import MANUAL
from fahuo.services.ports import UowFactory
from fahuo.services.stock.orders import follow_lines_in, retry_short_in

NOTE_MAX = 500
# A pack in these states still goes out as it is: its units are deducted when it does.
WILL_SHIP = ("planned", "waybill_pending", "waybill_taken", "printed", "scanned")
class ReservationError(ValueError):
    """Why a person's stock action was refused (Chinese); nothing was changed."""


@dataclass
class Released:
    message: str
    released: dict[str, dict[str, int]] = field(default_factory=dict)  # order → code → units
    retried: list[str] = field(default_factory=list)  # held orders the stock went to

    def as_dict(self) -> dict[str, Any]:
        return {"message": self.message, "released": self.released, "retried": self.retried}


def _units(released: dict[str, dict[str, int]]) -> str:
    per_code: dict[str, int] = {}
    for codes in released.values():
        for c, q in codes.items():
            per_code[c] = per_code.get(c, 0) + q
    return "、".join(f"{c}×{q}" for c, q in sorted(per_code.items()))


def _note(note: str, required: bool) -> str:
    note = (note or "").strip()
    if required and not note:
        raise ReservationError("请写明原因（备注必填）：手工释放会让这些库存重新可卖")
    if len(note) > NOTE_MAX:
        raise ReservationError(f"备注最多 {NOTE_MAX} 个字，现在 {len(note)} 个")
    return note


def release_by_hand(uow: UowFactory, order_id: str, *, note: str, actor: str) -> Released:
    """A person gives back an order's reserved stock, saying why (the journal: 手工释放 + the
    note; the audit log: who). Refused while a parcel of the order is on its way out as it
    is (it has a number): its units are deducted when it leaves, so they must stay reserved.
    A pack planned without a number yet is voided: the order is planned, and reserves,
    again when it goes on."""
    note = _note(note, required=True)
    order_id = (order_id or "").strip()
    with uow() as u:
        u.pipeline.lock_orders([order_id])
        states = u.pipeline.order_states([order_id])
        if order_id not in states:
            raise ReservationError(f"没有订单 {order_id}")
        live = u.stock.reservations([order_id], ("reserved",))
        if not live:
            raise ReservationError(f"订单 {order_id} 没有占用中的库存")
        going = [p for p in u.pipeline.packs_of_orders([order_id]) if p["state"] in WILL_SHIP]
        numbered = [p for p in going if p["state"] != "planned"]
        if numbered:
            p = numbered[0]
            raise ReservationError(
                f"订单 {order_id} 的包裹{('（运单 ' + p['track_no'] + '）') if p['track_no'] else ''}"
                f"{PACK_STATE.get(p['state'], p['state'])}，还会发出，发出时要扣这些库存，"
                "不能手工释放。先拦下或取消该包裹；包裹若已拆开放回，请用“已拆包放回”")
        # no number yet: planned again, and so reserved again, later
        u.pipeline.move_packs_from([p["id"] for p in going], frozenset({PackState.PLANNED}),
                                   PackState.CANCELLED,
                                   last_error="库存已手工释放：订单继续时重新分包")
        u.stock.lock_ids(r["item_id"] for r in live)
        live = u.stock.reservations([order_id], ("reserved",))
        codes = {i: row["sku_code"] for i, row in
                 u.stock.lock_ids(r["item_id"] for r in live).items()}
        reason = f"{MANUAL}：{note}"
        u.stock.apply([{"item_id": r["item_id"], "move": "release", "on_hand": 0,
                        "reserved": -r["quantity"], "damaged": 0, "ref_type": "order",
                        "ref_id": order_id, "reason": reason, "actor": actor} for r in live])
        u.stock.keep_reserved([(order_id, r["item_id"], 0) for r in live])
        released = {order_id: {codes[r["item_id"]]: r["quantity"] for r in live}}
        u.audit.add(actor=actor, action="stock.release", subject_type="order",
                    subject_id=order_id, detail={"note": note, "released": released[order_id],
                                                 "order_state": states[order_id]})
        retried = retry_short_in(u).reserved
    again = ("；订单再分包时会重新占用" if states[order_id] in
             (OrderState.HELD.value, OrderState.APPROVED.value, OrderState.SYNCED.value) else "")
    return Released(f"已手工释放 {_units(released)}{again}", released, retried)


def unpack(uow: UowFactory, *, track_no: str | None = None, pack_id: int | None = None,
           actor: str, note: str = "") -> Released:
    """The merchant confirms a printed parcel that will not ship was opened and its goods
    put back on the shelf (拆包放回). Its units stop counting as boxed, and whatever its
    orders no longer send goes back now (journal: 拆包放回 + the parcel and note)."""
    note = _note(note, required=False)
    with uow() as u:
        pack = None
        if pack_id is not None:
            got = u.pipeline.packs_by_ids([pack_id])
            pack = got[0] if got else None
            what = f"包裹 #{pack_id}"
        else:
            no = normalize_tracking_no(track_no or "")
            if not no:
                raise ReservationError("请扫描或填写运单号")
            pack = u.pipeline.pack_by_track_no(no)
            what = f"运单 {no}"
        if pack is None:
            raise ReservationError(f"没有找到{what}（不是 fahuo 打印的面单）")
        lines = u.pipeline.lines([pack["id"]])[pack["id"]]
        order_ids = sorted({ln["order_id"] for ln in lines})
        u.pipeline.lock_orders(order_ids)
        if pack["state"] == "confirmed":
            raise ReservationError(f"{what} 已发货，不能拆包放回；买家退回的货请在售后里收货入库")
        if pack.get("unpacked_at"):
            raise ReservationError(
                f"{what} 已于 {shop_time(pack['unpacked_at'])} "
                f"由 {pack.get('unpacked_by') or '—'} 确认拆包")
        printed = u.prints.printed_before([pack["id"]], "labels")
        if pack["id"] not in printed and pack["state"] not in ("printed", "scanned"):
            raise ReservationError(f"{what} 还没打印面单，货还在货架上，无需拆包")
        u.pipeline.update_pack(pack["id"], unpacked_at=int(time.time()), unpacked_by=actor)
        label = f"包裹 {pack['track_no'] or '#' + str(pack['id'])}"
        done = follow_lines_in(u, order_ids, actor=actor, unpacked=frozenset(order_ids),
                               note=f"{label}" + (f"，{note}" if note else ""))
        u.audit.add(actor=actor, action="pack.unpack", subject_type="pack",
                    subject_id=str(pack["id"]), detail={"track_no": pack["track_no"],
                                                        "note": note,
                                                        "released": done.orders})
        retried = retry_short_in(u).reserved if done.units else []
    if done.units:
        msg = f"已拆包放回：{_units(done.orders)} 回到可用库存"
    else:
        msg = ("已记录拆包；这些商品订单仍要发出（或退款还没完成），库存继续占用，"
               "退款完成后自动释放")
    return Released(msg, done.orders, retried)


def reserved_view(uow: UowFactory, *, limit: int = 500) -> dict[str, Any]:
    """What the console shows: live reservations by order (with the order's state and
    holds), parcels waiting to be unpacked, and the latest releases with their reasons."""
    with uow(readonly=True) as u:
        rows = u.stock.live_reservations(limit=limit)
        ids = sorted({r["order_id"] for r in rows})
        holds = u.pipeline.open_holds(ids)
        packs = u.pipeline.packs_of_orders(ids)
        pack_orders = u.pipeline.lines([p["id"] for p in packs])
        boxes = u.pipeline.boxes_not_unpacked()
        box_lines = u.pipeline.lines([b["id"] for b in boxes])
        box_states = u.pipeline.order_states(sorted({ln["order_id"] for ls in box_lines.values()
                                                     for ln in ls}))
        releases = [j for j in u.stock.journal(limit=400) if j["move"] == "release"][:50]
    going: dict[str, dict[str, Any]] = {}  # order → a numbered pack still going out
    for p in packs:
        if p["state"] in WILL_SHIP and p["state"] != "planned":
            for ln in pack_orders.get(p["id"], []):
                going.setdefault(ln["order_id"], p)
    orders: dict[str, dict[str, Any]] = {}
    for r in rows:
        o = orders.setdefault(r["order_id"], {
            "order_id": r["order_id"], "state": r["order_state"] or "",
            "state_zh": ORDER_STATE.get(r["order_state"] or "", r["order_state"] or ""),
            "holds": [h["detail"] or h["reason"] for h in holds.get(r["order_id"], [])],
            "lines": [], "since": r["updated_at"],
            # the same refusal release_by_hand gives, shown instead of a button that fails
            "blocked": (f"包裹{PACK_STATE.get(going[r['order_id']]['state'], '')}，发出时扣减"
                        if r["order_id"] in going else "")})
        o["lines"].append({"sku_code": r["sku_code"], "quantity": r["quantity"]})
    out_boxes = []
    for b in boxes:
        ls = box_lines.get(b["id"], [])
        oids = sorted({ln["order_id"] for ln in ls})
        out_boxes.append({"id": b["id"], "track_no": b["track_no"] or "", "state": b["state"],
                          "state_zh": PACK_STATE.get(b["state"], b["state"]),
                          "order_ids": oids,
                          "orders": [f"{o}（{ORDER_STATE.get(box_states.get(o, ''), box_states.get(o, ''))}）"
                                     for o in oids],
                          "units": sum(ln["quantity"] for ln in ls)})
    # what a person may have to act on first: held or closed orders, then the oldest
    boxed_orders = {o for b in out_boxes for o in b["order_ids"]}
    for o in orders.values():
        if o["state"] in ("cancelled", "refunded"):
            o["holds"].append(f"订单{o['state_zh']}" + ("：货在未拆的包裹里，拆包放回后释放"
                                                       if o["order_id"] in boxed_orders else ""))
    listed = sorted(orders.values(), key=lambda o: (
        o["state"] not in ("held", "cancelled", "refunded"), bool(o["blocked"]), o["since"]))
    return {"orders": listed, "boxes": out_boxes, "releases": releases}


__all__ = ["Released", "ReservationError", "release_by_hand", "reserved_view", "unpack"]
