"""The 今天 board: what must a person do now. Each count links to the list behind it."""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from typing import Any

from fahuo.domain.clock import shop_time
from fahuo.domain.names import FINDING_KIND, HOLD_REASON, courier_name
from fahuo.domain.orders import PRE_SHIPMENT, OrderState
from fahuo.domain.watch import FindingKind
from fahuo.services.ports import UowFactory
from fahuo.services.settings import low_balances

SOON_S = 6 * 3600  # 即将超时: the first deadline warning's window
AUTH_WARN_S = 3 * 86400  # an authorisation ending within 3 days needs the merchant now
# deadline findings are the 时效 cards themselves; pickup has its own card
_TIMING = {FindingKind.DEADLINE_SOON_6H, FindingKind.DEADLINE_SOON_2H, FindingKind.OVERDUE,
           FindingKind.PICKUP_TIMEOUT}


@dataclass(frozen=True)
class Card:
    key: str
    label: str
    count: int
    href: str
    tone: str = ""  # "" | warn | alert: how loudly the card asks


@dataclass
class Board:
    groups: list[tuple[str, list[Card]]] = field(default_factory=list)
    notes: list[tuple[str, str]] = field(default_factory=list)  # (text, href): shops, balances
    at: str = ""
    total: int = 0  # orders in the store
    states: dict[str, int] = field(default_factory=dict)  # orders per state, for the chart

    def as_dict(self) -> dict[str, Any]:
        return {"at": self.at, "total": self.total, "groups": [{"name": n, "cards": [asdict(c) for c in cs]}
                                          for n, cs in self.groups],
                "notes": [{"text": t, "href": h} for t, h in self.notes]}


def _tone(n: int, loud: str) -> str:
    return loud if n else ""


def today(uow_factory: UowFactory, now: float | None = None) -> Board:
    at = int(time.time() if now is None else now)
    waiting = [s.value for s in PRE_SHIPMENT if s is not OrderState.UNPAID]
    with uow_factory(readonly=True) as u:
        states = u.board.orders_by_state()
        holds = u.board.holds_by_reason()
        packs = u.board.packs_by_state(("waybill_taken", "printed", "scanned"))
        late, soon = u.board.due(waiting, at, SOON_S)
        findings = u.board.open_findings_by_kind()
        cases = u.board.open_after_sales()
        troubles = u.board.shop_troubles(at, AUTH_WARN_S)
        netsites = low_balances(u)
    todo = [Card("review", "待审核", states.get("synced", 0), "/orders?state=synced")]
    todo += [Card(f"hold:{r}", f"挂起·{HOLD_REASON.get(r, r)}", n, f"/holds?reason={r}", "warn")
             for r, n in sorted(holds.items(), key=lambda x: -x[1])]
    todo.append(Card("aftersales", "售后待处理", cases, "/aftersales?status=open",
                     _tone(cases, "warn")))
    printed = packs.get("printed", 0) + packs.get("scanned", 0)
    ship = [Card("to_print", "待打印", packs.get("waybill_taken", 0), "/print"),
            Card("to_scan", "待扫描", packs.get("printed", 0), "/scan"),
            Card("not_confirmed", "已打印未回传", printed, "/orders?printed=yes&confirmed=no")]
    pickup = findings.get(FindingKind.PICKUP_TIMEOUT.value, 0)
    timing = [Card("soon", "即将超时（6 小时内）", soon, "/deadlines?window=6h",
                   _tone(soon, "warn")),
              Card("late", "已超时", late, "/deadlines?window=overdue", _tone(late, "alert")),
              Card("pickup", "揽收超时", pickup, "/exceptions?kind=pickup_timeout",
                   _tone(pickup, "alert"))]
    parcel = [Card(f"finding:{k}", FINDING_KIND.get(k, k), n, f"/exceptions?kind={k}", "warn")
              for k, n in sorted(findings.items())
              if n and k not in {x.value for x in _TIMING}]
    board = Board(groups=[("待处理", todo), ("打印与发货", ship), ("发货时效", timing)],
                  at=shop_time(at), total=sum(states.values()), states=states)
    if parcel:
        board.groups.append(("物流异常", parcel))
    for b in netsites:
        board.notes.append((f"电子面单余额不足：{courier_name(b['courier_code'])} {b['netsite_name'] or ''} 剩 "
                                f"{b['balance']}", f"/shops/{b['shop_ref']}"))
    for t in troubles:
        if t["sync_error"]:
            board.notes.append((f"店铺 {t['shop']} 同步失败：{t['sync_error'][:80]}",
                                f"/shops/{t['shop_ref']}"))
        if t["auth_ends_at"] is not None:
            board.notes.append((f"店铺 {t['shop']} 的授权将于 {shop_time(t['auth_ends_at'])} 到期，"
                                "请重新授权", f"/shops/{t['shop_ref']}"))
    return board
