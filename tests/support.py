"""Helpers shared by the tests (importable as `support`)."""

from __future__ import annotations

import base64
import os
import time
from pathlib import Path

import pytest

from fahuo.sandbox.testing import serve_in_thread  # noqa: F401 - re-exported for tests

REQUIRE_ALL = os.environ.get("FAHUO_REQUIRE_ALL") == "1"

def order_payload(order_id: str, update_time: int, *, status: int = 2, shop_id: str = "1001",
                  buyer_words: str = "", post_receiver: str = "", lines: int = 1,
                  main_status: int | None = None) -> dict:
    """A shop_order_list[] element in the platform's shape (§6.1)."""
    subs = []
    for i in range(lines):
        sid = order_id if i == 0 else str(int(order_id) + i)
        subs.append({
            "order_id": sid, "parent_order_id": order_id, "product_id": 3600000000000000001,
            "product_id_str": "3600000000000000001", "sku_id": 1700000000000 + i, "item_num": 2,
            "code": f"TEE-RED-{i}", "product_name": "纯棉T恤", "spec": [{"name": "颜色", "value": "红"}],
            "pay_amount": 4900, "order_status": status, "pre_sale_type": 0,
            "after_sale_info": {"after_sale_status": 0, "after_sale_type": 0, "refund_status": 0},
            "exp_ship_time": update_time + 86400,
        })
    return {
        "order_id": order_id, "shop_id": int(shop_id), "order_status": status,
        "main_status": main_status if main_status is not None else status,
        "create_time": update_time - 100, "pay_time": update_time - 90,
        "update_time": update_time, "exp_ship_time": update_time + 86400,
        "order_amount": 9800, "pay_amount": 9800, "post_amount": 0,
        "buyer_words": buyer_words, "seller_words": "", "seller_remark_stars": 0,
        "encrypt_post_receiver": "##E1ZmFrZWNpcGhlcg==#1##", "encrypt_post_tel": "$$E2MTM4$1$$",
        "mask_post_receiver": "张*", "mask_post_tel": "138****5678",
        "mask_post_addr": "浙江省杭州市西湖区****",
        "post_receiver": post_receiver, "post_tel": "",
        "post_addr": {"province": {"id": "33", "name": "浙江省"},
                      "city": {"id": "3301", "name": "杭州市"},
                      "town": {"id": "330106", "name": "西湖区"},
                      "street": {"id": "", "name": "文新街道"},
                      "detail": "文***号", "encrypt_detail": "##E3ZGV0YWls#1##"},
        "doudian_open_id": "1@#buyer", "sku_order_list": subs, "logistics_info": [],
    }


class SandboxAdmin:
    """The sandbox's unsigned admin API, as a merchant rehearsing a promotion would use it."""

    def __init__(self, base_url: str) -> None:
        import httpx
        self.url = base_url
        self.http = httpx.Client(base_url=base_url, timeout=120)

    def _ok(self, r):
        assert r.status_code == 200, r.text
        return r.json()

    def new_app(self, **kw):
        return self._ok(self.http.post("/sandbox/apps", json=kw))

    def generate(self, shop_id, count, **kw):
        return self._ok(self.http.post("/sandbox/orders/generate",
                                       json={"shop_id": shop_id, "count": count, **kw}))

    def mutate(self, shop_id, count, **kw):
        return self._ok(self.http.post("/sandbox/orders/mutate",
                                       json={"shop_id": shop_id, "count": count, **kw}))

    def index(self, shop_id) -> dict[str, int]:
        rows = self._ok(self.http.get("/sandbox/orders/index", params={"shop_id": shop_id}))
        return {r["order_id"]: r["update_time"] for r in rows}

    def faults(self, **kw):
        return self._ok(self.http.post("/sandbox/faults", json=kw))

    def push_config(self, app_key, url, **kw):
        return self._ok(self.http.post("/sandbox/push/config",
                                       json={"app_key": app_key, "url": url, **kw}))

    def stats(self):
        return self._ok(self.http.get("/sandbox/stats"))


def connect_sandbox_shop(app, sandbox: SandboxAdmin, *, fahuo_qps: float | None = None,
                         **app_kw) -> tuple[int, dict]:
    """A sandbox app + shop, added to fahuo the way a merchant adds a real one."""
    from fahuo.services.shops import NewShop, add_shop
    creds = sandbox.new_app(**app_kw)
    with app.uow() as uow:
        ref = add_shop(uow, NewShop(shop_id=str(creds["shop_id"]), app_key=creds["app_key"],
                                    app_secret=creds["app_secret"], gateway_url=sandbox.url,
                                    rate_qps=fahuo_qps))
    return ref, creds


def make_fahuo(tmp_path: Path, db_url: str | None = None, **overrides):
    from fahuo.adapters.platforms.doudian.client import RetryPolicy
    from fahuo.bootstrap import Fahuo
    from fahuo.config import Settings
    settings = Settings(data_dir=tmp_path / "data", database_url=db_url,
                        secret_key=base64.b64encode(os.urandom(32)).decode(), **overrides)
    app = Fahuo(settings, retry=RetryPolicy(max_attempts=8, initial_wait=0.01, max_wait=0.2))
    app.migrate()
    return app


def ready_to_ship(app, sandbox: SandboxAdmin, confirm_mode: str | None = "on_waybill",
                  **app_kw) -> tuple[int, dict]:
    """A sandbox shop with its address book, e-waybill accounts and sender set in fahuo. It
    confirms on_waybill (chosen explicitly: new shops confirm at print), so a pass ships what
    it packs; tests of printing or scanning set their own mode, None keeps the default."""
    from fahuo.services.settings import refresh_from_platform, update_settings
    ref, creds = connect_sandbox_shop(app, sandbox, **app_kw)
    refresh_from_platform(app.uow, app.platform_for, ref)
    # Only SF reaches every part of Tibet in the sandbox: without this rule a test whose
    # random buyer lives in 阿里 would see an (honest) out-of-range hold.
    update_settings(app.uow, ref, {"sender_name": "王仓管", "sender_phone": "13800000000",
                                   "default_courier": "zhongtong", "courier_rules": [
                                       {"name": "西藏走顺丰", "courier_code": "shunfeng",
                                        "provinces": ["西藏自治区"]}]}
                    | ({"confirm_mode": confirm_mode} if confirm_mode else {}), actor="test")
    return ref, creds


NO_RULE_HOLDS = {"hold_on_buyer_remark": False, "hold_on_seller_remark": False,
                 "hold_presale": False}


def orders_in_fahuo(app, sandbox: SandboxAdmin, count: int, seed: int, *, run: bool = True,
                    confirm_mode: str | None = "on_waybill", **audit) -> tuple[int, dict]:
    """A ready sandbox shop with ``count`` new orders synced into fahuo (remark and presale
    holds off, so the random buyers' words do not decide what ships) and, with ``run``, one
    pipeline pass over them. It confirms on_waybill unless told otherwise (chosen explicitly:
    new shops confirm at print), so one pass ships what it packs; None keeps the default."""
    from fahuo.services.shipping import Pipeline
    from fahuo.services.settings import update_settings
    ref, creds = ready_to_ship(app, sandbox, confirm_mode=confirm_mode, qps=1000)
    changes: dict = {"audit_rules": {**NO_RULE_HOLDS, **audit}}
    update_settings(app.uow, ref, changes, actor="test")
    sandbox.generate(creds["shop_id"], count, seed=seed, spread_seconds=600)
    sync_now(app, ref)
    if run:
        Pipeline(app.uow, app.platform_for).run()
    return ref, creds


def sync_now(app, ref: int):
    """One sync of the shop, once the newest orders are older than the sync lag."""
    time.sleep(1.05)  # sync windows stop short of "now": let the newest orders age past it
    with app.uow() as uow:
        shop = uow.shops.get(ref)
    return app.order_sync.run(ref, app.platform_for(shop))


def labelled_pack(app, make_order, oid: str, track_no: str) -> tuple[int, int]:
    """(shop ref, pack id): an order stored with a plain receiver and a pack with a number."""
    from fahuo.services.orders import store_platform_orders
    from fahuo.services.shops import NewShop, add_shop
    with app.uow() as uow:
        shops = uow.shops.list()
        ref = shops[0].id if shops else add_shop(uow, NewShop(
            shop_id="1001", app_key="3409409348479354011", app_secret="s",
            gateway_url="http://127.0.0.1:1"))
        store_platform_orders(uow, ref, [make_order(oid, 1_700_000_000, post_receiver="王小明")])
        order = uow.pipeline.load_orders([oid])[oid][2]
        pid = uow.pipeline.add_pack({
            "shop_ref": ref, "kind": "whole", "state": "waybill_taken", "main_order_id": oid,
            "platform_pack_id": "", "courier_code": "zhongtong", "track_no": track_no,
            "request_id": f"r-{oid}", "exp_ship_time": order.exp_ship_time},
            [{"order_id": oid, "sku_order_id": s.sku_order_id, "quantity": s.quantity}
             for s in order.sub_orders])
    return ref, pid


def offered_refund_case(app, make_order, oid: str, track_no: str, aftersale_id: str) -> int:
    """Shop ref: an order shipped in one confirmed zhongtong parcel (``labelled_pack``) and a
    refund case on it that fahuo offered to intercept."""
    from fahuo.adapters.store import models as m
    ref, pid = labelled_pack(app, make_order, oid, track_no)
    with app.uow() as u:
        u.pipeline.update_pack(pid, state="confirmed")
        u.conn.execute(m.after_sales.insert().values(
            aftersale_id=aftersale_id, shop_ref=ref, order_id=oid, sku_order_ids="[]",
            aftersale_type=1, aftersale_status=6, refund_amount=4900, stage="after_ship",
            intercept_state="offered", intercept_detail="买家已申请退款，包裹仍在途：可拦截",
            update_time=int(time.time())))
    return ref


def flat(result) -> str:
    """A CLI result's output on one line (Rich wraps long lines at the terminal width)."""
    return " ".join(result.output.split())


def need_service(name: str, reason: str) -> None:
    """Skip when a real service is missing, except in CI (FAHUO_REQUIRE_ALL=1): fail there."""
    if REQUIRE_ALL:
        pytest.fail(f"{name} is required in this run but unavailable: {reason}")
    pytest.skip(f"{name} unavailable: {reason}")


def crafted_xlsx(rows, *, dimension="A1:XFD1048576", far_row=True) -> bytes:
    """A tiny workbook whose sheet claims the largest possible dimension and (``far_row``)
    holds one more cell on Excel's very last row: the 4.7 KB file that froze the server."""
    import io
    import re
    import zipfile

    from openpyxl import Workbook
    wb = Workbook()
    for r in rows:
        wb.active.append(r)
    plain = io.BytesIO()
    wb.save(plain)
    src = zipfile.ZipFile(io.BytesIO(plain.getvalue()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename == "xl/worksheets/sheet1.xml":
                text, n = re.subn(r'<dimension ref="[^"]*" ?/>',
                                  f'<dimension ref="{dimension}"/>', data.decode())
                assert n == 1
                if far_row:
                    text = text.replace("</sheetData>", '<row r="1048576"><c r="A1048576" '
                                        't="inlineStr"><is><t>x</t></is></c></row></sheetData>')
                data = text.encode()
            z.writestr(info, data)
    return out.getvalue()
