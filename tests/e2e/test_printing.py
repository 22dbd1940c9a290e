"""Labels in batches: every print recorded, the same batch twice is the same file, reprints
need a reason, and printing moves the parcel on (confirm mode 'when printed'). fahuo draws
only self-drawn labels (the merchant's own numbers); a Douyin platform e-waybill prints
through the print component, never as fahuo's PDF."""

import time
from urllib.parse import unquote

import fitz
import pytest

from labels_support import own_account_packs
from support import make_fahuo, ready_to_ship

from fahuo.services.shipping import Pipeline
from fahuo.services.printing import PrintError, print_labels
from fahuo.services.settings import update_settings


@pytest.fixture
def fahuo(tmp_path):
    app = make_fahuo(tmp_path, sync_lag_s=1)
    yield app
    app.close()


def _ready(fahuo, sandbox, n=12):
    ref, creds = ready_to_ship(fahuo, sandbox, qps=1000)
    update_settings(fahuo.uow, ref, {"confirm_mode": "on_print", "audit_rules": {
        "hold_on_buyer_remark": False, "hold_on_seller_remark": False, "hold_presale": False}},
        actor="test")
    sandbox.generate(creds["shop_id"], n, seed=61, spread_seconds=600)
    time.sleep(1.05)
    with fahuo.uow() as uow:
        shop = uow.shops.get(ref)
    fahuo.order_sync.run(ref, fahuo.platform_for(shop))
    Pipeline(fahuo.uow, fahuo.platform_for).run()
    with fahuo.uow() as uow:
        return ref, creds, uow.pipeline.packs_in_state(["waybill_taken"], limit=100)


def test_print_a_batch_then_confirm_on_print(fahuo, sandbox, tmp_path):
    ref, creds, packs = own_account_packs(fahuo, sandbox, 8, seed=61)
    assert packs and not sandbox.http.get("/sandbox/shipments", params={
        "shop_id": creds["shop_id"]}).json()  # on_print: nothing ships before the labels
    out = tmp_path / "prints"
    r = print_labels(fahuo.uow, fahuo.platform_for, None, fmt="pdf", size="100x150",
                     actor="packer", out_dir=out)
    doc = fitz.open(r.path)
    assert r.packs == len(packs) == doc.page_count
    text = "".join(page.get_text() for page in doc)
    assert all(p["track_no"] in text for p in packs)
    # The same batch again: the same file, flagged, nothing new recorded.
    again = print_labels(fahuo.uow, fahuo.platform_for, [p["id"] for p in packs], fmt="pdf",
                         size="100x150", actor="packer", out_dir=out)
    assert again.already_printed and again.path.read_bytes() == r.path.read_bytes()
    # One of them again, alone: refused without a reason, a recorded reprint with one.
    with pytest.raises(PrintError, match="reason"):
        print_labels(fahuo.uow, fahuo.platform_for, [packs[0]["id"]], actor="packer",
                     out_dir=out)
    rp = print_labels(fahuo.uow, fahuo.platform_for, [packs[0]["id"]], actor="packer",
                      out_dir=out, reason="面单被撕坏")
    assert rp.reprint and not rp.already_printed
    with fahuo.uow() as uow:
        batches = uow.prints.batches()
    assert [b["reason"] for b in batches][:1] == ["面单被撕坏"]
    assert batches[0]["reprint_of"] == r.batch_id
    # Printed → the pipeline confirms them on the shop.
    Pipeline(fahuo.uow, fahuo.platform_for).run()
    shipped = {o for s in sandbox.http.get("/sandbox/shipments", params={
        "shop_id": creds["shop_id"]}).json() for o in s["order_ids"]}
    assert {p["main_order_id"] for p in packs} <= shipped


def test_bad_print_requests_say_what_is_wrong(fahuo, sandbox, tmp_path):
    _, _, packs = own_account_packs(fahuo, sandbox, 4, seed=62)
    with pytest.raises(PrintError, match="纸张 '80x80' 不支持"):
        print_labels(fahuo.uow, fahuo.platform_for, None, size="80x80", actor="x",
                     out_dir=tmp_path)
    with pytest.raises(PrintError, match="只能打印为 PDF 或 ZPL"):
        print_labels(fahuo.uow, fahuo.platform_for, None, fmt="png", actor="x",
                     out_dir=tmp_path)
    with pytest.raises(PrintError, match="没有这些包裹：999999"):
        print_labels(fahuo.uow, fahuo.platform_for, [999999], actor="x", out_dir=tmp_path)
    zpl = print_labels(fahuo.uow, fahuo.platform_for, None, fmt="zpl", dpi=300, actor="x",
                       out_dir=tmp_path)
    body = zpl.path.read_text()
    assert body.count("^XA") == len(packs) and "^CI28" in body


def test_a_platform_e_waybill_is_never_drawn_by_fahuo(fahuo, sandbox, tmp_path):
    _, _, packs = _ready(fahuo, sandbox, n=4)  # numbers from logistics.newCreateOrder
    ids = [p["id"] for p in packs]
    out = tmp_path / "prints"
    with pytest.raises(PrintError, match="平台电子面单只能由抖音打印组件打印") as got:
        print_labels(fahuo.uow, fahuo.platform_for, ids[:2], actor="x", out_dir=out)
    assert all(str(i) in str(got.value) for i in ids[:2])  # names the packs
    from fahuo.services.printing import NothingToPrint
    with pytest.raises(NothingToPrint, match="平台电子面单由抖音打印组件打印"):
        print_labels(fahuo.uow, fahuo.platform_for, None, actor="x", out_dir=out)
    assert not out.exists() or not list(out.iterdir())  # nothing drawn
    with fahuo.uow() as uow:
        assert uow.prints.batches() == []
        assert {p["state"] for p in uow.pipeline.packs_by_ids(ids)} == {"waybill_taken"}


def test_console_print_page_hands_platform_waybills_to_the_component_and_reprints_with_a_reason(
        fahuo, sandbox):
    import json
    import re

    from fastapi.testclient import TestClient

    from fahuo.entrypoints.demo_packer import component_answer
    from fahuo.entrypoints.web.app import create_app
    _, _, packs = _ready(fahuo, sandbox, n=6)
    ids = sorted(p["id"] for p in packs)
    with TestClient(create_app(fahuo, embedded_worker=False)) as client:
        page = client.get("/print").text
        assert f'id="waiting">{len(packs)}<' in page
        assert f'id="waiting-platform">{len(packs)}<' in page and 'id="waiting-self">0<' in page
        sent = client.post("/print", data={"size": "76x130", "format": "pdf"})
        # Sandbox numbers are platform e-waybills: never drawn as fahuo's PDF.
        assert sent.status_code == 200 and sent.headers["content-type"].startswith("text/html")
        assert f"{len(packs)} 个平台电子面单已交给打印组件" in sent.text
        named = json.loads(re.search(r'data-packs="([^"]*)"', sent.text)[1].replace("&#34;", '"'))
        assert sorted(named) == ids
        # The page's script asks for the tasks and relays what the component reports.
        tasks = client.post("/api/print/component/tasks", json={"pack_ids": named}).json()
        for t in tasks["tasks"]:
            assert client.post("/api/print/component/result",
                               content=component_answer(t)).json()["printed"]
        assert 'id="waiting">0<' in client.get("/print").text
        refused = client.post("/print", data={"batch": "1", "format": "pdf", "size": "100x150"},
                              follow_redirects=False)
        assert refused.status_code == 303 and "补打原因" in unquote(refused.headers["location"])
        again = client.post("/print", data={"batch": "1", "reason": "打印机卡纸"})
        assert f"{len(packs)} 个平台电子面单已交给打印组件" in again.text
        assert 'data-reason="打印机卡纸"' in again.text
        tasks = client.post("/api/print/component/tasks", json={
            "pack_ids": ids, "reason": "打印机卡纸"}).json()
        for t in tasks["tasks"]:
            client.post("/api/print/component/result", params={"reason": "打印机卡纸"},
                        content=component_answer(t))
        assert "补打 #1：打印机卡纸" in client.get("/print").text
        component = client.get("/print/component").text
        assert component.count('data-ok="yes"') == 2 * len(tasks["tasks"])


def test_pick_list_and_slips_for_the_batch(fahuo, sandbox, tmp_path):
    import io

    from openpyxl import load_workbook

    from fahuo.services.printing import print_documents
    _, _, packs = _ready(fahuo, sandbox, n=10)
    pdf = print_documents(fahuo.uow, "picklist", None, actor="x", out_dir=tmp_path)
    text = "".join(p.get_text() for p in fitz.open(pdf.path))
    assert "合计" in text
    xlsx = print_documents(fahuo.uow, "picklist", None, fmt="xlsx", actor="x", out_dir=tmp_path)
    ws = load_workbook(io.BytesIO(xlsx.path.read_bytes())).worksheets[0]
    rows = list(ws.iter_rows(values_only=True))[1:]
    with fahuo.uow() as uow:
        lines = uow.pipeline.lines([p["id"] for p in packs])
    units = sum(ln["quantity"] for ls in lines.values() for ln in ls)
    qty_col = [c.value for c in ws[1]].index("数量")
    assert sum(int(r[qty_col]) for r in rows if r[qty_col] and str(r[0]).isdigit()) == units
    slips = print_documents(fahuo.uow, "slips", None, actor="x", out_dir=tmp_path)
    doc = fitz.open(slips.path)
    assert doc.page_count >= len(packs)
    assert all(p["main_order_id"] in "".join(pg.get_text() for pg in doc) for p in packs)
    with pytest.raises(PrintError, match="补打请填写补打原因"):
        print_documents(fahuo.uow, "slips", [packs[0]["id"]], actor="x", out_dir=tmp_path)


def test_cli_prints_labels_and_a_batch_again(fahuo, sandbox, tmp_path, monkeypatch):
    import json

    from typer.testing import CliRunner

    from fahuo.bootstrap import set_app
    from fahuo.entrypoints.cli import cli
    from fahuo.entrypoints.demo_packer import component_answer
    from fahuo.services.print_component import record_component_result
    _, _, packs = _ready(fahuo, sandbox, n=5)
    set_app(fahuo)
    try:
        runner = CliRunner()
        first = runner.invoke(cli, ["print", "labels", "--format", "zpl", "--size", "100x150",
                                    "--tasks-out", str(tmp_path / "tasks.json")])
        assert first.exit_code == 0, first.output
        said = " ".join(first.output.split())
        assert f"{len(packs)} 个抖音平台电子面单须由抖音打印组件打印" in said
        got = json.loads((tmp_path / "tasks.json").read_text())
        assert sum(len(t["task"]["documents"]) for t in got["tasks"]) == len(packs)
        for t in got["tasks"]:  # the desktop agent relays what the component says
            record_component_result(fahuo.uow, component_answer(t), actor="agent")
        Pipeline(fahuo.uow, fahuo.platform_for).run()  # on_print: now confirmed
        with fahuo.uow() as uow:
            assert {p["state"] for p in uow.pipeline.packs_by_ids(
                [p["id"] for p in packs])} == {"confirmed"}
        # The README's reprint, after confirmation: the number is live, so it prints.
        refused = runner.invoke(cli, ["print", "labels", "--batch", "1"])
        assert refused.exit_code == 2 and "补打原因" in " ".join(refused.output.split())
        again = runner.invoke(cli, ["print", "labels", "--batch", "1", "--reason", "卡纸"])
        assert again.exit_code == 0, again.output
        said = " ".join(again.output.split())
        assert "/print/component?packs=" in said and "reason=" in said
        bad = runner.invoke(cli, ["print", "labels", "--size", "80x80"])
        assert bad.exit_code == 2 and "纸张 '80x80' 不支持" in " ".join(bad.output.split())
        pick = runner.invoke(cli, ["print", "picklist", "--batch", "1", "--format", "xlsx",
                                   "--out", str(tmp_path / "p.xlsx")])
        assert pick.exit_code == 0, pick.output
        assert (tmp_path / "p.xlsx").read_bytes()[:2] == b"PK"
    finally:
        set_app(None)
