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
from fahuo.domain import money, names
from fahuo.domain.orders import PLATFORM_STATUS_NAMES

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
# The Chinese names live in domain/names.py, one table per code set; these two names stay
# for the templates and modules that import them.
HOLD_LABELS = names.HOLD_REASON
STATE_LABELS = names.ORDER_STATE
TRACK_STATE_LABELS = names.TRACK_STATE


def _fmt_time(ts: int | None) -> str:
    return shop_time(ts)


def _countdown(ts: int | None) -> str:
    if not ts:
        return "—"
    left = ts - int(time.time())
    sign = "" if left >= 0 else "超时 "
    left = abs(left)
    return f"{sign}{left // 3600}小时{(left % 3600) // 60}分"


templates = Jinja2Templates(directory=str(TEMPLATES))
templates.env.filters.update(t=_fmt_time, fen=money.price, yuan=money.yuan, countdown=_countdown, fromjson=json.loads,
                             courier=names.courier_name)
# `{{ p.state|zh("pack_state") }}`: a code shown by its Chinese name (domain/names.py)
templates.env.filters["zh"] = lambda code, code_set: names.name(names.CODE_SETS[code_set], code)
templates.env.globals.update(STATE_LABELS=STATE_LABELS, PLATFORM_STATUS=PLATFORM_STATUS_NAMES,
                             TRACK_STATES=TRACK_STATE_LABELS, EXC_KINDS=names.FINDING_KIND,
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
