"""Console: 数据分析 — volume, shipping time, returns per product and the flags, with an Excel
export of the same tables; filters (from, to, shop) live in the URL."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from fahuo.adapters.files.report_xlsx import ReportXlsx
from fahuo.entrypoints.web.console.render import error_page, render
from fahuo.entrypoints.web.deps import UowDep
from fahuo.services import read_models, report

router = APIRouter()
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _range(from_: str | None, to: str | None, shop: str | None) -> report.ReportRange:
    return report.report_range(from_ or None, to or None, shop or None)


@router.get("/report")
def report_page(request: Request, uow: UowDep, to: str = "", shop: str = "") -> HTMLResponse:
    from_ = request.query_params.get("from", "")  # `from` is a keyword in Python
    try:
        rng = _range(from_, to, shop)
    except report.ReportRangeError as exc:
        return error_page(request, str(exc), 422)
    v, t = report.volume(uow, rng), report.timing(uow, rng)
    r, f = report.returns(uow, rng), report.flags(uow, rng)
    top = v.skus[:15]
    return render(request, "report.html", {
        "rng": rng, "v": v, "t": t, "r": r, "f": f, "shops": read_models.shops(uow),
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
