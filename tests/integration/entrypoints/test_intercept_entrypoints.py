"""快递拦截 from the outside: Kuaidi100 interception set up through the API and the CLI, an
interception asked for with a chosen path through the API, the console and the CLI, and the
path shown where the case is listed."""

from __future__ import annotations

import json
from urllib.parse import parse_qs, quote

import pytest
from fastapi.testclient import TestClient
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from fahuo.entrypoints.web.app import create_app
from support import flat, offered_refund_case, serve_in_thread

OID = "6900000000000000201"
CASE = "7200000000000000201"
NO = "78000000000201"


@pytest.fixture
def k100_label():
    """A stand-in for Kuaidi100's /label/order that accepts every interceptOrder."""
    forms: list[dict] = []

    async def label(request: Request) -> JSONResponse:
        forms.append({k: v[0] for k, v in parse_qs((await request.body()).decode()).items()})
        return JSONResponse({"code": 200, "message": "提交成功", "data": None, "time": 1})

    with serve_in_thread(Starlette(routes=[Route("/label/order", label, methods=["POST"])])) as url:
        yield url + "/label/order", forms


@pytest.fixture
def case(fahuo, make_order):
    """A shipped zhongtong parcel and a refund case offered for interception."""
    offered_refund_case(fahuo, make_order, OID, NO, CASE)
    return CASE


@pytest.fixture
def api(fahuo):
    with TestClient(create_app(fahuo, embedded_worker=False)) as c:
        yield c


def test_api_sets_up_kuaidi100_interception_and_intercepts_with_the_chosen_path(
        api, case, k100_label):
    label_url, forms = k100_label
    r = api.post("/api/tracking/accounts", json={
        "provider": "kuaidi100", "name": "快递100", "base_url": "https://poll.kuaidi100.com",
        "callback_url": "https://fahuo.example.com",
        "credentials": {"customer": "CUST", "key": "kEy", "salt": "pepper"}})
    assert r.status_code == 201, r.text
    acc = r.json()["id"]
    r = api.post(f"/api/aftersales/{case}/intercept", params={"via": "kuaidi100"})
    assert r.status_code == 422 and "has no secret" in r.json()["message"]
    assert api.put("/api/tracking/accounts/999/intercept", json={"secret": "x"}).status_code == 404
    bad = api.put(f"/api/tracking/accounts/{acc}/intercept", json={"label_url": "ftp://x/label"})
    assert bad.status_code == 422 and "label_url must be an http" in bad.json()["message"]
    r = api.put(f"/api/tracking/accounts/{acc}/intercept",
                json={"secret": "sEcReT", "label_url": label_url})
    assert r.status_code == 200 and r.json()["secret"] is True and "sEcReT" not in r.text
    r = api.post(f"/api/aftersales/{case}/intercept", params={"via": "kuaidi100"})
    assert r.status_code == 422
    assert "no zhongtong e-waybill account" in r.json()["message"]
    assert api.put(f"/api/tracking/accounts/{acc}/intercept/partners/zhongtong",
                   json={"partnerKey": "k"}).status_code == 422  # partnerId is required
    r = api.put(f"/api/tracking/accounts/{acc}/intercept/partners/nosuch",
                json={"partnerId": "1"})
    assert r.status_code == 422 and "kuaidi100 不认识快递公司 'nosuch'" in r.json()["message"]
    r = api.put(f"/api/tracking/accounts/{acc}/intercept/partners/zhongtong",
                json={"partnerId": "ZT-1", "partnerSecret": "zt-secret", "net": "douyin"})
    assert r.status_code == 200 and r.json()["couriers"]["zhongtong"]["partnerSecret"] == "***"
    listed = api.get("/api/tracking/accounts").json()
    assert "zt-secret" not in json.dumps(listed) and "sEcReT" not in json.dumps(listed)
    assert listed[0]["credentials"]["secret"] == "***"
    assert listed[0]["intercept"]["couriers"]["zhongtong"]["partnerId"] == "ZT-1"
    assert api.post(f"/api/aftersales/{case}/intercept",
                    params={"via": "sf"}).status_code == 422  # not a path
    r = api.post(f"/api/aftersales/{case}/intercept", params={"via": "kuaidi100"})
    assert r.status_code == 200, r.text
    assert (r.json()["intercept_state"], r.json()["via"]) == ("requested", "kuaidi100")
    (form,) = forms
    assert json.loads(form["param"])["partnerSecret"] == "zt-secret"  # sent, never shown
    (c,) = api.get("/api/aftersales", params={"status": "intercept"}).json()["items"]
    assert (c["intercept_via"], c["intercept_detail"]) == ("kuaidi100",
                                                           "快递100：已提交拦截（退回寄件地址）")
    page = api.get("/aftersales", params={"status": "intercept"}).text
    assert 'data-via="kuaidi100"' in page and "经快递100" in page
    assert 'name="via"' not in page  # requested: no second request offered
    tracking = api.get("/tracking").text
    assert "可拦截：zhongtong" in tracking and "zt-secret" not in tracking
    r = api.delete(f"/api/tracking/accounts/{acc}/intercept/partners/zhongtong")
    assert r.status_code == 200 and r.json()["couriers"] == {}
    assert api.delete(f"/api/tracking/accounts/{acc}/intercept/partners/zhongtong"
                      ).status_code == 422


def test_console_form_offers_the_path_and_shows_the_one_used(api, case, k100_label, fahuo):
    from fahuo.bootstrap import add_account, set_intercept, set_intercept_partner
    label_url, forms = k100_label
    page = api.get("/aftersales").text
    assert 'name="via"' in page and 'value="kuaidi100"' in page
    r = api.post(f"/aftersales/{case}", data={"action": "intercept", "via": "kuaidi100"},
                 follow_redirects=False)
    assert r.status_code == 303 and "no%20enabled%20Kuaidi100%20account" in r.headers["location"]
    acc = add_account(fahuo.uow, "kuaidi100", "快递100", {"customer": "C", "key": "K",
                                                      "salt": "s"},
                      "https://poll.kuaidi100.com", "https://fahuo.example.com")
    set_intercept(fahuo.uow, acc, secret="S", label_url=label_url, actor="t")
    set_intercept_partner(fahuo.uow, acc, "zhongtong", {"partnerId": "ZT-1"}, actor="t")
    r = api.post(f"/aftersales/{case}", data={"action": "intercept", "via": "kuaidi100"})
    assert r.status_code == 200 and "快递100：已提交拦截（退回寄件地址）" in r.text
    assert 'data-via="kuaidi100"' in r.text and len(forms) == 1


def test_cli_sets_up_interception_and_names_what_is_missing(run, case, k100_label, fahuo):
    label_url, forms = k100_label
    added = run("track", "account-add", "kuaidi100", "--name", "快递100", "--customer", "C",
                "--key", "K", "--salt", "s", "--callback-url", "https://fahuo.example.com")
    assert added.exit_code == 0, added.output
    acc = added.output.split("#")[1].split("：")[0]
    bad = run("aftersales", "intercept", CASE, "--via", "sf")
    assert bad.exit_code == 2 and "--via 应为 auto、douyin、kuaidi100 之一" in flat(bad)
    missing = run("aftersales", "intercept", CASE, "--via", "kuaidi100")
    assert missing.exit_code == 2 and "has no secret" in flat(missing)
    assert "intercept-setup" in flat(missing)  # says how to fix it
    r = run("track", "intercept-setup", acc, "--secret", "S", "--label-url", label_url)
    assert r.exit_code == 0 and "拦截密钥 secret 已设置" in flat(r)
    r = run("track", "intercept-partner", acc, "zhongtong", "--partner-key", "k")
    assert r.exit_code == 2 and "partnerId" in flat(r)
    r = run("track", "intercept-partner", acc, "zhongtong", "--partner-id", "ZT-1",
            "--partner-secret", "zt-secret", "--net", "douyin")
    assert r.exit_code == 0 and "中通快递 (zhongtong)：partnerId=ZT-1, partnerSecret=***, net=douyin" in \
        flat(r)
    listing = run("track", "accounts")
    assert "zt-secret" not in listing.output and "zhongtong" in listing.output
    done = run("aftersales", "intercept", CASE, "--via", "kuaidi100")
    assert done.exit_code == 0, done.output
    assert f"{CASE}：已申请拦截 (requested)，途径 kuaidi100 — 快递100：已提交拦截" in flat(done)
    assert len(forms) == 1
    again = run("aftersales", "intercept", CASE)
    assert again.exit_code == 2 and "已申请过拦截" in flat(again)
    listed = run("aftersales", "list", "--status", "intercept")
    assert "kuaidi100" in listed.output and "已申请拦截" in listed.output
    gone = run("track", "intercept-partner", acc, "zhongtong", "--remove")
    assert gone.exit_code == 0 and "还没有拦截用快递账号" in flat(gone)


def test_console_account_form_takes_the_secret_and_never_shows_it(api, fahuo):
    r = api.post("/tracking/accounts", data={
        "provider": "kuaidi100", "name": "主账号", "customer": "C", "key": "K", "salt": "s",
        "secret": "console-secret", "base_url": "https://poll.kuaidi100.com",
        "callback_url": "https://fahuo.example.com"})
    assert r.status_code == 200 and "已添加物流查询账号" in r.text
    assert "console-secret" not in r.text and "未添加快递公司面单账号" in r.text
    with fahuo.uow(readonly=True) as u:
        (acc,) = u.tracking.accounts()
    assert acc["credentials"]["secret"] == "console-secret"
    assert "label_url" not in acc["credentials"]  # an empty field is "not given"


def test_console_offers_no_automatic_retry_when_the_result_is_unknown(api, case, fahuo):
    from sqlalchemy import update

    from fahuo.adapters.store import models as m
    with fahuo.uow() as u:
        u.conn.execute(update(m.after_sales).values(
            intercept_state="unsure", intercept_detail="快递100：结果未知：请先向快递核实"))
    page = api.get("/aftersales").text
    assert "已向快递核实，重新拦截" in page and 'value="kuaidi100"' in page
    assert 'value="auto"' not in page
    r = api.post(f"/aftersales/{case}", data={"action": "intercept", "via": "auto"},
                 follow_redirects=False)
    assert r.status_code == 303 and quote("请先向快递核实，再明确选择拦截途径") in r.headers["location"]
