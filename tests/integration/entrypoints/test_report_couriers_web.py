"""The courier and exception reports on the console, the API (OpenAPI too), the CLI and the
workbook, over the hand-made histories of ``test_report_couriers`` (figures worked out there)."""

from __future__ import annotations

import io

from fastapi.testclient import TestClient
from openpyxl import load_workbook
from typer.testing import CliRunner

from fahuo.bootstrap import set_app
from fahuo.entrypoints.cli import cli
from fahuo.entrypoints.web.app import create_app
from integration.store.test_report_couriers import _history, _problem_history

Q = {"from": "2026-03-01", "to": "2026-03-03"}


def test_couriers_and_exceptions_on_every_surface(fahuo):
    ref = _history(fahuo)
    with TestClient(create_app(fahuo, embedded_worker=False)) as client:
        page = client.get("/report", params={**Q, "shop": ref}).text
        api = client.get("/api/report/couriers", params={**Q, "shop": ref}).json()
        exc = client.get("/api/report/exceptions", params={**Q, "shop": ref}).json()
        bad = client.get("/api/report/couriers", params={"from": "2026-03-01", "to": "昨天"})
        schema = client.get("/openapi.json").json()["paths"]
        xlsx = client.get("/report/export.xlsx", params={**Q, "shop": ref})
        behind = client.get("/report/couriers/orders", params={
            **Q, "shop": ref, "courier": "zhongtong", "province": "浙江省"}).text
    assert 'id="delivery-chart"' in page and 'id="heat-table"' in page
    assert "30 小时" in page and "33.3%" in page  # zhongtong's median; its refusal rate
    assert 'id="exceptions-couriers"' in page and "物流停滞" in page
    zt = api["couriers"][0]
    assert (zt["courier"], zt["parcels"], zt["median_h"], zt["p90_h"]) == ("zhongtong", 6, 30, 50)
    assert api["total"]["median_h"] == 30 and api["flags"] == []
    assert exc["total"]["found"] == 5 and exc["kinds"][0]["key"] == "refused"
    assert bad.status_code == 422 and bad.json()["fields"] == ["to"]
    assert "日期格式" in bad.json()["message"]
    assert {"/api/report/couriers", "/api/report/exceptions",
            "/api/report/courier-rules"} <= set(schema)
    wb = load_workbook(io.BytesIO(xlsx.content), read_only=True)
    assert {"快递时效", "快递×省份", "物流异常（按快递）", "快递预警"} <= set(wb.sheetnames)
    rows = list(wb["快递时效"].iter_rows(values_only=True))
    assert rows[1][:5] == ("中通快递 (zhongtong)", 6, 4, 30, 50)
    assert "TNZ2" in behind and "派送失败" in behind

    set_app(fahuo)
    try:
        out = CliRunner().invoke(cli, ["report", "couriers", "--from", "2026-03-01", "--to",
                                       "2026-03-03", "--shop", str(ref)],
                                 env={"COLUMNS": "250"})
        ex = CliRunner().invoke(cli, ["report", "exceptions", "--from", "2026-03-01", "--to",
                                      "2026-03-03", "--shop", str(ref)], env={"COLUMNS": "250"})
    finally:
        set_app(None)
    assert out.exit_code == 0, out.output
    (line,) = [ln for ln in out.output.splitlines() if "中通快递" in ln and "浙江省" not in ln
               and "广东省" not in ln]
    assert " 6 " in line and " 30 " in line and " 50 " in line and "33.3%" in line
    assert ex.exit_code == 0 and "物流停滞" in ex.output


def test_the_flag_applies_its_rule_in_one_click(fahuo):
    ref = _problem_history(fahuo)
    q = {**Q, "shop": ref}
    with TestClient(create_app(fahuo, embedded_worker=False)) as client:
        page = client.get("/report", params=q).text
        assert "一键应用：广东省走圆通速递" in page and "/report/couriers/orders?courier=zhongtong" in page
        form = {**q, "province": "广东省", "courier": "zhongtong", "suggest": "yuantong"}
        first = client.post("/report/couriers/apply", data=form, follow_redirects=True)
        again = client.post("/report/couriers/apply", data=form, follow_redirects=True)
        api = client.post("/api/report/courier-rules", params=q, json={
            "province": "广东省", "courier": "zhongtong", "suggest": "yuantong"})
        rules = client.get(f"/api/shops/{ref}/settings").json()["courier_rules"]
    assert "已添加快递策略：广东省走圆通速递" in first.text
    assert "没有添加：快递策略里已有这条规则" in again.text
    assert api.status_code == 409 and "已有这条规则" in api.json()["message"]
    assert [r["name"] for r in rules].count("数据分析：广东省走圆通速递") == 1
