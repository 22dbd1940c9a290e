"""Console: after-sale cases, interception and returns received."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from fahuo.entrypoints.web.console.paging import kept, refused
from fahuo.entrypoints.web.console.render import render
from fahuo.entrypoints.web.deps import Actor, FahuoDep, UowDep
from fahuo.bootstrap import intercept
from fahuo.services import lists
from fahuo.services.aftersales import AfterSaleError, receive_return
from fahuo.services.lists import (
    AFTERSALE_STAGE, AFTERSALE_STATUS, AFTERSALE_TYPE, PER_PAGE, ListFilterError, Paging,
)

router = APIRouter()


@router.get("/aftersales")
def aftersales_page(request: Request, uow: UowDep, status: str = "open", type: str = "",
                    stage: str = "", page: int = 1, per: int = PER_PAGE, msg: str = ""
                    ) -> HTMLResponse:
    try:
        found = lists.aftersales(uow, status=status, aftersale_type=type, stage=stage,
                                 paging=Paging.of_page(page, per))
    except ListFilterError as exc:
        return refused(request, exc)
    return render(request, "aftersales.html", {
        "p": found, "status": status or "open", "type": type, "stage": stage, "msg": msg,
        "params": kept(per, status=status, type=type, stage=stage),
        "STATUSES": AFTERSALE_STATUS, "TYPES": AFTERSALE_TYPE, "STAGES": AFTERSALE_STAGE})


@router.post("/aftersales/{aftersale_id}")
async def aftersales_post(request: Request, fh: FahuoDep, actor: Actor,
                          aftersale_id: str) -> Response:
    form = await request.form()
    try:
        if form.get("action") == "intercept":
            r = intercept(fh.uow, fh.platform_for, aftersale_id, actor=actor,
                          via=str(form.get("via") or "auto"), http=fh.http)
            msg = r["detail"]
        else:
            code = str(form.get("sku_code", "")).strip()
            good, bad = str(form.get("good", "0")), str(form.get("damaged", "0"))
            if not (good.isdigit() and bad.isdigit()):
                raise AfterSaleError("数量必须是整数")
            receive_return(fh.uow, aftersale_id, good={code: int(good)},
                           damaged={code: int(bad)}, actor=actor)
            msg = "退货已入库"
    except AfterSaleError as exc:
        msg = f"失败：{exc}"
    return RedirectResponse("/aftersales?msg=" + quote(msg), 303)
