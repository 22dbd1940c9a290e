"""Every console list shows its total, pages through it without gaps or doubles, filters by
its own kind, reason or status (kept in the links), refuses a bad filter in Chinese, and the
API and CLI give the same totals (issue 14). Lists with a batch action act on "all N
matching" across pages, not only on the rows shown."""

from __future__ import annotations

import re
import time

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from fahuo.bootstrap import set_app
from fahuo.entrypoints.cli import cli
from fahuo.entrypoints.web.app import create_app
from fahuo.services.orders import store_platform_orders
from fahuo.services.shops import NewShop, add_shop
from fahuo.services.stock.lines import StockLine
from fahuo.services.stock.moves import move_stock
from fahuo.services.stock.rules import set_item

NOW = int(time.time())


def _shop(u) -> int:
    return add_shop(u, NewShop(shop_id="1001", app_key="3409409348479354011", app_secret="s",
                               gateway_url="http://127.0.0.1:1"))


def _total(html: str) -> int:
    m = re.search(r"共 <b data-total>(\d+)</b>", html)
    assert m, html[:3000]
    return int(m[1])


def _walk(c, url: str, row: str) -> list[list[str]]:
    """Each page of the list from page 1 by its own 下一页 link: the row keys of each page."""
    pages, seen = [], set()
    while url:
        assert url not in seen
        seen.add(url)
        r = c.get(url)
        assert r.status_code == 200, (url, r.text[:500])
        pages.append(re.findall(row, r.text))
        nxt = re.search(r'<a href="([^"]+)" rel="next">下一页</a>', r.text)
        url = nxt[1].replace("&amp;", "&") if nxt else ""
    return pages


def _no_gaps(pages: list[list[str]], expected: list[str]) -> None:
    flat = [k for p in pages for k in p]
    assert flat == expected  # in order, each once: page 2 starts where page 1 ended
    assert all(len(p) == 50 for p in pages[:-1])


@pytest.fixture
def fahuo(fahuo_any_db):
    """Every list on the embedded SQLite and on PostgreSQL."""
    return fahuo_any_db


@pytest.fixture
def client(fahuo):
    with TestClient(create_app(fahuo, embedded_worker=False)) as c:
        yield c


def _csrf(c, path: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', c.get(path).text)[1]


# ---- 物流异常 ---------------------------------------------------------------------------

def _findings(fahuo) -> None:
    """63 stalled parcels (3 closed since), 7 lost ones: oldest trouble first."""
    def row(kind: str, i: int) -> dict:
        return {"key": f"{kind}:{i}", "kind": kind, "shop_ref": ref,
                "order_id": f"69{i:017d}" if kind == "stalled" else f"68{i:017d}",
                "track_no": f"YT{i:010d}", "courier_code": "yuantong",
                "since": NOW - 10_000 + i, "detail": "3 天没有新轨迹", "last_event": None}
    with fahuo.uow() as u:
        ref = _shop(u)
        u.tracking.open_new([row("stalled", i) for i in range(63)]
                            + [row("lost", i) for i in range(7)], NOW)
        u.tracking.close([f"stalled:{i}" for i in (60, 61, 62)], NOW, "已签收")


def test_exceptions_page_filter_and_select_all_matching(fahuo, client):
    _findings(fahuo)
    stalled = [f"69{i:017d}" for i in range(60)]
    row = r'<td><a href="/orders/(\d+)">'
    r = client.get("/exceptions?kind=stalled")
    assert _total(r.text) == 60 and "· 第 1–50 条（第 1/2 页）" in r.text
    assert 'href="/exceptions?kind=stalled&amp;status=open&amp;page=2"' in r.text
    _no_gaps(_walk(client, "/exceptions?kind=stalled", row), stalled)
    assert _total(client.get("/exceptions?kind=lost").text) == 7
    assert _total(client.get("/exceptions?kind=stalled&status=closed").text) == 3
    assert _total(client.get("/exceptions?status=all").text) == 70
    assert _total(client.get("/exceptions").text) == 67  # open ones, every kind
    bad = client.get("/exceptions?kind=bogus")
    assert bad.status_code == 400 and "异常类型“bogus”不是可选的值" in bad.text
    assert "物流停滞 (stalled)" in bad.text
    assert client.get("/exceptions?page=0").status_code == 400

    # "all 60 matching": every stalled one on both pages, none of the lost ones
    page = client.get("/exceptions?kind=stalled").text
    assert 'name="scope" value="matching"' in page and "选择全部 <b>60</b> 条异常" in page
    r = client.post("/exceptions", data={
        "csrf_token": _csrf(client, "/exceptions"), "scope": "matching", "f_kind": "stalled",
        "f_status": "open", "expected": "60", "action": "assign", "text": "小王"},
        follow_redirects=False)
    assert r.status_code == 303 and "kind=stalled" in r.headers["location"]
    done = client.get(r.headers["location"]).text
    assert "已处理 60 条（筛选出的全部 60 条未处理异常）" in done
    assert _total(client.get("/exceptions?assignee=小王").text) == 60
    assert _total(client.get("/exceptions?assignee=小王&kind=lost").text) == 0

    api = client.get("/api/exceptions", params={"kind": "stalled", "limit": 50, "offset": 50})
    assert api.json()["total"] == 60 and len(api.json()["items"]) == 10


# ---- 物流跟踪 ---------------------------------------------------------------------------

def test_tracking_pages_and_filters_by_state_and_courier(fahuo, client):
    with fahuo.uow() as u:
        ref = _shop(u)
        u.tracking.add_trackers([{
            "shop_ref": ref, "order_id": f"69{i:017d}", "track_no": f"T{i:08d}",
            "courier_code": "zhongtong" if i % 3 else "yuantong", "source": "douyin",
            "state": "in_transit" if i < 70 else "delivered", "shipped_at": NOW}
            for i in range(80)])
    row = r'<tr><td><a href="/orders/(\d+)">'
    newest_first = [f"69{i:017d}" for i in reversed(range(80))]
    r = client.get("/tracking")
    assert _total(r.text) == 80
    _no_gaps(_walk(client, "/tracking", row), newest_first)
    zto_transit = [o for o in newest_first if int(o) % 3 and int(o[2:]) < 70]
    url = "/tracking?state=in_transit&courier=zhongtong"
    assert _total(client.get(url).text) == len(zto_transit) == 46
    _no_gaps(_walk(client, url, row), zto_transit)
    assert _total(client.get("/tracking?courier=yuantong").text) == 27
    assert _total(client.get("/tracking?state=delivered").text) == 10
    bad = client.get("/tracking?courier=dhl-x")
    assert bad.status_code == 400 and "快递公司“dhl-x”不是可选的值" in bad.text
    api = client.get("/api/trackers", params={"courier": "zhongtong", "state": "in_transit"})
    assert api.json()["total"] == 46


# ---- 售后 -------------------------------------------------------------------------------

def test_aftersales_pages_and_filters_by_status_and_type(fahuo, client):
    with fahuo.uow() as u:
        ref = _shop(u)
        u.aftersales.upsert_cases([{
            "aftersale_id": f"70{i:017d}", "shop_ref": ref, "order_id": f"69{i:017d}",
            "sku_order_ids": "[]", "aftersale_type": 0 if i % 2 else 2,
            "aftersale_status": 6, "refund_amount": 100,
            "stage": "after_ship" if i % 2 else "before_ship",
            "update_time": NOW - i, "closed_at": NOW if i >= 60 else None} for i in range(66)])
    row = r"<tr><td>(70\d+)</td>"
    open_cases = [f"70{i:017d}" for i in range(60)]  # newest first: i = 0 is the newest
    assert _total(client.get("/aftersales").text) == 60
    _no_gaps(_walk(client, "/aftersales", row), open_cases)
    returns = [a for a in open_cases if int(a) % 2]
    assert _total(client.get("/aftersales?type=0").text) == 30
    _no_gaps(_walk(client, "/aftersales?type=0", row), returns)
    assert _total(client.get("/aftersales?status=closed").text) == 6
    assert _total(client.get("/aftersales?status=all&type=2").text) == 33
    assert _total(client.get("/aftersales?stage=before_ship").text) == 30
    page2 = client.get("/aftersales?status=all&page=2").text
    assert 'href="/aftersales?status=all&amp;page=1"' in page2
    bad = client.get("/aftersales?type=99")
    assert bad.status_code == 400 and "售后类型“99”不是可选的值" in bad.text
    api = client.get("/api/aftersales", params={"type": 0, "limit": 20, "offset": 20}).json()
    assert api["total"] == 30 and [c["aftersale_id"] for c in api["items"]] == returns[20:]


# ---- 库存 -------------------------------------------------------------------------------

def test_stock_pages_searches_and_filters_low_and_out(fahuo, client):
    codes = [f"CUP-{i:03d}" for i in range(55)] + [f"LID-{i:03d}" for i in range(5)]
    move_stock(fahuo.uow, "receive", [StockLine(c, 10, new=True, name="保温杯盖" if c[0] == "L"
                                                else "马克杯") for c in codes],
               actor="t", reason="到货", ref_type="adjust", ref_id="")
    move_stock(fahuo.uow, "count", [StockLine(c, 0) for c in codes[:4]], actor="t",
               reason="盘点", ref_type="adjust", ref_id="")  # 4 out of stock
    for c in codes[10:16]:  # 6 at or under their safety stock
        set_item(fahuo.uow, c, actor="t", safety=10)
    row = r'<a href="/stock/items/([^"]+)" title="安全库存'
    assert _total(client.get("/stock").text) == 60
    _no_gaps(_walk(client, "/stock", row), codes)
    assert re.findall(row, client.get("/stock?level=out").text) == codes[:4]
    assert re.findall(row, client.get("/stock?level=low").text) == codes[10:16]
    assert _total(client.get("/stock?q=cup-").text) == 55  # any case
    assert re.findall(row, client.get("/stock?q=杯盖").text) == codes[55:]  # by name
    assert _total(client.get("/stock?q=cup&level=out").text) == 4
    bad = client.get("/stock?level=empty")
    assert bad.status_code == 400 and "库存筛选“empty”不是可选的值" in bad.text
    api = client.get("/api/stock", params={"level": "low"}).json()
    assert api["total"] == 6


# ---- 推送消息、发货任务、用户、发货时效 ---------------------------------------------------

def test_inbox_pages_and_filters_by_status(fahuo, client):
    with fahuo.uow() as u:
        u.inbox.add_many([{"msg_id": f"m{i:03d}", "app_key": "k", "tag": "101",
                           "order_id": "", "data": "{}", "received_at": NOW - i,
                           "status": "failed" if i % 4 == 0 else "done"} for i in range(70)])
    row = r"<td>(m\d{3})</td>"
    assert _total(client.get("/inbox").text) == 70
    _no_gaps(_walk(client, "/inbox", row), [f"m{i:03d}" for i in range(70)])
    assert re.findall(row, client.get("/inbox?status=failed").text) == [
        f"m{i:03d}" for i in range(0, 70, 4)]
    assert client.get("/inbox?status=lost").status_code == 400
    api = client.get("/api/push-inbox", params={"status": "failed"}).json()
    assert api["total"] == 18 and api["counts"] == {"done": 52, "failed": 18}


def test_jobs_and_a_jobs_rows_page(fahuo, client):
    with fahuo.uow() as u:
        # made running with pending rows, then settled and finished: the jobs' lifecycle
        ids = [u.pipeline.add_job(kind="import" if i % 2 else "batch", status="running",
                                  source=f"单号{i}.csv", total=1) for i in range(55)]
        u.pipeline.add_job_items(ids[-1], [
            {"line_no": n, "order_id": f"69{n:017d}", "courier_code": "zhongtong",
             "track_no": f"7312{n:08d}", "status": "pending", "message": ""}
            for n in range(2, 122)])
        for n in range(2, 122):
            u.pipeline.settle_job_item(ids[-1], n, "failed" if n % 5 == 0 else "shipped")
        for job_id in ids:
            u.pipeline.finish_job(job_id, ok=1, failed=0)
    row = r'<td><a href="/ship/jobs/(\d+)">'
    assert _total(client.get("/ship/jobs").text) == 55
    _no_gaps(_walk(client, "/ship/jobs", row), [str(i) for i in reversed(ids)])
    assert _total(client.get("/ship/jobs?kind=import").text) == 27
    line = r"<tr><td>(\d+)</td><td>69"
    job = f"/ship/jobs/{ids[-1]}"
    assert _total(client.get(job).text) == 120
    _no_gaps(_walk(client, job, line), [str(n) for n in range(2, 122)])
    failed = [str(n) for n in range(2, 122) if n % 5 == 0]
    assert re.findall(line, client.get(f"{job}?status=failed").text) == failed
    assert client.get(f"{job}?status=nope").status_code == 400
    api = client.get("/api/ship/jobs", params={"kind": "batch", "limit": 10}).json()
    assert api["total"] == 28 and len(api["items"]) == 10
    items = client.get(f"/api{job}/items", params={"status": "failed"}).json()
    assert items["total"] == len(failed) == 24


def test_users_page_and_filters(fahuo, client):
    with fahuo.uow() as u:
        for i in range(53):
            u.users.add({"username": f"user{i:02d}", "password_hash": "x",
                         "role": "admin" if i < 3 else "operator", "disabled": i >= 50,
                         "created_at": NOW})
    # nobody signed in to this test client: the install has users now, so sign one in
    from fahuo.services.users import add_user
    add_user(fahuo.uow, "boss", "12345678", role="admin", actor="t")
    r = client.post("/login", data={"username": "boss", "password": "12345678",
                                    "csrf_token": _csrf(client, "/login")})
    assert r.status_code == 200
    row = r"<tr><td>([a-z]+\d*)</td><td>"
    everyone = [f"user{i:02d}" for i in range(53)] + ["boss"]
    assert _total(client.get("/users").text) == 54
    _no_gaps(_walk(client, "/users", row), everyone)
    assert re.findall(row, client.get("/users?role=admin").text) == [
        "user00", "user01", "user02", "boss"]
    assert re.findall(row, client.get("/users?state=disabled").text) == [
        "user50", "user51", "user52"]
    assert client.get("/users?role=root").status_code == 400
    api = client.get("/api/users", params={"role": "operator", "state": "active"}).json()
    assert api["total"] == 47 and "password_hash" not in api["items"][0]


def test_deadlines_pages_and_windows(fahuo, client, make_order):
    # make_order's deadline is update_time + 1 day: 20 overdue, 20 within 6 h, 20 later
    # (the clock read now, not at import: the nearest is 5 minutes from the test's now)
    now = int(time.time())
    with fahuo.uow() as u:
        ref = _shop(u)
        store_platform_orders(u, ref, [
            make_order(f"69{i:017d}", now - 86400 + (i - 20) * 600 + 300 if i < 40
                       else now + 86400 * 2 + i) for i in range(60)])
    row = r'<td><a href="/orders/(\d+)">'
    everyone = [f"69{i:017d}" for i in range(60)]
    r = client.get("/deadlines?window=all")
    assert _total(r.text) == 60
    _no_gaps(_walk(client, "/deadlines?window=all", row), everyone)
    assert re.findall(row, client.get("/deadlines?window=overdue").text) == everyone[:20]
    assert re.findall(row, client.get("/deadlines?window=6h").text) == everyone[20:40]
    assert re.findall(row, client.get("/deadlines?window=later").text) == everyone[40:]
    assert _total(client.get("/deadlines").text) == 40  # as before: due within 24 h
    assert client.get("/deadlines?window=soon").status_code == 400
    api = client.get("/api/deadlines", params={"window": "overdue", "limit": 5}).json()
    assert api["total"] == 20 and [x["order_id"] for x in api["items"]] == everyone[:5]


def test_cli_lists_print_the_same_totals(fahuo):
    _findings(fahuo)
    set_app(fahuo)
    try:
        run = CliRunner()
        out = run.invoke(cli, ["exceptions", "list", "--kind", "stalled", "--offset", "50"],
                         env={"COLUMNS": "250"})
        assert out.exit_code == 0, out.output
        assert "共 60 条，显示第 51–60 条" in out.output
    finally:
        set_app(None)
