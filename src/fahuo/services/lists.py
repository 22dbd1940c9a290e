"""The console's lists (issue 14): each a total, one page, and its own filters, checked here.

A filter value is one of the list's codes (its Chinese names beside it) or empty for all; any
other value is refused with ``ListFilterError``, a Chinese sentence naming the filter and the
choices, before anything is read. The queries live in ``adapters/store/list_queries.py``
(``uow.lists``); the API, the console and the CLI all read through these functions, so the
same filter gives the same total everywhere.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson

from fahuo.domain import names
from fahuo.domain.aftersales import TYPE_NAMES
from fahuo.services.aftersales import _received
from fahuo.services.ports import Carriers, UowFactory
from fahuo.services.read_models import NOT_HANDED_OVER, public_account, public_channel

PER_PAGE = 50
PER_CHOICES = (20, 50, 100, 200)
MAX_OFFSET = 10_000_000

EXCEPTION_STATUS: Mapping[str, str] = {"open": "未处理", "closed": "已关闭", "all": "全部"}
AFTERSALE_STATUS: Mapping[str, str] = {"open": "处理中", "intercept": "拦截", "closed": "已完结",
                                       "all": "全部"}
AFTERSALE_TYPE: Mapping[str, str] = {str(k): v for k, v in TYPE_NAMES.items()}
AFTERSALE_STAGE: Mapping[str, str] = {"before_ship": "未发货", "after_ship": "已发货"}
STOCK_LEVEL: Mapping[str, str] = {"low": "低于安全库存", "out": "缺货"}
USER_ROLE, USER_STATE = names.USER_ROLE, names.USER_STATE
# 发货时效: which deadlines (6h / 24h: not overdue yet)
DEADLINE_WINDOW: Mapping[str, str] = {"overdue": "已超时", "6h": "6 小时内到期",
                                      "24h": "24 小时内到期", "later": "24 小时以后到期",
                                      "all": "全部未发货"}
UNSHIPPED = NOT_HANDED_OVER  # paid, not with the courier yet


class ListFilterError(ValueError):
    """A filter or page value the list does not have, said in Chinese."""


@dataclass(frozen=True, slots=True)
class Page:
    """One page of a list: its rows, the filter's total, and where the rows start."""
    total: int
    rows: list[dict[str, Any]]
    offset: int = 0
    per: int = PER_PAGE
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def page(self) -> int:
        return self.offset // self.per + 1

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per))

    @property
    def first(self) -> int:
        """The 1-based number of the page's first row (0 when the page is empty)."""
        return self.offset + 1 if self.rows else 0

    @property
    def last(self) -> int:
        return self.offset + len(self.rows)

    def as_api(self) -> dict[str, Any]:
        return {"total": self.total, "offset": self.offset, "limit": self.per,
                "items": self.rows}


@dataclass(frozen=True, slots=True)
class Paging:
    """Which rows: a console page (``of_page``) or an API window (``limit``, ``offset``)."""
    limit: int = PER_PAGE
    offset: int = 0

    @classmethod
    def of_page(cls, page: int, per: int = PER_PAGE) -> "Paging":
        if per not in PER_CHOICES:
            raise ListFilterError(f"每页条数 {per} 无效：可选 "
                                  + "、".join(str(p) for p in PER_CHOICES))
        if not 1 <= page <= MAX_OFFSET // per:
            raise ListFilterError(f"页码 {page} 无效：应为 1 到 {MAX_OFFSET // per} 的整数")
        return cls(limit=per, offset=(page - 1) * per)

    def page(self, total: int, rows: list[dict[str, Any]], **extra: Any) -> Page:
        return Page(total=total, rows=rows, offset=self.offset, per=self.limit, extra=extra)


def choice(value: str | None, options: Mapping[str, str], label: str) -> str | None:
    """``value`` if it is one of ``options`` (None when empty), else a Chinese refusal."""
    if value is None or value == "":
        return None
    if value in options:
        return value
    shown = value if len(value) <= 40 else value[:40] + "…"
    raise ListFilterError(f"{label}“{shown}”不是可选的值；可选：" + "、".join(
        f"{n} ({c})" for c, n in options.items()))


# ---- 物流异常 ----------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class FindingFilter:
    status: str = "open"
    kind: str | None = None
    assignee: str | None = None
    shop_ref: int | None = None

    @classmethod
    def parse(cls, *, status: str | None = "open", kind: str | None = None,
              assignee: str | None = None, shop_ref: int | None = None) -> "FindingFilter":
        return cls(status=choice(status, EXCEPTION_STATUS, "状态") or "open",
                   kind=choice(kind, names.FINDING_KIND, "异常类型"),
                   assignee=(assignee or "").strip() or None, shop_ref=shop_ref)

    def query(self) -> dict[str, Any]:
        """The filter as the list's URL keeps it (empty values left out)."""
        return {k: v for k, v in (("kind", self.kind), ("status", self.status),
                                  ("assignee", self.assignee)) if v}


def exceptions(uow: UowFactory, flt: FindingFilter, paging: Paging) -> Page:
    """Findings as filtered (``extra["counts"]``: open ones per kind, for the cards)."""
    with uow(readonly=True) as u:
        total, rows = u.lists.findings(status=flt.status, kind=flt.kind,
                                       assignee=flt.assignee, shop_ref=flt.shop_ref,
                                       limit=paging.limit, offset=paging.offset)
        counts = u.tracking.count_open_by_kind()
    return paging.page(total, rows, counts=counts)


def matching_open_findings(uow: UowFactory, flt: FindingFilter) -> list[int]:
    """Every open finding the filter matches, on every page: what "all N" acts on."""
    with uow(readonly=True) as u:
        return u.lists.open_finding_ids(status=flt.status, kind=flt.kind,
                                        assignee=flt.assignee, shop_ref=flt.shop_ref)


# ---- 物流跟踪 ----------------------------------------------------------------------------

def trackers(uow: UowFactory, *, state: str | None, courier: str | None, paging: Paging,
             shop_ref: int | None = None, order_id: str | None = None) -> Page:
    st = choice(state, names.TRACK_STATE, "物流状态")
    co = choice(courier, names.COURIER, "快递公司")
    with uow(readonly=True) as u:
        total, rows = u.lists.trackers(state=st, courier=co, shop_ref=shop_ref,
                                       order_id=order_id, limit=paging.limit,
                                       offset=paging.offset)
    return paging.page(total, rows)


def tracking_page(uow: UowFactory, carriers: Carriers, *, state: str | None,
                  courier: str | None, paging: Paging) -> dict[str, Any]:
    """The tracking page: one page of parcels, accounts, channels, alerts, pushes."""
    parcels = trackers(uow, state=state, courier=courier, paging=paging)
    with uow(readonly=True) as u:
        return {"p": parcels,
                "accounts": [public_account(a, carriers) for a in u.tracking.accounts()],
                "channels": [public_channel(ch) for ch in u.tracking.channels()],
                "history": u.tracking.alert_history(20), "pushes": u.tracking.push_counts()}


# ---- 售后 --------------------------------------------------------------------------------

def aftersales(uow: UowFactory, *, status: str | None, aftersale_type: str | None,
               stage: str | None, paging: Paging) -> Page:
    st = choice(status, AFTERSALE_STATUS, "售后状态") or "open"
    ty = choice(aftersale_type, AFTERSALE_TYPE, "售后类型")
    sg = choice(stage, AFTERSALE_STAGE, "阶段")
    with uow(readonly=True) as u:
        bundles = u.stock.bundles()
        total, rows = u.lists.cases(status=st, aftersale_type=None if ty is None else int(ty),
                                    stage=sg, limit=paging.limit, offset=paging.offset)
    return paging.page(total, [r | {"sku_order_ids": orjson.loads(r["sku_order_ids"]),
                                    **_received(r["received_lines"], bundles)} for r in rows])


# ---- 库存 --------------------------------------------------------------------------------

def stock(uow: UowFactory, *, search: str | None, level: str | None, paging: Paging) -> Page:
    text = (search or "").strip()
    if len(text) > 64:
        raise ListFilterError("查找的商家编码或名称太长（最多 64 个字）")
    lv = choice(level, STOCK_LEVEL, "库存筛选")
    with uow(readonly=True) as u:
        total, rows = u.lists.stock(search=text or None, level=lv, limit=paging.limit,
                                    offset=paging.offset)
    return paging.page(total, rows)


# ---- 推送消息 ----------------------------------------------------------------------------

def inbox(uow: UowFactory, *, status: str | None, paging: Paging) -> Page:
    st = choice(status, names.INBOX_STATUS, "消息状态")
    with uow(readonly=True) as u:
        total, rows = u.lists.inbox(status=st, limit=paging.limit, offset=paging.offset)
        counts = u.inbox.counts()
    return paging.page(total, rows, counts=counts)


# ---- 发货任务 ----------------------------------------------------------------------------

def jobs(uow: UowFactory, *, kind: str | None, status: str | None, paging: Paging) -> Page:
    k = choice(kind, names.JOB_KIND, "任务类型")
    st = choice(status, names.JOB_STATUS, "任务状态")
    with uow(readonly=True) as u:
        total, rows = u.lists.jobs(kind=k, status=st, limit=paging.limit,
                                   offset=paging.offset)
    return paging.page(total, rows)


def job(uow: UowFactory, job_id: int, *, status: str | None, paging: Paging
        ) -> tuple[dict[str, Any], Page] | None:
    """A job and one page of its rows (by the row's result), or None when there is none."""
    st = choice(status, names.JOB_ITEM_STATUS, "结果")
    with uow(readonly=True) as u:
        head = u.lists.job_head(job_id)
        if head is None:
            return None
        total, rows = u.lists.job_items(job_id, status=st, limit=paging.limit,
                                        offset=paging.offset)
        counts = u.lists.job_item_counts(job_id)
    return head, paging.page(total, rows, counts=counts)


# ---- 用户 --------------------------------------------------------------------------------

def users(uow: UowFactory, *, role: str | None, state: str | None, paging: Paging) -> Page:
    r = choice(role, USER_ROLE, "角色")
    st = choice(state, USER_STATE, "状态")
    with uow(readonly=True) as u:
        total, rows = u.lists.users(role=r, disabled=None if st is None else st == "disabled",
                                    limit=paging.limit, offset=paging.offset)
    return paging.page(total, rows)


# ---- 发货时效 ----------------------------------------------------------------------------

def deadlines(uow: UowFactory, *, window: str | None, within_h: int | None, paging: Paging,
              shop_ref: int | None = None, now: int | None = None) -> Page:
    """Unshipped paid orders by ship deadline, earliest (overdue) first. ``window`` picks
    overdue / due within 6 h / within 24 h / later / all; ``within_h`` (when no window is
    given): everything due by then, overdue included; neither: every unshipped order."""
    now = int(time.time()) if now is None else now
    w = choice(window, DEADLINE_WINDOW, "时间窗")
    if within_h is not None and not 1 <= within_h <= 24 * 30:
        raise ListFilterError(f"小时数 {within_h} 无效：应为 1 到 720")
    after, until = {"overdue": (None, now), "6h": (now, now + 6 * 3600),
                    "24h": (now, now + 24 * 3600), "later": (now + 24 * 3600, None),
                    "all": (None, None),
                    None: (None, None if within_h is None else now + within_h * 3600)}[w]
    with uow(readonly=True) as u:
        total, rows = u.lists.due(UNSHIPPED, after=after, until=until, shop_ref=shop_ref,
                                  limit=paging.limit, offset=paging.offset)
    for r in rows:
        r["seconds_left"] = r["exp_ship_time"] - now
    return paging.page(total, rows, now=now)


__all__ = ["AFTERSALE_STAGE", "AFTERSALE_STATUS", "AFTERSALE_TYPE", "DEADLINE_WINDOW",
           "EXCEPTION_STATUS", "PER_CHOICES", "PER_PAGE", "STOCK_LEVEL", "USER_ROLE",
           "USER_STATE", "FindingFilter", "ListFilterError", "Page", "Paging", "aftersales",
           "choice", "deadlines", "exceptions", "inbox", "job", "jobs",
           "matching_open_findings", "stock", "tracking_page", "trackers", "users"]
