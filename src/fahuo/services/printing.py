"""Printing in batches: waybill labels (PDF/ZPL) with print records.

Every print is recorded (who, when, which printer, which batch). Asking for the very same batch
again returns the same file, flagged as already printed; printing a pack that was printed
before needs a reason and is recorded as a reprint. Never a silent duplicate.

fahuo draws only self-drawn labels (numbers not taken as Douyin platform e-waybills), each
with the whole address the platform decrypts (``receivers.full_receivers``); the files are
kept only until handed out (``label_files``).
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, TYPE_CHECKING

from fahuo.adapters.labels.model import SIZES, LabelData, LabelError, Party
from fahuo.domain.clock import SHOP_TZ
from fahuo.domain.orders import OrderState
from fahuo.domain.packs import PackState
from fahuo.services.label_files import PLAIN_KEEP_S as PLAIN_KEEP_S
from fahuo.services.label_files import PLAIN_PREFIX as PLAIN_PREFIX
from fahuo.services.label_files import _reaper, _store_file
from fahuo.services.label_files import forget_plain_labels as forget_plain_labels
from fahuo.services.label_files import hand_out as hand_out
from fahuo.services.ports import PlatformFactory, UowFactory
from fahuo.services.receivers import PlainReceiver, full_receivers

if TYPE_CHECKING:
    from fahuo.adapters.store.unit_of_work import UnitOfWork

FORMATS = {"labels": ("pdf", "zpl")}
# A label prints whenever the parcel needs one: any pack whose number is live, confirmed or
# not, until its order is delivered (or over) or the number went back.
LIVE_PACK_STATES = ("waybill_taken", "printed", "scanned", "confirmed", "manual")
DONE_ORDER_STATES = ("delivered", "returned", "cancelled", "refunded")


class PrintError(ValueError):
    """What is wrong with a print request; nothing was printed or recorded."""


class NothingToPrint(PrintError):
    """Nothing matched: not a mistake, only nothing waiting."""


class AddressRefused(PrintError):
    """The platform gave no full address for any of the packs (``refused``: pack → why)."""

    def __init__(self, message: str, refused: dict[int, str]) -> None:
        super().__init__(message)
        self.refused = refused


@dataclass(frozen=True)
class PrintResult:
    batch_id: int
    path: Path
    packs: int
    already_printed: bool  # the same batch again: the same file, nothing new recorded
    reprint: bool
    plain: bool = False  # plain receiver text (labels: the address): gone once handed out
    refused: dict[int, str] = field(default_factory=dict)  # pack → why it did not print


def _selection_key(kind: str, fmt: str, size: str, order_by: str, ids: Sequence[int]) -> str:
    text = f"{kind}|{fmt}|{size}|{order_by}|{','.join(map(str, sorted(ids)))}"
    return hashlib.sha256(text.encode()).hexdigest()


def _summary(lines, subs) -> str:
    parts = []
    for ln in lines:
        s = subs.get(ln["sku_order_id"])
        if s is not None:
            parts.append(f"{s.product_name} {s.spec.split(':')[-1] if s.spec else ''}"
                         f"×{ln['quantity']}".replace("  ", " "))
    return "；".join(parts)


def _ids(ids: Sequence[object], n: int = 20) -> str:
    shown = "、".join(map(str, list(ids)[:n]))
    return shown + (f" 等 {len(ids)} 个" if len(ids) > n else "")


def live_packs(u: UnitOfWork, **filters: object) -> list[dict]:
    """Packs with a live number matching the filter (see ``PrintQueries.printable_packs``)."""
    return u.prints.printable_packs(live_states=LIVE_PACK_STATES,
                                    done_orders=DONE_ORDER_STATES, **filters)  # type: ignore[arg-type]


def live_facts(u: UnitOfWork, pack_ids: Sequence[int]) -> dict[int, dict]:
    """The named packs whose number is live, with ``waybill_source``."""
    return u.prints.label_facts(pack_ids, live_states=LIVE_PACK_STATES,
                                done_orders=DONE_ORDER_STATES)


def select_packs(u: UnitOfWork, pack_ids: Sequence[int] | None, record: str,
                 waiting_states: Sequence[str] = ("waybill_taken",)) -> list[dict]:
    """The packs named, or (None) what waits: for labels every pack with a live number not
    printed yet; for documents the packs in waiting_states not yet printed as record."""
    if pack_ids is None:
        if record == "labels":
            return live_packs(u, not_printed=True)
        waiting = u.pipeline.packs_in_state(list(waiting_states), limit=5000)
        done = u.prints.printed_before([p["id"] for p in waiting], record)
        return [p for p in waiting if p["id"] not in done]
    packs = u.pipeline.packs_by_ids(list(pack_ids))
    missing = sorted(set(pack_ids) - {p["id"] for p in packs})
    if missing:
        raise PrintError(f"没有这些包裹：{_ids(missing)} (no such packs)")
    return packs


def reprint_refusal(before: dict[int, int]) -> str:
    """Why a print of packs printed before (pack → first batch) needs a reason."""
    return (f"{len(before)} 个包裹已打印过（批次 "
            + "、".join(f"#{b}" for b in sorted(set(before.values()))[:10])
            + "）：补打请填写补打原因 (already printed: a reprint needs a reason)")


PLATFORM_SOURCE = "ewaybill"  # waybills.source of a Douyin platform e-waybill


def platform_refusal(pack_ids: Sequence[int]) -> str:
    """Why fahuo does not draw these packs: their numbers are Douyin platform e-waybills."""
    return (f"平台电子面单只能由抖音打印组件打印：包裹 {_ids(pack_ids)} 是抖音平台电子面单，"
            "请在控制台“抖音打印组件”页（/print/component）打印，fahuo 不绘制平台面单"
            " (platform e-waybills print only through the Douyin print component)")


def _receiver_party(rc, full: PlainReceiver, contact: bool) -> Party:
    """The whole address always (the courier needs it); name and phone plain only when
    ``contact`` (the shop's policy and the person allow it), else their masks."""
    region = " ".join(filter(None, (rc.province, rc.city, rc.district)))
    street = " ".join(filter(None, (rc.street, full.detail)))
    return Party((contact and full.name) or rc.name_mask, (contact and full.phone)
                 or rc.phone_mask, tuple(x for x in (region, street) if x))


def check_label_options(fmt: str, size: str, order_by: str) -> None:
    """Refuses a label format, size or order fahuo does not draw."""
    if fmt not in FORMATS["labels"]:
        raise PrintError(f"格式 {fmt!r} 不支持：面单只能打印为 PDF 或 ZPL (format: pdf or zpl)")
    if size not in SIZES:
        raise PrintError(f"纸张 {size!r} 不支持：可选 {'、'.join(SIZES)} (size)")
    if order_by not in ("deadline", "route"):
        raise PrintError(f"顺序 {order_by!r} 不支持：按发货截止 (deadline) 或拣货路线 (route)")


def check_zpl_font(font: str | None) -> None:
    """A font named for one print (over the shop's ``zpl_font``) follows the same rule."""
    if font is not None:
        from fahuo.adapters.labels.zpl import zpl_font_problem
        problem = zpl_font_problem(font)
        if problem:
            raise PrintError(problem)


def _refused_text(refused: dict[int, str]) -> str:
    return "；".join(f"包裹 {pid}：{why}" for pid, why in sorted(refused.items())[:20]) + (
        f" 等 {len(refused)} 个" if len(refused) > 20 else "")


def print_labels(uow_factory: UowFactory, platform_for: PlatformFactory,
                 pack_ids: Sequence[int] | None, *, fmt: str = "pdf", size: str = "76x130",
                 order_by: str = "deadline", actor: str, printer: str = "", reason: str = "",
                 dpi: int = 203, out_dir: Path, may_see_receiver: bool = False,
                 plain_keep_s: float = PLAIN_KEEP_S, zpl_font: str | None = None
                 ) -> PrintResult:
    """Labels drawn by fahuo for the given self-drawn packs (None: every self-drawn pack
    with a live number not printed yet). A Douyin platform e-waybill is never drawn: one
    named here refuses the whole request (``print_jobs.print_selection`` hands those to the
    print component).

    Every label carries the whole address, decrypted through ``order.batchDecrypt``
    (``receivers.full_receivers``, audited); name and phone print in plain text only where
    the shop's policy allows it *and* the person may see receivers (``may_see_receiver``),
    else masked. A pack whose address the platform will not decrypt is left out with the
    reason (``PrintResult.refused``), untouched; the others print. Such a file carries
    plain text: it is deleted once handed out (``hand_out``) or after ``plain_keep_s``.
    ZPL names the shop's ``zpl_font`` (``zpl_font`` here: for this print)."""
    forget_plain_labels(out_dir, plain_keep_s)
    check_label_options(fmt, size, order_by)
    check_zpl_font(zpl_font)
    with uow_factory(readonly=True) as u:
        if pack_ids is None:
            packs = [p for p in live_packs(u, not_printed=True)
                     if p.get("waybill_source") != PLATFORM_SOURCE]
            if not packs:
                raise NothingToPrint("没有待打印的自绘面单：没有已取号且未打印的自绘包裹"
                                     "（平台电子面单由抖音打印组件打印）(nothing to print)")
        else:
            packs = select_packs(u, pack_ids, "labels")
            live = live_facts(u, [p["id"] for p in packs])
            bad = [p["id"] for p in packs if p["id"] not in live]
            if bad:
                raise PrintError(f"包裹 {_ids(bad)} 没有可用的运单号（未取号、已回收、已取消或"
                                 "已签收），不能打印 (no live waybill number)")
            platform = [p["id"] for p in packs
                        if live[p["id"]].get("waybill_source") == PLATFORM_SOURCE]
            if platform:
                raise PrintError(platform_refusal(platform))
            if not packs:
                raise NothingToPrint("没有待打印的面单 (nothing to print)")
        cfgs = {ref: u.settings.get(ref) for ref in {p["shop_ref"] for p in packs}}
        contact = {ref: may_see_receiver and cfg["label_receiver"] == "plain"
                   for ref, cfg in cfgs.items()}
        ids = [p["id"] for p in packs]
        # A plain and a masked contact are different files: never hand one for the other.
        key = _selection_key("labels" + ("+plain" if any(contact.values()) else ""), fmt,
                             size, order_by, ids)
        same = u.prints.batch_for_selection(key)
        before = u.prints.printed_before(ids, "labels")
    if same is not None and not reason.strip():
        path = out_dir / same["file_name"]
        if path.exists():
            return PrintResult(same["id"], path, len(ids), True, False, True)
    if before and not reason.strip():
        raise PrintError(reprint_refusal(before))
    full: dict[str, PlainReceiver] = {}
    why_not: dict[str, str] = {}
    for want in (True, False):  # name and phone are decrypted only where they print
        wanted = {ref: sorted({p["main_order_id"] for p in packs if p["shop_ref"] == ref})
                  for ref in cfgs if contact[ref] == want}
        if wanted:
            got, no = full_receivers(uow_factory, platform_for, wanted, actor=actor,
                                     why="自绘面单" + ("补打" if reason.strip() else ""),
                                     contact=want)
            full.update(got)
            why_not.update(no)
    refused = {p["id"]: why_not.get(p["main_order_id"], "取不到完整收件地址")
               for p in packs if p["main_order_id"] not in full}
    if refused:
        packs = [p for p in packs if p["id"] not in refused]
        if not packs:
            raise AddressRefused("面单未打印：平台未给出完整收件地址，不能生成可投递的面单。"
                                 + _refused_text(refused) + " (no full address)", refused)
        ids = [p["id"] for p in packs]
        key = _selection_key("labels" + ("+plain" if any(contact.values()) else ""), fmt,
                             size, order_by, ids)
        same = None
    with uow_factory(readonly=True) as u:
        lines = u.pipeline.lines(ids)
        order_ids = sorted({ln["order_id"] for ls in lines.values() for ln in ls})
        loaded = u.pipeline.load_orders(order_ids)
        sites = {(s["shop_ref"], s["courier_code"], s["netsite_code"]): s
                 for ref in cfgs for s in u.settings.netsites(ref)}
    subs = {s.sku_order_id: s for _, _, o in loaded.values() for s in o.sub_orders}

    bins = {code: f.get("bin", "") for cfg in cfgs.values()
            for code, f in cfg["sku_facts"].items()}

    def route_key(p):
        # Pick route: the first bin location (库位) the pack needs, then its merchant code.
        spots = sorted((bins.get(subs[ln["sku_order_id"]].merchant_code) or "\uffff",
                        subs[ln["sku_order_id"]].merchant_code) for ln in lines[p["id"]])
        return (spots[0] if spots else ("\uffff", ""), p["exp_ship_time"] or 0, p["id"])

    packs.sort(key=route_key if order_by == "route" else
               (lambda p: (p["exp_ship_time"] or 0, p["id"])))
    printed_at = datetime.fromtimestamp(same["created_at"] if same else time.time(), SHOP_TZ)
    labels = []
    for p in packs:
        cfg = cfgs[p["shop_ref"]]
        site = sites.get((p["shop_ref"], p["courier_code"], p["netsite_code"])) or {}
        a = (site.get("sender_address") or [{}])[0]
        rc = loaded[p["main_order_id"]][2].receiver
        labels.append(LabelData(
            track_no=p["track_no"], courier_code=p["courier_code"],
            sender=Party(cfg["sender_name"] or "", cfg["sender_phone"] or "", tuple(x for x in (
                " ".join(filter(None, (a.get("province_name"), a.get("city_name"),
                                       a.get("district_name")))),
                " ".join(filter(None, (a.get("street_name"), a.get("detail_address"))))) if x)),
            receiver=_receiver_party(rc, full[p["main_order_id"]], contact[p["shop_ref"]]),
            sort_code=p["sort_code"], short_address=p["short_address"],
            package_center=p["package_center"],
            items_summary=_summary(lines[p["id"]], subs),
            order_ids=tuple(sorted({ln["order_id"] for ln in lines[p["id"]]})),
            pack_no=p["seq"], pack_count=p["of"], printed_at=printed_at))
    try:
        if fmt == "pdf":
            from fahuo.adapters.labels.pdf import render_pdf
            data = render_pdf(labels, size)
        else:
            data = _zpl(labels, [zpl_font or cfgs[p["shop_ref"]]["zpl_font"] for p in packs],
                        size, dpi)
    except LabelError as exc:
        raise PrintError(str(exc)) from exc
    # The address is always plain: every self-drawn file is kept only until handed out.
    fingerprint, file_name = _store_file(out_dir, PLAIN_PREFIX, fmt, data)
    _reaper.watch(out_dir, plain_keep_s)
    reprint = bool(before) or same is not None
    with uow_factory() as u:
        bid = record_printed(
            u, ids, order_ids, records_reprint=reprint, kind="labels",
            format=fmt, size=size, order_by=order_by, selection_key=key,
            fingerprint=fingerprint, file_name=file_name, printer=printer,
            reprint_of=(same["id"] if same else min(before.values())) if reprint else None,
            reason=reason.strip(), created_by=actor)
        u.audit.add(actor=actor, action="print.reprint" if reprint else "print.labels",
                    subject_type="print_batch", subject_id=str(bid),
                    detail={"packs": len(packs), "format": fmt, "size": size,
                            "printer": printer, "reason": reason.strip(),
                            "refused": {str(k): v for k, v in refused.items()}})
    return PrintResult(bid, out_dir / file_name, len(packs), False, reprint, True, refused)


def record_printed(u: UnitOfWork, pack_ids: Sequence[int], order_ids: Sequence[str],
                   **batch: Any) -> int:
    """A print batch of labels recorded, and what was still waiting for its label (read
    when the batch was chosen) moved to printed; a confirmed parcel reprinted stays as it is.

    The orders and packs are locked before the batch rows name the packs: a foreign key
    takes a share lock on each pack, and holding that while waiting for an order deadlocked
    with a confirmation holding the order and waiting for the pack."""
    u.pipeline.lock_packs(pack_ids)
    bid = u.prints.add_batch(pack_ids=pack_ids, **batch)
    u.pipeline.move_packs_from(pack_ids, frozenset({PackState.WAYBILL_TAKEN}), PackState.PRINTED)
    u.pipeline.move_orders_from(order_ids, frozenset({OrderState.WAYBILL_TAKEN}),
                                OrderState.PRINTED)
    return bid


def _zpl(labels: Sequence[LabelData], fonts: Sequence[str], size: str, dpi: int) -> bytes:
    """One ZPL file; each label names its shop's printer font (runs rendered together)."""
    from fahuo.adapters.labels.zpl import render_zpl
    out, i = [], 0
    while i < len(labels):
        j = i
        while j < len(labels) and fonts[j] == fonts[i]:
            j += 1
        out.append(render_zpl(labels[i:j], size, dpi=dpi, font=fonts[i]))
        i = j
    return "".join(out).encode("utf-8")


def print_documents(uow_factory: UowFactory, kind: str, pack_ids: Sequence[int] | None, *,
                    fmt: str = "pdf", actor: str, printer: str = "", reason: str = "",
                    out_dir: Path) -> PrintResult:
    """A pick list (拣货单, pdf or xlsx) or packing slips (发货单, pdf) for a batch of packs."""
    from fahuo.adapters.labels.documents import (
        Slip,
        SlipLine,
        aggregate_pick_lines,
        render_picklist_pdf,
        render_picklist_xlsx,
        render_slips_pdf,
    )
    allowed = {"picklist": ("pdf", "xlsx"), "slips": ("pdf",)}
    names = {"picklist": "拣货单", "slips": "发货单"}
    if kind not in allowed:
        raise PrintError(f"单据 {kind!r} 不支持：拣货单 (picklist) 或发货单 (slips)")
    if fmt not in allowed[kind]:
        raise PrintError(f"格式 {fmt!r} 不支持：{names[kind]}只能打印为 "
                         f"{' 或 '.join(f.upper() for f in allowed[kind])}")
    record = kind if fmt == "pdf" else f"{kind}-{fmt}"  # the Excel copy is its own record
    with uow_factory(readonly=True) as u:
        packs = select_packs(u, pack_ids, record, ("waybill_taken", "printed"))
        if not packs:
            raise PrintError("没有要打印的单据：没有待打印的包裹 (nothing to print)")
        packs.sort(key=lambda p: (p["exp_ship_time"] or 0, p["id"]))
        lines = u.pipeline.lines([p["id"] for p in packs])
        loaded = u.pipeline.load_orders(sorted({ln["order_id"] for ls in lines.values()
                                                for ln in ls}))
        shops = {s.id: s for s in u.shops.list()}
        facts = {}
        for ref in {p["shop_ref"] for p in packs}:
            facts.update(u.settings.get(ref)["sku_facts"])
        ids = [p["id"] for p in packs]
        key = _selection_key(kind, fmt, "", "route", ids)
        same = u.prints.batch_for_selection(key)
        before = u.prints.printed_before(ids, record)
    if same is not None and not reason.strip() and (out_dir / same["file_name"]).exists():
        return PrintResult(same["id"], out_dir / same["file_name"], len(ids), True, False)
    if before and not reason.strip():
        raise PrintError(f"{len(before)} 个包裹的{names[kind]}已打印过：补打请填写补打原因 "
                         "(already printed)")
    printed_at = datetime.fromtimestamp(same["created_at"] if same else time.time(), SHOP_TZ)
    subs = {s.sku_order_id: s for _, _, o in loaded.values() for s in o.sub_orders}
    if kind == "picklist":
        items = [(ln["order_id"], subs[ln["sku_order_id"]].merchant_code,
                  subs[ln["sku_order_id"]].product_name, subs[ln["sku_order_id"]].spec,
                  ln["quantity"]) for p in packs for ln in lines[p["id"]]]
        picks = aggregate_pick_lines(items, {k: v.get("bin", "") for k, v in facts.items()})
        name = f"拣货单 {printed_at:%m%d-%H%M}"
        data = (render_picklist_pdf(picks, batch_name=name, printed_at=printed_at)
                if fmt == "pdf" else render_picklist_xlsx(picks, batch_name=name))
    else:
        slips = []
        for p in packs:
            o = loaded[p["main_order_id"]][2]
            rc = o.receiver
            slips.append(Slip(
                order_id=p["main_order_id"], pack_no=p["seq"], pack_count=p["of"],
                receiver_masked=f"{rc.name_mask} {rc.phone_mask}",
                address_masked=" ".join(filter(None, (rc.province, rc.city, rc.district,
                                                      rc.address_mask))),
                buyer_words=o.buyer_words, seller_words=o.seller_words,
                lines=[SlipLine(subs[ln["sku_order_id"]].product_name,
                                subs[ln["sku_order_id"]].spec,
                                subs[ln["sku_order_id"]].merchant_code, ln["quantity"])
                       for ln in lines[p["id"]]],
                printed_at=printed_at, shop_name=shops[p["shop_ref"]].shop_name))
        data = render_slips_pdf(slips)
    fingerprint, file_name = _store_file(out_dir, kind, fmt, data)
    reprint = bool(before) or same is not None
    with uow_factory() as u:
        bid = u.prints.add_batch(
            pack_ids=ids, records_reprint=reprint, kind=record, format=fmt, size="",
            order_by="route", selection_key=key, fingerprint=fingerprint, file_name=file_name,
            printer=printer, reprint_of=(same["id"] if same else min(before.values()))
            if reprint else None, reason=reason.strip(), created_by=actor)
        u.audit.add(actor=actor, action=f"print.{kind}", subject_type="print_batch",
                    subject_id=str(bid), detail={"packs": len(ids), "format": fmt})
    return PrintResult(bid, out_dir / file_name, len(ids), False, reprint)
