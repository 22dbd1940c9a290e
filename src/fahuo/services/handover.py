"""交接单: what waits for each courier's pickup, the lists made of it, who handed them over.

One unit of work per use case. ``waiting`` groups a shop's ready parcels per courier and
branch (the rule is ``domain.handover``); ``create`` lists them (all of one courier, one list
per branch) and refuses the list whole if another list took one of its parcels meanwhile;
``done`` marks a list handed over (who, when) through the ``HANDOVER`` table; ``export``
renders a list through the documents port. Every text a merchant reads is Chinese and in
shop time.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from fahuo.domain import names
from fahuo.domain.clock import shop_time
from fahuo.domain.couriers import courier_code
from fahuo.domain.handover import (
    HANDOVER, LOOKBACK_S, Candidate, HandoverState, Sheet, SheetLine, waiting,
)
from fahuo.domain.lifecycle import IllegalTransition, StaleState
from fahuo.services.ports import HandoverDocuments, UowFactory

if TYPE_CHECKING:
    from fahuo.adapters.store.unit_of_work import UnitOfWork
    from fahuo.domain.handover import GroupKey

MEDIA = {"pdf": "application/pdf",
         "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
NO_NETSITE = "默认网点"


class HandoverError(ValueError):
    """A request the hand-over refuses, in Chinese; ``field`` names what is wrong. Nothing
    was written."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class HandoverNotFound(HandoverError):
    """No list with that number."""


@dataclass(frozen=True)
class WaitingGroup:
    courier_code: str
    courier: str  # 中通快递 (zhongtong)
    netsite_code: str
    netsite: str
    track_nos: tuple[str, ...]

    @property
    def count(self) -> int:
        return len(self.track_nos)


@dataclass(frozen=True)
class Export:
    file_name: str
    data: bytes
    media_type: str


def _netsite(labels: dict[tuple[str, str], str], courier: str, code: str) -> str:
    return labels.get((courier, code)) or code or NO_NETSITE


class Handover:
    def __init__(self, uow: UowFactory, *, documents: HandoverDocuments,
                 clock: Callable[[], float] = time.time) -> None:
        self.uow, self.documents, self.clock = uow, documents, clock

    # -- what waits ------------------------------------------------------------------------
    def waiting(self, shop_ref: int) -> list[WaitingGroup]:
        now = int(self.clock())
        with self.uow(readonly=True) as u:
            self._shop(u, shop_ref)
            groups, labels = self._groups(u, shop_ref, now)
        return [WaitingGroup(c, names.courier_name(c), n, _netsite(labels, c, n),
                             tuple(x.track_no for x in items))
                for (c, n), items in groups.items()]

    @staticmethod
    def _groups(u: UnitOfWork, shop_ref: int, now: int
                ) -> tuple[dict[GroupKey, list[Candidate]], dict[tuple[str, str], str]]:
        rows = u.handover.candidates(shop_ref, now - LOOKBACK_S)
        cands = [Candidate(pack_id=r["id"], courier_code=r["courier_code"] or "",
                           netsite_code=r["netsite_code"] or "", track_no=r["track_no"] or "",
                           state=r["state"], ready_at=int(r["updated_at"]),
                           order_id=r["main_order_id"], tracker_state=r["tracker_state"],
                           picked_up=r["picked_up_at"] is not None,
                           unpacked=r["unpacked_at"] is not None) for r in rows]
        return waiting(cands, now), u.handover.netsite_names(shop_ref)

    # -- lists -----------------------------------------------------------------------------
    def create(self, shop_ref: int, courier: str, *, netsite: str | None = None,
               actor: str) -> list[dict[str, Any]]:
        """The courier's waiting parcels listed: one list per branch (only ``netsite``'s
        when given). Refused whole when nothing waits or another list took a parcel."""
        code = courier_code(courier or "")
        if code is None:
            raise HandoverError(f"快递公司 “{courier}” 不认识（如 中通、zhongtong）", "courier")
        now = int(self.clock())
        made: list[int] = []
        with self.uow() as u:
            self._shop(u, shop_ref)
            groups, labels = self._groups(u, shop_ref, now)
            mine = {n: items for (c, n), items in groups.items() if c == code
                    and (netsite is None or n == netsite.strip())}
            if not mine:
                where = f" 网点 {netsite}" if netsite else ""
                raise HandoverError(f"{names.courier_name(code)}{where} 没有待交接的包裹",
                                    "netsite" if netsite and any(
                                        c == code for c, _ in groups) else "courier")
            for n, items in mine.items():
                list_id, got = u.handover.add_list(
                    shop_ref=shop_ref, courier_code=code, netsite_code=n, actor=actor,
                    now=now, items=[(x.pack_id, x.track_no, x.order_id) for x in items])
                if got != len(items):  # the unit of work rolls back: no list half made
                    raise HandoverError("有包裹刚被另一张交接单列入，请刷新后重试", "courier")
                u.audit.add(actor=actor, action="handover.create", subject_type="handover",
                            subject_id=str(list_id), detail={
                                "courier": code, "netsite": n, "packs": len(items)})
                made.append(list_id)
        return [self.get(i) for i in made]

    def done(self, list_id: int, *, actor: str) -> dict[str, Any]:
        """Marked handed over to the courier now, by ``actor``; once only."""
        now = int(self.clock())
        try:
            with self.uow() as u:
                row = self._list(u, list_id, lock=True)
                if row["state"] == HandoverState.HANDED_OVER:
                    raise HandoverError(
                        f"交接单 #{list_id} 已于 {shop_time(row['handed_over_at'])} 由 "
                        f"{row['handed_over_by']} 标记交接", "id")
                u.handover.move({list_id: (row["state"], HandoverState.HANDED_OVER.value)},
                                handed_over_at=now, handed_over_by=actor)
                u.audit.add(actor=actor, action="handover.done", subject_type="handover",
                            subject_id=str(list_id), detail={"packs": row["packs"]})
        except (IllegalTransition, StaleState) as exc:
            raise HandoverError(f"交接单 #{list_id} 刚被他人改动，请刷新后重试", "id") from exc
        return self.get(list_id)

    def lists(self, shop_ref: int | None = None, *, state: str | None = None,
              limit: int = 50, offset: int = 0) -> tuple[int, list[dict[str, Any]]]:
        if state is not None and state not in HANDOVER.states:
            raise HandoverError(f"状态应为 open（待交接）或 handed_over（已交接），收到 “{state}”",
                                "state")
        with self.uow(readonly=True) as u:
            total, rows = u.handover.lists(shop_ref=shop_ref, state=state, limit=limit,
                                           offset=offset)
            shops = {s.id: s.shop_name for s in u.shops.list()}
            labels = {ref: u.handover.netsite_names(ref) for ref in {r["shop_ref"] for r in rows}}
        return total, [self._view(r, shops, labels[r["shop_ref"]]) for r in rows]

    def get(self, list_id: int) -> dict[str, Any]:
        """A list with its parcels (line, number, order, tracking state)."""
        with self.uow(readonly=True) as u:
            row = self._list(u, list_id)
            items = u.handover.items(list_id)
            shop = u.shops.get(row["shop_ref"])
            labels = u.handover.netsite_names(row["shop_ref"])
        view = self._view(row, {row["shop_ref"]: shop.shop_name if shop else ""}, labels)
        view["items"] = [{**it, "tracker_state_name": names.name(
            names.TRACK_STATE, it["tracker_state"]) or "未跟踪"} for it in items]
        return view

    def export(self, list_id: int, fmt: str, *, actor: str) -> Export:
        if fmt not in MEDIA:
            raise HandoverError(f"格式应为 pdf 或 xlsx，收到 “{fmt}”", "format")
        v = self.get(list_id)
        handed = (f"{shop_time(v['handed_over_at'])} {v['handed_over_by']}"
                  if v["handed_over_at"] else "")
        sheet = Sheet(list_id=v["id"], shop_name=v["shop_name"], courier=v["courier"],
                      netsite=v["netsite"], state=v["state_name"],
                      created=f"{shop_time(v['created_at'])} {v['created_by']}",
                      handed_over=handed,
                      lines=tuple(SheetLine(it["seq"], it["track_no"], it["order_id"])
                                  for it in v["items"]))
        data = self.documents.render(sheet, fmt)
        with self.uow() as u:
            u.audit.add(actor=actor, action="handover.print", subject_type="handover",
                        subject_id=str(list_id), detail={"format": fmt})
        return Export(f"handover-{list_id}-{v['courier_code']}.{fmt}", data, MEDIA[fmt])

    # -- helpers ---------------------------------------------------------------------------
    @staticmethod
    def _shop(u: UnitOfWork, shop_ref: int) -> None:
        if u.shops.get(shop_ref) is None:
            raise HandoverError(f"店铺 #{shop_ref} 不存在", "shop_ref")

    @staticmethod
    def _list(u: UnitOfWork, list_id: int, *, lock: bool = False) -> dict[str, Any]:
        row = u.handover.get(list_id, lock=lock)
        if row is None:
            raise HandoverNotFound(f"没有交接单 #{list_id}", "id")
        return row

    @staticmethod
    def _view(row: dict[str, Any], shops: dict[int, str],
              labels: dict[tuple[str, str], str]) -> dict[str, Any]:
        return {**row, "shop_name": shops.get(row["shop_ref"]) or f"店铺 #{row['shop_ref']}",
                "courier": names.courier_name(row["courier_code"]),
                "netsite": _netsite(labels, row["courier_code"], row["netsite_code"]),
                "state_name": names.name(names.HANDOVER_STATE, row["state"])}


__all__ = ["MEDIA", "Export", "Handover", "HandoverError", "HandoverNotFound", "WaitingGroup"]
