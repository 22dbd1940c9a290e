"""The console's Jinja2 environment: templates, filters and the labels every page uses."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from fahuo.domain.aftersales import goods_come_back
from fahuo.domain.clock import shop_time
from fahuo.domain.holds import HoldReason
from fahuo.domain.orders import PLATFORM_STATUS_NAMES
from fahuo.services.watch import KIND_LABELS

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
HOLD_LABELS = {r.value: r.label for r in HoldReason}

STATE_LABELS = {
    "unpaid": "待支付", "synced": "待审核", "held": "已挂起", "approved": "已审核",
    "waybill_taken": "已取号", "printed": "已打印", "partly_shipped": "部分发货",
    "shipped": "已发货", "in_transit": "运输中", "delivered": "已签收", "cancelled": "已取消",
    "refunded": "已退款", "intercepted": "已拦截", "returned": "已退回",
}
TRACK_STATE_LABELS = {
    "info_received": "待揽收", "picked_up": "已揽收", "in_transit": "运输中",
    "out_for_delivery": "派送中", "delivered": "已签收", "failed_attempt": "派送失败",
    "exception": "疑难件", "rejected": "拒收", "returning": "退回中", "returned": "已退回",
    "lost": "丢失",
}


def _fmt_time(ts: int | None) -> str:
    return shop_time(ts)


def _fen(v: int | None) -> str:
    return f"¥{(v or 0) / 100:.2f}"


def _countdown(ts: int | None) -> str:
    if not ts:
        return "—"
    left = ts - int(time.time())
    sign = "" if left >= 0 else "超时 "
    left = abs(left)
    return f"{sign}{left // 3600}小时{(left % 3600) // 60}分"


templates = Jinja2Templates(directory=str(TEMPLATES))
templates.env.filters.update(t=_fmt_time, fen=_fen, countdown=_countdown, fromjson=json.loads)
templates.env.globals.update(STATE_LABELS=STATE_LABELS, PLATFORM_STATUS=PLATFORM_STATUS_NAMES,
                             TRACK_STATES=TRACK_STATE_LABELS, EXC_KINDS=KIND_LABELS,
                             # the after-sale page offers a receipt only where goods come back
                             goods_come_back=goods_come_back)


def render(request: Request, name: str, context: dict[str, Any], status_code: int = 200,
         headers: dict[str, str] | None = None) -> HTMLResponse:
    return templates.TemplateResponse(request, name, context, status_code=status_code,
                                      headers=headers)


def error_page(request: Request, message: str, status_code: int) -> HTMLResponse:
    return render(request, "error.html", {"message": message}, status_code)


def htmx(request: Request) -> bool:
    """An htmx request: answer with the fragment, not the whole page."""
    return bool(request.headers.get("hx-request"))
