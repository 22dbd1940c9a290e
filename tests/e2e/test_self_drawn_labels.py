"""Every label fahuo hands out is deliverable (issue 13): a self-drawn label carries the whole
address, decrypted through the platform (order.batchDecrypt) and never stored; its barcode
reads back as the stored number; a pack whose address the platform will not decrypt is left
out with the reason while the rest prints; ZPL names the shop's printer-resident font."""

from __future__ import annotations

import re

import numpy as np
import pymupdf
import pytest
import structlog
import zxingcpp
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from labels_support import imported_packs, own_account_packs, plain_receivers

from fahuo.adapters.store import models as m
from fahuo.services.print_jobs import Selection, print_selection
from fahuo.services.printing import PLAIN_PREFIX, AddressRefused, PrintError, hand_out
from fahuo.services.settings import SettingsError, update_settings


def _barcodes(page) -> list[str]:
    pix = page.get_pixmap(dpi=300, colorspace=pymupdf.csGRAY)
    img = np.frombuffer(pix.samples, dtype=np.uint8).reshape(pix.height, pix.width)
    return [b.text for b in zxingcpp.read_barcodes(img)
            if b.format == zxingcpp.BarcodeFormat.Code128]


def _stored_bytes(app) -> bytes:
    data = app.settings.data_dir
    return b"".join(p.read_bytes() for p in data.glob("fahuo.db*"))


def test_a_self_drawn_pdf_label_carries_the_whole_address_and_its_barcode_decodes(
        fahuo, sandbox):
    # numbers from the merchant's own courier account, imported from a file: self-drawn
    ref, _, packs = imported_packs(fahuo, sandbox, 3, seed=111)
    assert len(packs) == 3
    by_order = {p["main_order_id"]: p for p in packs}
    full = plain_receivers(fahuo, ref, list(by_order))  # what the platform decrypts
    with fahuo.uow(readonly=True) as u:
        rcv = {oid: o[2].receiver for oid, o in u.pipeline.load_orders(list(by_order)).items()}
    with structlog.testing.capture_logs() as logs:
        plan = print_selection(fahuo.uow, fahuo.platform_for, Selection(), size="100x150",
                               actor="packer", out_dir=fahuo.settings.data_dir / "prints")
    assert plan.platform == [] and sorted(plan.self_drawn) == sorted(p["id"] for p in packs)
    r = plan.result
    assert r.packs == 3 and r.plain and r.path.name.startswith(PLAIN_PREFIX)
    doc = pymupdf.open(r.path)
    assert doc.page_count == 3
    seen = set()
    for page in doc:
        text = page.get_text()
        [oid] = [o for o, p in by_order.items() if p["track_no"] in text]
        seen.add(oid)
        rc, plain = rcv[oid], full[oid]
        # region + street + the decrypted detail, none of it masked
        for part in (rc.province, rc.city, rc.district, rc.street, plain.detail):
            assert part and part in text.replace("\n", ""), (part, text)
        assert plain.detail.startswith(rc.address_mask.rstrip("*"))  # the mask's own prefix
        address = [ln for ln in text.splitlines() if plain.detail[:3] in ln]
        assert address and not any("*" in ln for ln in address)
        # name and phone as the shop's default policy says: masked
        assert rc.name_mask in text and plain.phone not in text
        codes = _barcodes(page)  # 100x150 has two parts, each with the barcode
        assert codes and set(codes) == {by_order[oid]["track_no"]}
    assert seen == set(by_order)
    # nothing decrypted is kept: not in the database, not in the logs
    stored = _stored_bytes(fahuo)
    for plain in full.values():
        assert plain.detail.encode() not in stored and plain.phone.encode() not in stored
        assert plain.detail not in repr(logs)
    with fahuo.uow(readonly=True) as u:
        trail = [a for a in u.audit.for_subject("shop", str(ref))
                 if a["action"] == "receiver.decrypt" and a["actor"] == "packer"]
    assert len(trail) == 1 and all(oid in trail[0]["detail"] for oid in by_order)
    assert hand_out(r)[:4] == b"%PDF" and not r.path.exists()  # once handed out, gone


def _spoil_address(app, oid: str, other: str) -> None:
    """The order's stored address ciphertext is another order's: the platform refuses to
    decrypt it for this order (as for an order whose address changed since fahuo read it)."""
    with app.uow() as u:
        cipher = u.orders.receivers([other])[other][2]
        u.conn.execute(m.orders.update().where(m.orders.c.order_id == oid).values(
            receiver_detail_cipher=cipher))


def test_a_pack_whose_address_the_platform_will_not_decrypt_is_left_out_the_rest_prints(
        fahuo, sandbox):
    from fahuo.entrypoints.web.app import create_app
    _, _, packs = own_account_packs(fahuo, sandbox, 3, seed=112)
    bad, good = packs[0], packs[1:]
    _spoil_address(fahuo, bad["main_order_id"], good[0]["main_order_id"])
    with TestClient(create_app(fahuo, embedded_worker=False)) as client:
        page = client.post("/print", data={"size": "76x130", "format": "pdf"})
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
        refused = re.search(r'id="labels-refused".*?</div>', page.text, re.S)[0]
        assert f"包裹 {bad['id']}：平台未解密收件地址：密文与auth_id不匹配（300004）" in refused
        assert "2 个自绘面单已生成 PDF" in page.text and 'id="labels-file"' in page.text
        batch = re.search(r'href="/print/file/(\d+)"', page.text)[1]
        pdf = client.get(f"/print/file/{batch}")
        assert pdf.content[:4] == b"%PDF"
        text = "".join(p.get_text() for p in pymupdf.open(stream=pdf.content))
        assert all(p["track_no"] in text for p in good) and bad["track_no"] not in text
        with fahuo.uow(readonly=True) as u:
            states = {p["id"]: p["state"] for p in u.pipeline.packs_by_ids(
                [p["id"] for p in packs])}
        assert states == {bad["id"]: "waybill_taken", good[0]["id"]: "printed",
                          good[1]["id"]: "printed"}  # the refused one still waits
        # alone, it is refused whole, with the reason, and nothing is recorded
        api = client.post("/api/print/labels", json={"pack_ids": [bad["id"]]})
        assert api.status_code == 409 and "平台未解密收件地址" in api.json()["message"]
    with pytest.raises(AddressRefused, match="不能生成可投递的面单") as exc:
        print_selection(fahuo.uow, fahuo.platform_for, Selection(pack_ids=(bad["id"],)),
                        actor="t", out_dir=fahuo.settings.data_dir / "prints")
    assert list(exc.value.refused) == [bad["id"]]
    with fahuo.uow(readonly=True) as u:
        assert [b["pack_ids"] for b in u.prints.batches()] == [[p["id"] for p in good]]


def _fonts(zpl: str) -> set[str]:
    return set(re.findall(r"\^A@N,\d+,\d+,([^\^]+)\^", zpl))


def test_zpl_names_the_shops_printer_font_set_in_console_cli_or_api(fahuo, sandbox, tmp_path):
    from fahuo.bootstrap import set_app
    from fahuo.entrypoints.cli import cli
    from fahuo.entrypoints.web.app import create_app
    ref, _, packs = own_account_packs(fahuo, sandbox, 2, seed=113)
    with fahuo.uow(readonly=True) as u:
        assert u.settings.get(ref)["zpl_font"] == "E:SIMSUN.TTF"  # the default
    with pytest.raises(SettingsError) as bad:
        update_settings(fahuo.uow, ref, {"zpl_font": "SIMSUN"}, actor="t")
    assert "ZPL 字体 'SIMSUN' 不可用" in bad.value.problems["zpl_font"]
    with TestClient(create_app(fahuo, embedded_worker=False), follow_redirects=False) as c:
        said = c.post(f"/shops/{ref}/settings", data={"zpl_font": "E:BAD^FONT.TTF"})
        assert said.status_code == 422 and "ZPL 字体" in said.text  # beside its field,
        assert 'value="E:BAD^FONT.TTF"' in said.text  # with what was typed kept
        c.post(f"/shops/{ref}/settings", data={"zpl_font": "E:ANMDS.TTF"})
        assert 'value="E:ANMDS.TTF"' in c.get(f"/shops/{ref}").text
        put = c.put(f"/api/shops/{ref}/settings", json={"zpl_font": "宋体"})
        assert put.status_code == 400 and "ZPL 字体" in put.json()["problems"]["zpl_font"]
        assert c.get(f"/api/shops/{ref}/settings").json()["zpl_font"] == "E:ANMDS.TTF"
        got = c.post("/api/print/labels", json={"format": "zpl"})
        assert got.status_code == 200, got.text
        assert _fonts(got.text) == {"E:ANMDS.TTF"}
        assert all(p["track_no"] in got.text for p in packs)
    set_app(fahuo)
    try:
        runner = CliRunner()
        out = tmp_path / "labels.zpl"
        once = runner.invoke(cli, ["print", "labels", "--format", "zpl", "--zpl-font",
                                   "E:MYFONT.TTF", "--batch", "1", "--reason", "换字体",
                                   "--out", str(out)])
        assert once.exit_code == 0, once.output
        assert _fonts(out.read_text()) == {"E:MYFONT.TTF"}  # this print only
        wrong = runner.invoke(cli, ["print", "labels", "--format", "zpl", "--zpl-font",
                                    "MYFONT", "--batch", "1", "--reason", "换字体"])
        assert wrong.exit_code == 2 and "ZPL 字体 'MYFONT' 不可用" in " ".join(
            wrong.output.split())
        shop = runner.invoke(cli, ["shop", "settings", "--shop", str(ref), "--set",
                                   "zpl_font=E:SIMSUN.TTF"])
        assert shop.exit_code == 0, shop.output
        refused = runner.invoke(cli, ["shop", "settings", "--shop", str(ref), "--set",
                                      "zpl_font=E:"])
        assert refused.exit_code == 2 and "zpl_font" in refused.output
    finally:
        set_app(None)
    with pytest.raises(PrintError, match="ZPL 字体"):
        print_selection(fahuo.uow, fahuo.platform_for, Selection(batch=1), fmt="zpl",
                        zpl_font="E:A,B.TTF", reason="再打", actor="t", out_dir=tmp_path)
