"""Print component messages (doc §9.6, §15) and the sandbox's logistics.templateList."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
from typing import Any

import pytest

from fahuo.adapters.platforms.doudian import AppCredentials, DoudianClient
from fahuo.adapters.platforms.doudian.print_component import (
    Document,
    TemplateInfo,
    build_print_task,
    fetch_template_urls,
    get_printers_message,
    parse_component_message,
    shop_key_params,
    shop_key_params_for,
    split_tasks,
)
from fahuo.adapters.platforms.doudian.shipping import PrintData
from fahuo.adapters.platforms.doudian.tokens import InMemoryTokenStore, ShopSession

# §2.3 placeholder credentials
APP_KEY = "3409409348479354011"
APP_SECRET = "2ad2355c-01d0-11f8-91dc-05a8cd1054b1"
TOKEN = "8d2f5c1e-0b7a-4c3e-9f11-2a6e4b8c9d01"
CREDS = AppCredentials(APP_KEY, APP_SECRET)


def _hand_sign(method: str, param_json: str, ts: str, sign_method: str = "hmac-sha256") -> str:
    wrapped = (f"{APP_SECRET}app_key{APP_KEY}method{method}param_json{param_json}"
               f"timestamp{ts}v2{APP_SECRET}").encode()
    if sign_method == "md5":
        return hashlib.md5(wrapped).hexdigest()
    return hmac.new(APP_SECRET.encode(), wrapped, hashlib.sha256).hexdigest()


def _params() -> str:
    return shop_key_params(CREDS, TOKEN, timestamp="1700000000")


def _doc(i: int, **kw: Any) -> Document:
    return Document(f"doc-{i}", f"JT{i:013d}", f"ENC{i}==", f"SIG{i}",
                    "https://lf3-cm.ecombdstatic.com/obj/logistics-davinci/template/jtexpress_76_130.xml", **kw)


# ---------------------------------------------------------------------------- getShopKey params


def test_shop_key_params_is_exactly_the_signed_query_string():
    sign = _hand_sign("logistics.getShopKey", "{}", "1700000000")
    assert len(sign) == 64
    assert _params() == (
        f"access_token={TOKEN}&app_key={APP_KEY}&method=logistics.getShopKey&param_json={{}}"
        f"&timestamp=1700000000&v=2&sign={sign}&sign_method=hmac-sha256"
    )


def test_shop_key_params_md5_and_milliseconds():
    creds = AppCredentials(APP_KEY, APP_SECRET, sign_method="md5")
    out = shop_key_params(creds, TOKEN, timestamp="1700000000123")
    sign = _hand_sign("logistics.getShopKey", "{}", "1700000000123", "md5")
    assert out.endswith(f"&timestamp=1700000000123&v=2&sign={sign}&sign_method=md5")


def test_shop_key_params_rejects_empty_token():
    with pytest.raises(ValueError):
        shop_key_params(CREDS, "", timestamp="1700000000")


def test_shop_key_params_for_a_session_uses_its_token_and_clock():
    class FakeSession:
        client = DoudianClient(CREDS, clock=lambda: 1700000000.9)

        def tokens(self):
            return type("T", (), {"access_token": TOKEN})()

    assert shop_key_params_for(FakeSession()) == _params()


# ---------------------------------------------------------------------------- print task


def test_print_task_shape():
    docs = [_doc(1, package_number="1/2", custom_data={"sku": "A×2"},
                 custom_template_url="https://fahuo.local/templates/picking.xml"),
            _doc(2)]
    msg = build_print_task(docs, printer="ZT410", params=_params(), task_id="t1", request_id="r1")
    assert set(msg) == {"cmd", "requestID", "version", "task"}
    assert (msg["cmd"], msg["requestID"], msg["version"]) == ("print", "r1", "1.0")
    task = msg["task"]
    assert set(task) == {"taskID", "printer", "preview", "firstDocumentNumber", "totalDocumentCount", "documents"}
    assert task["taskID"] == "t1" and task["printer"] == "ZT410" and task["preview"] is False
    assert task["firstDocumentNumber"] == 1 and task["totalDocumentCount"] == 2
    d1, d2 = task["documents"]
    assert d1["documentID"] == "doc-1" and d1["docNo"] == "JT0000000000001" and d1["copy"] == 1
    assert len(d1["contents"]) == 2 and len(d2["contents"]) == 1
    std = d1["contents"][0]
    assert std == {"params": _params(), "encryptedData": "ENC1==", "signature": "SIG1",
                   "templateURL": docs[0].template_url, "config": {"packageNumber": "1/2"}}
    assert d1["contents"][1] == {"data": {"sku": "A×2"},
                                 "templateURL": "https://fahuo.local/templates/picking.xml"}
    assert "config" not in d2["contents"][0]
    json.dumps(msg)  # serialisable as is


def test_print_task_preview_and_numbering():
    msg = build_print_task([_doc(5)], printer="p", params=_params(), task_id="t", request_id="r",
                           preview=True, first_document_number=5, total_document_count=9,
                           preview_type="image")
    t = msg["task"]
    assert (t["preview"], t["previewType"], t["firstDocumentNumber"], t["totalDocumentCount"]) == (True, "image", 5, 9)


@pytest.mark.parametrize("kw", [
    {"documents": []},
    {"params": "not-signed"},
    {"first_document_number": 0},
    {"first_document_number": 3, "total_document_count": 3},  # 2 docs: 3..4 > 3
    {"documents": [_doc(1), _doc(1)]},
])
def test_print_task_rejects_bad_input(kw):
    args = dict(documents=[_doc(1), _doc(2)], printer="p", params=_params(), task_id="t", request_id="r")
    args.update(kw)
    with pytest.raises(ValueError):
        build_print_task(args.pop("documents"), **args)


def test_document_validation_and_from_print_data():
    with pytest.raises(ValueError):
        Document("d", "JT1", "", "sig", "https://x/t.xml")
    with pytest.raises(ValueError):
        Document("d", "JT1", "enc", "sig", "https://x/t.xml", custom_data={"a": 1})
    d = Document.from_print_data("d", PrintData("JT1", "ENC", "SIG"), "https://x/t.xml", package_number="1/1")
    assert (d.track_no, d.encrypted_data, d.signature, d.package_number) == ("JT1", "ENC", "SIG", "1/1")


def test_split_tasks_numbers_documents_across_tasks():
    docs = [_doc(i) for i in range(1, 24)]
    tasks = split_tasks(docs, per_task=10, printer="p", params=_params(), task_id="batch7")
    assert [len(t["task"]["documents"]) for t in tasks] == [10, 10, 3]
    assert [t["task"]["taskID"] for t in tasks] == ["batch7-1", "batch7-2", "batch7-3"]
    assert [t["requestID"] for t in tasks] == ["batch7-1", "batch7-2", "batch7-3"]
    assert [t["task"]["firstDocumentNumber"] for t in tasks] == [1, 11, 21]
    assert {t["task"]["totalDocumentCount"] for t in tasks} == {23}
    flat = [d["documentID"] for t in tasks for d in t["task"]["documents"]]
    assert flat == [d.document_id for d in docs]
    assert len(split_tasks(docs, 100, printer="p", params=_params(), task_id="b")) == 1
    assert len(split_tasks(docs, 1, printer="p", params=_params(), task_id="b")) == 23
    with pytest.raises(ValueError):
        split_tasks(docs, 0, printer="p", params=_params(), task_id="b")


# ---------------------------------------------------------------------------- replies


def test_parse_ack_and_result():
    ack = parse_component_message('{"cmd":"print","requestID":"r1","taskID":"t1","status":"failed","msg":"无打印机"}')
    assert (ack.kind, ack.request_id, ack.task_id, ack.status, ack.msg, ack.ok) == ("ack", "r1", "t1", "failed", "无打印机", False)
    res = parse_component_message(json.dumps({
        "cmd": "notifyPrintResult", "printer": "ZT410", "taskID": "t1", "taskStatus": "printed",
        "printStatus": [
            {"documentID": "doc-1", "status": "success", "msg": "", "trackNo": "JT1", "successCount": 1},
            {"documentID": "doc-2", "status": "failed", "msg": "解密失败", "errorcode": 3001, "trackNo": "JT2"}]}))
    assert res.kind == "result" and res.status == "printed" and res.printer == "ZT410" and not res.ok
    assert [(d.document_id, d.status, d.track_no) for d in res.documents] == [("doc-1", "success", "JT1"), ("doc-2", "failed", "JT2")]
    assert [d.error_code for d in res.failed_documents] == ["3001"]


def test_parse_other_printers_and_malformed():
    assert parse_component_message('{"cmd":"setPrinterConfig","status":"success"}').kind == "other"
    pr = parse_component_message(b'{"cmd":"getPrinters","requestID":"x","defaultPrinter":"A","printers":[{"name":"A"},{"name":"B"}]}')
    assert pr.kind == "printers" and pr.printers == ("A", "B") and pr.default_printer == "A"
    for bad in ("{not json", "[1,2]", '{"status":"success"}', ""):
        with pytest.raises(ValueError):
            parse_component_message(bad)


# ---------------------------------------------------------------------------- fake component over WebSocket

REQUIRED_STD = ("params", "encryptedData", "signature", "templateURL")


def _validate_print(msg: dict) -> str | None:
    """The fake component's checks; returns an error text or None."""
    for key in ("cmd", "requestID", "version", "task"):
        if key not in msg:
            return f"missing {key}"
    task = msg["task"]
    for key in ("taskID", "printer", "preview", "documents", "firstDocumentNumber", "totalDocumentCount"):
        if key not in task:
            return f"missing task.{key}"
    if not task["documents"]:
        return "no documents"
    for d in task["documents"]:
        if not d.get("documentID") or not d.get("contents"):
            return "missing documentID/contents"
        std = d["contents"][0]
        for key in REQUIRED_STD:
            if not std.get(key):
                return f"missing contents[0].{key}"
        if "method=logistics.getShopKey" not in std["params"] or "&sign=" not in std["params"]:
            return "params is not a signed getShopKey query"
        for extra in d["contents"][1:]:
            if "data" not in extra or not extra.get("templateURL"):
                return "bad custom area"
    return None


async def _fake_component(ws) -> None:
    async for raw in ws:
        msg = json.loads(raw)
        if msg.get("cmd") == "getPrinters":
            await ws.send(json.dumps({"cmd": "getPrinters", "requestID": msg.get("requestID"),
                                      "defaultPrinter": "Fake", "printers": [{"name": "Fake"}]}))
            continue
        if msg.get("cmd") != "print":
            await ws.send(json.dumps({"cmd": msg.get("cmd", ""), "status": "failed", "msg": "unknown cmd"}))
            continue
        error = _validate_print(msg)
        task = msg.get("task") or {}
        await ws.send(json.dumps({"cmd": "print", "requestID": msg.get("requestID"), "taskID": task.get("taskID"),
                                  "status": "failed" if error else "success", "msg": error or ""}))
        if error:
            continue
        await ws.send(json.dumps({
            "cmd": "notifyPrintResult", "printer": task["printer"], "taskID": task["taskID"],
            "taskStatus": "printed",
            "printStatus": [{"documentID": d["documentID"], "status": "success", "msg": "", "detail": "",
                             "successCount": 1, "failCount": 0, "errorcode": 0, "trackNo": d.get("docNo", "")}
                            for d in task["documents"]]}, ensure_ascii=False))


async def _exchange(messages: list[dict]) -> list:
    from websockets.asyncio.client import connect
    from websockets.asyncio.server import serve

    async with serve(_fake_component, "127.0.0.1", 0) as server:
        port = server.sockets[0].getsockname()[1]
        events = []
        async with connect(f"ws://127.0.0.1:{port}") as ws:
            await ws.send(json.dumps(get_printers_message("p0")))
            events.append(parse_component_message(await asyncio.wait_for(ws.recv(), 5)))
            for msg in messages:
                await ws.send(json.dumps(msg, ensure_ascii=False))
                ack = parse_component_message(await asyncio.wait_for(ws.recv(), 5))
                events.append(ack)
                if ack.ok:
                    events.append(parse_component_message(await asyncio.wait_for(ws.recv(), 5)))
        return events


def test_end_to_end_with_a_fake_component():
    pytest.importorskip("websockets")
    docs = [_doc(i, package_number=f"{i}/23",
                 **({"custom_data": {"n": i}, "custom_template_url": "https://fahuo.local/c.xml"} if i % 2 else {}))
            for i in range(1, 24)]
    tasks = split_tasks(docs, per_task=10, printer="Fake", params=_params(), task_id="b1")
    broken = build_print_task([_doc(99)], printer="Fake", params=_params(), task_id="bad", request_id="bad")
    del broken["task"]["documents"][0]["contents"][0]["signature"]

    events = asyncio.run(_exchange(tasks + [broken]))

    printers, *rest = events
    assert printers.kind == "printers" and printers.default_printer == "Fake"
    acks = [e for e in rest if e.kind == "ack"]
    results = [e for e in rest if e.kind == "result"]
    assert [(a.task_id, a.ok) for a in acks] == [("b1-1", True), ("b1-2", True), ("b1-3", True), ("bad", False)]
    assert "signature" in acks[-1].msg
    assert len(results) == 3 and all(r.ok and r.status == "printed" for r in results)
    printed = {d.document_id: d.track_no for r in results for d in r.documents if d.ok}
    assert printed == {d.document_id: d.track_no for d in docs}


# ---------------------------------------------------------------------------- templates


class _ListSession:
    def __init__(self, data: Any) -> None:
        self.data, self.seen = data, []

    def call(self, method, params=None):
        self.seen.append((method, params))
        return self.data


def test_fetch_template_urls_parses_template_list():
    s = _ListSession({"template_data": [
        {"logistics_code": "zhongtong", "template_infos": [
            {"template_id": 1, "template_code": "zt_76", "template_name": "中通 76*130", "template_url": "https://x/zt.xml",
             "version": 2, "template_type": 2, "perview_url": "https://x/zt.png"},
            {"template_code": "broken", "template_url": ""}]},
        {"logistics_code": "yunda", "template_infos": None}]})
    got = fetch_template_urls(s)
    assert s.seen == [("logistics.templateList", {})]
    assert got == {"zhongtong": [TemplateInfo("zt_76", "中通 76*130", "https://x/zt.xml", 2, "1", "2", "https://x/zt.png")],
                   "yunda": []}
    assert fetch_template_urls(_ListSession(None)) == {}


def test_sandbox_template_list_over_the_gateway(sandbox):
    import fahuo.sandbox.logistics.printing  # noqa: F401  (registers the method even before app.py imports it)
    from fahuo.sandbox.logistics.waybills import COURIERS

    app = sandbox.new_app()
    client = DoudianClient(AppCredentials(app["app_key"], app["app_secret"], gateway_url=sandbox.url))
    session = ShopSession(client, InMemoryTokenStore(), "s", self_built_shop_id=str(app["shop_id"]))
    try:
        got = fetch_template_urls(session)
        assert set(got) == set(COURIERS)
        for _code, infos in got.items():
            assert {t.template_type for t in infos} == {1, 2}
            assert all(t.template_url.startswith("https://") and t.template_url.endswith(".xml") for t in infos)
        from fahuo.sandbox.gateway import REGISTRY
        assert REGISTRY["logistics.templateList"].needs_token
    finally:
        client.close()
