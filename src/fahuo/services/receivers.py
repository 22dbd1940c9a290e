"""The full receiver for a label fahuo draws itself (doc §7.5, §14): the print component
decrypts platform e-waybills on the packer's desk, but a self-drawn label has to carry the
address the courier needs, so fahuo asks ``order.batchDecrypt`` for it, audited.

Nothing decrypted is stored: the plain text goes onto the label file and nowhere else."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from fahuo.adapters.platforms.doudian.errors import DoudianError
from fahuo.services.ports import PlatformFactory, UowFactory


@dataclass(frozen=True)
class PlainReceiver:
    name: str  # "" where the platform would not say: the label keeps the mask
    phone: str
    detail: str  # the street address after the region, never empty


def full_receivers(uow_factory: UowFactory, platform_for: PlatformFactory,
                   orders: Mapping[int, Sequence[str]], *, actor: str, why: str,
                   contact: bool = True) -> tuple[dict[str, PlainReceiver], dict[str, str]]:
    """For each shop's orders: (order id → full receiver, order id → why there is none).
    An order without its address is refused with the platform's reason, never drawn with
    a masked one. ``contact=False`` asks only for the address (name and phone stay "": the
    label keeps their masks), so nothing is decrypted that will not be printed."""
    wanted = sorted({oid for ids in orders.values() for oid in ids})
    if not wanted:
        return {}, {}
    with uow_factory(readonly=True) as u:
        ciphers = u.orders.receivers(wanted)
        shops = {ref: u.shops.require(ref) for ref in orders}
    got: dict[str, PlainReceiver] = {}
    refused: dict[str, str] = {}
    for ref, ids in sorted(orders.items()):
        asked = [(oid, c) for oid in ids
                 for c in (ciphers.get(oid) or ("", "", ""))[0 if contact else 2:] if c]
        try:
            answers = platform_for(shops[ref]).decrypt(asked) if asked else {}
        except DoudianError as exc:
            refused.update({oid: f"平台解密失败：{exc}" for oid in ids})
            continue
        for oid in ids:
            name, phone, detail = ciphers.get(oid) or ("", "", "")
            address = answers.get((oid, detail)) if detail else None
            if address is None:
                refused[oid] = "订单没有收件地址密文，取不到完整地址"
            elif not address.ok:
                refused[oid] = f"平台未解密收件地址：{address.err_msg or '无原因'}（{address.err_no}）"
            else:
                def plain(cipher: str) -> str:
                    a = answers.get((oid, cipher)) if cipher else None
                    return a.text if a is not None and a.ok else ""
                got[oid] = PlainReceiver(plain(name), plain(phone), address.text)
    with uow_factory() as u:
        for ref, ids in sorted(orders.items()):
            u.audit.add(actor=actor, action="receiver.decrypt", subject_type="shop",
                        subject_id=str(ref), detail={
                            "why": why, "orders": sorted(ids), "contact": contact,
                            "decrypted": sum(oid in got for oid in ids),
                            "refused": sum(oid in refused for oid in ids)})
    return got, refused
