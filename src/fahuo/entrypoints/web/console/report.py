"""Console: 数据分析 — volume, shipping time, returns per product and the flags, with an Excel
export of the same tables; filters (from, to, shop) live in the URL."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from fahuo.adapters.files.report_xlsx import ReportXlsx
from fahuo.entrypoints.web.console.render import error_page, render
from fahuo.entrypoints.web.deps import Actor, UowDep
from fahuo.services import read_models, report

router = APIRouter()
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _range(from_: str | None, to: str | None, shop: str | None) -> report.ReportRange:
    return report.report_range(from_ or None, to or None, shop or None)


HEAT = 5  # heat table shades: heat-0 (fastest) … heat-4 (slowest) of the range's medians


def _heat(d: report.Delivery) -> dict[tuple[str, str], str]:
    """A shade per courier × province cell by its median hours among all cells."""
    medians = sorted({c.median_h for c in d.cells if c.median_h is not None})
    if not medians:
        return {}
    lo, hi = medians[0], medians[-1]
    return {(c.courier, c.province or ""): (
        "heat-0" if hi == lo else f"heat-{min(HEAT - 1, (c.median_h - lo) * HEAT // (hi - lo))}")
        for c in d.cells if c.median_h is not None}


@router.get("/report")
def report_page(request: Request, uow: UowDep, to: str = "", shop: str = "") -> HTMLResponse:
    from_ = request.query_params.get("from", "")  # `from` is a keyword in Python
    try:
        rng = _range(from_, to, shop)
    except report.ReportRangeError as exc:
        return error_page(request, str(exc), 422)
    v, t = report.volume(uow, rng), report.timing(uow, rng)
    r, f = report.returns(uow, rng), report.flags(uow, rng)
    d, e = report.delivery(uow, rng), report.exceptions(uow, rng)
    top = v.skus[:15]
    return render(request, "report.html", {
        "rng": rng, "v": v, "t": t, "r": r, "f": f, "shops": read_models.shops(uow),
        "d": d, "e": e, "advice": report.courier_advice(uow, rng, d), "grid": d.grid(),
        "heat": _heat(d), "msg": request.query_params.get("msg", ""),
        "delivery_chart": {"labels": [c.label for c in d.couriers], "series": [
            {"name": "签收中位数(小时)", "values": [c.median_h for c in d.couriers]},
            {"name": "签收P90(小时)", "values": [c.p90_h for c in d.couriers]}]},
        "problem_chart": {"labels": [c.label for c in d.couriers], "series": [
            {"name": "派送失败率%", "values": [_pc(c.failed_rate) for c in d.couriers]},
            {"name": "拒收率%", "values": [_pc(c.refused_rate) for c in d.couriers]},
            {"name": "退回率%", "values": [_pc(c.returned_rate) for c in d.couriers]}]},
        "exception_chart": {"labels": [k.label for k in e.kinds], "series": [
            {"name": "异常数", "values": [k.found for k in e.kinds]},
            {"name": "未关闭", "values": [k.open for k in e.kinds]}]},
        "day_chart": {"labels": [c.label for c in v.days], "series": [
            {"name": "订单数", "values": [c.orders for c in v.days]},
            {"name": "包裹数", "values": [c.parcels for c in v.days]},
            {"name": "件数", "values": [c.units for c in v.days]}]},
        "sku_chart": {"labels": [c.key or c.label for c in top],
                      "series": [{"name": "件数", "values": [c.units for c in top]}]},
        "courier_chart": {"labels": [c.label for c in v.couriers],
                          "series": [{"name": "包裹数", "values": [c.parcels for c in v.couriers]}]},
    })


@router.get("/report/orders")
def report_orders(request: Request, uow: UowDep, code: str = "", to: str = "",
                  shop: str = "") -> HTMLResponse:
    """The after-sales behind a product's flag, each linking to its order."""
    try:
        rng = _range(request.query_params.get("from", ""), to, shop)
    except report.ReportRangeError as exc:
        return error_page(request, str(exc), 422)
    rows = report.flag_orders(uow, rng, code)
    return render(request, "report_orders.html", {"rng": rng, "code": code, "rows": rows})


@router.get("/report/export.xlsx")
def report_export(request: Request, uow: UowDep, to: str = "", shop: str = "") -> Response:
    try:
        rng = _range(request.query_params.get("from", ""), to, shop)
    except report.ReportRangeError as exc:
        return error_page(request, str(exc), 422)
    data = report.workbook(uow, rng, ReportXlsx())
    name = f"fahuo-report-{rng.first.isoformat()}-{rng.end.isoformat()}.xlsx"
    return Response(data, media_type=XLSX,
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


def _pc(x: float | None) -> float | None:
    return None if x is None else round(x * 100, 1)


@router.get("/report/couriers/orders")
def report_courier_orders(request: Request, uow: UowDep, courier: str = "", province: str = "",
                          to: str = "", shop: str = "") -> HTMLResponse:
    """The parcels behind a courier flag (problems first, then the slowest), each linking to
    its order."""
    try:
        rng = _range(request.query_params.get("from", ""), to, shop)
    except report.ReportRangeError as exc:
        return error_page(request, str(exc), 422)
    rows = report.courier_orders(uow, rng, courier, province)
    return render(request, "report_courier_orders.html", {
        "rng": rng, "courier": courier, "province": province, "rows": rows})


@router.post("/report/couriers/apply")
async def report_apply_rule(request: Request, uow: UowDep, actor: Actor) -> Response:
    """One click: the flag's suggested courier rule becomes the shop's first rule."""
    form = await request.form()
    try:
        rng = _range(str(form.get("from", "")), str(form.get("to", "")),
                     str(form.get("shop", "")))
    except report.ReportRangeError as exc:
        return error_page(request, str(exc), 422)
    try:
        out = report.apply_courier_rule(uow, rng, str(form.get("province", "")),
                                        str(form.get("courier", "")),
                                        str(form.get("suggest", "")), actor)
        msg = f"已添加快递策略：{out['text']}（排在第1条，新订单按它选快递）"
    except report.CourierRuleRefused as exc:
        msg = f"没有添加：{exc}"
    return RedirectResponse(f"/report?{rng.query}&msg={quote(msg)}#courier-flags", 303)
