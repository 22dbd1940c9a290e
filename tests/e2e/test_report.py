"""数据分析 over the sandbox: orders shipped by the pipeline, buyers returning some lines with
a stated reason; the console page, the API and the CLI show the figures this test counts
itself from what fahuo shipped and what it asked the sandbox for."""

from __future__ import annotations

import time
from collections import Counter

from e2e.test_console_browser import browser  # noqa: F401 - a fixture

from fastapi.testclient import TestClient
from typer.testing import CliRunner

from fahuo.bootstrap import set_app, sync_after_sales
from fahuo.entrypoints.cli import cli
from fahuo.entrypoints.web.app import create_app
from fahuo.services.aftersales import LAG_S
from support import orders_in_fahuo, serve_in_thread



def _shipped(fahuo, sandbox, n: int, seed: int):
    """What fahuo shipped: (shop, parcels, units per merchant code, lines per code)."""
    ref, _ = orders_in_fahuo(fahuo, sandbox, n, seed=seed)
    with fahuo.uow() as uow:
        packs = uow.pipeline.packs_in_state(["confirmed"], limit=100)
        lines = uow.pipeline.lines([p["id"] for p in packs])
        orders = uow.pipeline.load_orders(sorted({p["main_order_id"] for p in packs}))
    units = Counter[str]()
    sku_line = {}
    for ls in lines.values():
        for ln in ls:
            sub = next(s for o in orders.values() for s in o[2].sub_orders
                       if s.sku_order_id == ln["sku_order_id"])
            units[sub.merchant_code] += ln["quantity"]
            sku_line.setdefault(sub.merchant_code, []).append((ln["order_id"], sub))
    assert packs and sum(units.values()) > 0
    return ref, packs, units, sku_line


def _return(fahuo, sandbox, ref, lines, reason_code: int = 2) -> None:
    for oid, sub in lines:  # one unit back each; 2 is 商品质量问题 in the sandbox
        r = sandbox.http.post("/sandbox/aftersales", json={
            "order_id": oid, "sku_order_id": sub.sku_order_id, "kind": "return",
            "item_num": 1, "reason_code": reason_code})
        assert r.status_code == 200, r.text
    sync_after_sales(fahuo.uow, fahuo.platform_for, ref, now=int(time.time()) + LAG_S + 5)


def test_report_shows_volume_and_returns_with_reasons(fahuo, sandbox):
    ref, packs, units, sku_line = _shipped(fahuo, sandbox, 12, seed=41)
    code, shipped_lines = max(sku_line.items(), key=lambda kv: len(kv[1]))
    returned = shipped_lines[:2]
    _return(fahuo, sandbox, ref, returned)
    rate = f"{len(returned) / units[code]:.1%}"

    with TestClient(create_app(fahuo, embedded_worker=False)) as client:
        page = client.get("/report")
        api = client.get("/api/report/returns").json()
        vol = client.get("/api/report/volume", params={"shop": ref}).json()
        bad = client.get("/api/report/volume", params={"from": "2026-02-30"})
        xlsx = client.get("/report/export.xlsx")
    assert page.status_code == 200
    html = page.text
    assert f'id="total-parcels">{len(packs)}<' in html
    assert f'id="total-units">{sum(units.values())}<' in html
    n = len(returned)  # one unit back per line asked for
    (row,) = [x for x in api["rows"] if x["code"] == code]
    assert (row["shipped"], row["returned"]) == (units[code], n), row
    assert f"商品质量问题 {n}" in html and rate in html
    assert row["by_reason"] == {"商品质量问题": n} and row["by_type"] == {"退货退款": n}
    assert vol["total"]["parcels"] == len(packs)
    assert bad.status_code == 422 and bad.json()["fields"] == ["from"]
    assert "日期格式" in bad.json()["message"]
    assert xlsx.status_code == 200 and xlsx.content[:2] == b"PK"

    set_app(fahuo)
    try:
        out = CliRunner().invoke(cli, ["report", "returns", "--shop", str(ref)],
                                 env={"COLUMNS": "250"})
        vol_out = CliRunner().invoke(cli, ["report", "volume"], env={"COLUMNS": "250"})
        bad_out = CliRunner().invoke(cli, ["report", "timing", "--to", "明天"])
    finally:
        set_app(None)
    assert out.exit_code == 0, out.output
    (line,) = [ln for ln in out.output.splitlines() if f"({code})" in ln]
    assert f" {units[code]} " in line and f" {n} " in line and rate in line
    assert f"商品质量问题 {n}" in line
    assert vol_out.exit_code == 0 and "每日发货" in vol_out.output
    assert str(sum(units.values())) in vol_out.output
    assert bad_out.exit_code == 2 and "to：日期格式" in bad_out.output




def test_the_report_page_draws_its_charts_in_a_browser(fahuo, sandbox, browser):  # noqa: F811
    ref, packs, units, sku_line = _shipped(fahuo, sandbox, 12, seed=47)
    code, lines = max(sku_line.items(), key=lambda kv: len(kv[1]))
    _return(fahuo, sandbox, ref, lines[:1])
    with serve_in_thread(create_app(fahuo, embedded_worker=False)) as url:
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        blocked: list[str] = []
        page.on("console", lambda m: "Content Security Policy" in m.text and blocked.append(
            m.text))
        page.goto(f"{url}/")
        page.click("nav >> text=数据分析")
        for chart in ("#day-chart", "#sku-chart", "#courier-chart", "#delivery-chart",
                      "#problem-chart", "#exception-chart"):
            page.wait_for_selector(f"{chart}[data-rendered='1'] canvas")
        assert page.locator("#total-parcels").inner_text() == str(len(packs))
        assert code in page.locator("#returns-table").inner_text()
        # the couriers' section: every courier that shipped has its row and heat-table row
        couriers = page.locator("#delivery-table").inner_text()
        assert "中通快递" in couriers or "快递" in couriers
        assert page.locator("#heat-table").is_visible()
        assert page.locator("#exception-kinds").is_visible()
        assert page.locator("#courier-flags").is_visible()
        page.select_option("select[name=shop]", str(ref))
        page.click("form.filters button")
        assert f"shop={ref}" in page.url and "from=" in page.url  # the filters are in the URL
        page.wait_for_selector("#day-chart[data-rendered='1'] canvas")
        page.screenshot(path=str(fahuo.settings.data_dir / "report.png"), full_page=True)
        assert blocked == []
