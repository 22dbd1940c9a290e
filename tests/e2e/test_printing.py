"""Labels in batches: every print recorded, the same batch twice is the same file, reprints
need a reason, and printing moves the parcel on (confirm mode 'when printed')."""

import time

import fitz
import pytest

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
    ref, creds, packs = _ready(fahuo, sandbox)
    assert packs and not sandbox.http.get("/sandbox/shipments", params={
        "shop_id": creds["shop_id"]}).json()  # on_print: nothing ships before the labels
    out = tmp_path / "prints"
    r = print_labels(fahuo.uow, None, fmt="pdf", size="100x150", actor="packer", out_dir=out)
    doc = fitz.open(r.path)
    assert r.packs == len(packs) == doc.page_count
    text = "".join(page.get_text() for page in doc)
    assert all(p["track_no"] in text for p in packs)
    # The same batch again: the same file, flagged, nothing new recorded.
    again = print_labels(fahuo.uow, [p["id"] for p in packs], fmt="pdf", size="100x150",
                         actor="packer", out_dir=out)
    assert again.already_printed and again.path.read_bytes() == r.path.read_bytes()
    # One of them again, alone: refused without a reason, a recorded reprint with one.
    with pytest.raises(PrintError, match="reason"):
        print_labels(fahuo.uow, [packs[0]["id"]], actor="packer", out_dir=out)
    rp = print_labels(fahuo.uow, [packs[0]["id"]], actor="packer", out_dir=out,
                      reason="面单被撕坏")
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
    _, _, packs = _ready(fahuo, sandbox, n=4)
    with pytest.raises(PrintError, match="known sizes"):
        print_labels(fahuo.uow, None, size="80x80", actor="x", out_dir=tmp_path)
    with pytest.raises(PrintError, match="pdf or zpl"):
        print_labels(fahuo.uow, None, fmt="png", actor="x", out_dir=tmp_path)
    with pytest.raises(PrintError, match="no such packs"):
        print_labels(fahuo.uow, [999999], actor="x", out_dir=tmp_path)
    zpl = print_labels(fahuo.uow, None, fmt="zpl", dpi=300, actor="x", out_dir=tmp_path)
    body = zpl.path.read_text()
    assert body.count("^XA") == len(packs) and "^CI28" in body


def test_console_print_page_prints_and_reprints_with_a_reason(fahuo, sandbox):
    from fastapi.testclient import TestClient

    from fahuo.entrypoints.web.app import create_app
    _, _, packs = _ready(fahuo, sandbox, n=6)
    with TestClient(create_app(fahuo, embedded_worker=False)) as client:
        page = client.get("/print").text
        assert f'id="waiting">{len(packs)}<' in page
        pdf = client.post("/print", data={"size": "76x130", "format": "pdf"})
        assert pdf.headers["content-type"] == "application/pdf" and pdf.content[:4] == b"%PDF"
        listing = client.get("/print").text
        assert 'id="waiting">0<' in listing
        refused = client.post("/print", data={"batch": "1", "format": "pdf", "size": "100x150"},
                              follow_redirects=False)
        assert refused.status_code == 303 and "reason" in refused.headers["location"]
        again = client.post("/print", data={"batch": "1", "format": "pdf", "size": "100x150",
                                            "reason": "打印机卡纸"})
        assert again.status_code == 200 and again.content[:4] == b"%PDF"
        assert "补打 #1：打印机卡纸" in client.get("/print").text


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
    with pytest.raises(PrintError, match="reason"):
        print_documents(fahuo.uow, "slips", [packs[0]["id"]], actor="x", out_dir=tmp_path)


def test_cli_prints_labels_and_a_batch_again(fahuo, sandbox, tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from fahuo.bootstrap import set_app
    from fahuo.entrypoints.cli import cli
    _ready(fahuo, sandbox, n=5)
    set_app(fahuo)
    try:
        runner = CliRunner()
        first = runner.invoke(cli, ["print", "labels", "--format", "zpl", "--size", "100x150",
                                    "--out", str(tmp_path / "a.zpl")])
        assert first.exit_code == 0, first.output
        assert "batch #1" in first.output
        again = runner.invoke(cli, ["print", "labels", "--batch", "1", "--format", "zpl",
                                    "--size", "100x150", "--out", str(tmp_path / "b.zpl")])
        assert again.exit_code == 0 and "already printed" in " ".join(again.output.split())
        assert (tmp_path / "a.zpl").read_bytes() == (tmp_path / "b.zpl").read_bytes()
        bad = runner.invoke(cli, ["print", "labels", "--size", "80x80"])
        assert bad.exit_code == 2 and "known sizes" in " ".join(bad.output.split())
        pick = runner.invoke(cli, ["print", "picklist", "--batch", "1", "--format", "xlsx",
                                   "--out", str(tmp_path / "p.xlsx")])
        assert pick.exit_code == 0, pick.output
        assert (tmp_path / "p.xlsx").read_bytes()[:2] == b"PK"
    finally:
        set_app(None)
