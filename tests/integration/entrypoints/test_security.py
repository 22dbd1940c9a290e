"""Nobody gets in who should not (issue 10 F): OAuth state, login throttling, revocable
sessions, CSRF, security headers, URLs an operator types in."""

from __future__ import annotations

import re
import threading
import time
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from fastapi.testclient import TestClient

from fahuo.entrypoints.web.app import create_app
from fahuo.services.shops import OAUTH_STATE_S, NewShop, add_shop, issue_oauth_state
from fahuo.services.users import (
    FREE_PER_ACCOUNT, FREE_PER_IP, add_user, change_user, issue_token, sign_in,
)
from support import serve_in_thread

PASSWORD = "correct horse"


def _client(fahuo, **kw) -> TestClient:
    return TestClient(create_app(fahuo, embedded_worker=False), follow_redirects=False, **kw)


def _csrf(client, page="/") -> str:
    return re.search(r'name="csrf-token" content="([0-9a-f]+)"', client.get(page).text)[1]


def _signed_in(fahuo, name="boss", password=PASSWORD) -> TestClient:
    c = _client(fahuo)
    r = c.post("/login", data={"username": name, "password": password,
                               "csrf_token": _csrf(c, "/login")})
    assert r.status_code == 303 and r.headers["location"] == "/", r.text
    return c


def _audit(fahuo, action):
    from sqlalchemy import select

    from fahuo.adapters.store import models as m
    t = m.audit_log
    with fahuo.uow() as uow:
        return [dict(r._mapping) for r in uow.conn.execute(
            select(t.c.actor, t.c.subject_id, t.c.detail).where(t.c.action == action)
            .order_by(t.c.id))]


# ---- OAuth ------------------------------------------------------------------------------

@pytest.fixture
def tool_shop(fahuo, sandbox):
    """Shop #1, a tool app authorised by its admin through the console's "authorise" button."""
    creds = sandbox.new_app(qps=1000)
    with fahuo.uow() as uow:
        ref = add_shop(uow, NewShop(shop_id=str(creds["shop_id"]), app_key=creds["app_key"],
                                    app_secret=creds["app_secret"], gateway_url=sandbox.url,
                                    auth_type="oauth"))
    add_user(fahuo.uow, "boss", PASSWORD, actor="t")
    return ref, creds


def _code(sandbox, creds, shop_id) -> str:
    return sandbox.http.post("/sandbox/oauth/code", json={"app_key": creds["app_key"],
                                                          "shop_id": shop_id}).json()["code"]


def _state_from_button(admin: TestClient, ref: int) -> str:
    r = admin.post(f"/shops/{ref}/authorize", data={"service_id": "7001",
                                                     "csrf_token": _csrf(admin, f"/shops/{ref}")})
    assert r.status_code == 303
    to = urlsplit(r.headers["location"])
    assert to.netloc == "fuwu.jinritemai.com" and to.path == "/authorize"
    q = parse_qs(to.query)
    assert q["service_id"] == ["7001"]
    return q["state"][0]


def _token(fahuo, ref):
    with fahuo.uow() as uow:
        return uow.shops.load_tokens(ref)


def test_another_shops_code_never_replaces_a_shops_token(fahuo, sandbox, tool_shop):
    ref, creds = tool_shop
    admin = _signed_in(fahuo)
    state = _state_from_button(admin, ref)
    ok = admin.get("/oauth/doudian/callback", params={"code": _code(sandbox, creds,
                                                                     creds["shop_id"]),
                                                      "state": state})
    assert ok.status_code == 303 and "%E6%88%90%E5%8A%9F" in ok.headers["location"]  # 成功
    mine = _token(fahuo, ref)["access_token"]
    other = creds["shop_id"] + 1  # a second shop that authorised the same app
    # 1. the old attack: no sign-in, state = the shop number
    stranger = _client(fahuo)
    r = stranger.get("/oauth/doudian/callback",
                     params={"code": _code(sandbox, creds, other), "state": str(ref)})
    assert r.status_code == 303 and r.headers["location"].startswith("/login")
    # 2. even a valid state, used by the admin, with a code for another shop is refused
    state = _state_from_button(admin, ref)
    r = admin.get("/oauth/doudian/callback", params={"code": _code(sandbox, creds, other),
                                                     "state": state})
    assert r.status_code == 403 and "another shop" in r.text
    assert _token(fahuo, ref)["access_token"] == mine
    refused = _audit(fahuo, "shop.oauth_refused")
    assert [a["subject_id"] for a in refused] == [str(ref)]
    assert f'"token_shop_id": "{other}"' in refused[0]["detail"]


def test_a_state_works_once_in_time_and_only_for_whoever_asked(fahuo, sandbox, tool_shop):
    ref, creds = tool_shop
    admin = _signed_in(fahuo)
    state = _state_from_button(admin, ref)
    code = _code(sandbox, creds, creds["shop_id"])
    assert "%E6%88%90%E5%8A%9F" in admin.get("/oauth/doudian/callback", params={
        "code": code, "state": state}).headers["location"]
    first = _token(fahuo, ref)["access_token"]
    again = admin.get("/oauth/doudian/callback", params={
        "code": _code(sandbox, creds, creds["shop_id"]), "state": state})
    assert again.status_code == 403 and "already used" in again.text
    key = fahuo.box.derive("oauth-state")
    old = issue_oauth_state(fahuo.uow, key, ref, user_id=1, actor="boss",
                            now=int(time.time()) - OAUTH_STATE_S - 1)
    late = admin.get("/oauth/doudian/callback", params={
        "code": _code(sandbox, creds, creds["shop_id"]), "state": old})
    assert late.status_code == 403 and "expired" in late.text
    nonce, _, sig = state.partition(".")
    forged = admin.get("/oauth/doudian/callback", params={
        "code": _code(sandbox, creds, creds["shop_id"]), "state": nonce + "." + "0" * 32})
    assert forged.status_code == 403 and "not one fahuo issued" in forged.text
    add_user(fahuo.uow, "second", "second admin", role="admin", actor="t")
    theirs = issue_oauth_state(fahuo.uow, key, ref, user_id=1, actor="boss")
    other_admin = _signed_in(fahuo, "second", "second admin")
    r = other_admin.get("/oauth/doudian/callback", params={
        "code": _code(sandbox, creds, creds["shop_id"]), "state": theirs})
    assert r.status_code == 403 and "another user" in r.text
    assert _token(fahuo, ref)["access_token"] == first
    reasons = [a["detail"] for a in _audit(fahuo, "shop.oauth_refused")]
    assert len(reasons) == 4


def test_only_an_admin_gets_a_state(fahuo, sandbox, tool_shop):
    ref, _ = tool_shop
    add_user(fahuo.uow, "packer", "packer pass", actor="t")
    c = _client(fahuo)
    packer, boss = (issue_token(fahuo.uow, n, actor="t") for n in ("packer", "boss"))
    assert c.post(f"/api/shops/{ref}/oauth-state",
                  headers={"Authorization": f"Bearer {packer}"}).status_code == 403
    r = c.post(f"/api/shops/{ref}/oauth-state", params={"service_id": "7001"},
               headers={"Authorization": f"Bearer {boss}"})
    assert r.status_code == 201 and "state=" in r.json()["authorize_url"]


# ---- sign-in throttling -----------------------------------------------------------------

def test_failures_back_off_per_account_and_per_address(fahuo_any_db):
    fahuo = fahuo_any_db
    add_user(fahuo.uow, "boss", PASSWORD, actor="t")
    now = [1_000_000.0]

    def clock():
        return now[0]

    for _ in range(FREE_PER_ACCOUNT):
        assert sign_in(fahuo.uow, "boss", "nope", ip="10.0.0.1", clock=clock).retry_after == 0
        now[0] += 0.1
    # the next try waits 1 s after the last failure, even with the right password
    got = sign_in(fahuo.uow, "boss", PASSWORD, ip="10.0.0.9", clock=clock)
    assert got.user is None and 0.8 < got.retry_after <= 1.0
    now[0] += 1.01
    assert sign_in(fahuo.uow, "boss", "nope", ip="10.0.0.1", clock=clock).retry_after == 0
    got = sign_in(fahuo.uow, "boss", PASSWORD, clock=clock)
    assert got.user is None and 1.9 < got.retry_after <= 2.0  # doubled
    now[0] += 2.01
    assert sign_in(fahuo.uow, "boss", PASSWORD, clock=clock).user.username == "boss"
    # a success clears the account's count
    assert sign_in(fahuo.uow, "boss", "nope", clock=clock).retry_after == 0
    # one address trying many names is throttled too
    for i in range(FREE_PER_IP):
        assert sign_in(fahuo.uow, f"guess{i}", "x", ip="10.6.6.6", clock=clock).retry_after == 0
    assert sign_in(fahuo.uow, "boss", PASSWORD, ip="10.6.6.6", clock=clock).retry_after > 0
    assert sign_in(fahuo.uow, "boss", PASSWORD, ip="10.0.0.2", clock=clock).user is not None
    failed = _audit(fahuo, "user.login_failed")
    assert len(failed) == FREE_PER_ACCOUNT + 1 + 1 + FREE_PER_IP
    assert '"ip": "10.6.6.6"' in failed[-1]["detail"]


def test_a_login_flood_is_throttled_and_the_server_keeps_answering(fahuo):
    add_user(fahuo.uow, "boss", PASSWORD, actor="t")
    results: list[int] = []
    health: list[float] = []
    errors: list[str] = []
    with serve_in_thread(create_app(fahuo, embedded_worker=False)) as url:
        # four argon2 checks at once take seconds on a busy 2-core machine
        stop = time.monotonic() + 10.0

        def flood() -> None:
            with httpx.Client(base_url=url, timeout=30) as h:
                while time.monotonic() < stop:
                    r = h.post("/login", data={"username": "boss", "password": "wrong"})
                    results.append(r.status_code)

        def probe() -> None:
            with httpx.Client(base_url=url, timeout=30) as h:
                while time.monotonic() < stop:
                    t = time.monotonic()
                    r = h.get("/healthz")
                    health.append(time.monotonic() - t)
                    if r.status_code != 200:
                        errors.append(r.text)
                    time.sleep(0.05)

        def writer() -> None:  # what a worker task does meanwhile: short write transactions
            while time.monotonic() < stop:
                try:
                    with fahuo.uow() as uow:
                        uow.audit.add(actor="worker", action="tick", subject_type="t",
                                      subject_id="1")
                except Exception as exc:  # noqa: BLE001 - the failure is what is tested
                    errors.append(str(exc))
                time.sleep(0.05)

        threads = ([threading.Thread(target=flood) for _ in range(4)]
                   + [threading.Thread(target=probe), threading.Thread(target=writer)])
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert errors == []
    assert set(results) <= {303, 429} and results.count(429) > results.count(303)
    # Tries are claimed before the hash is checked: the free ones, then one per back-off
    # period (1 s, 2 s, 4 s, …) however many threads hammer at once.
    checked = len(_audit(fahuo, "user.login_failed"))
    assert FREE_PER_ACCOUNT <= checked <= FREE_PER_ACCOUNT + 4
    # (the machine running the tests is shared: seconds-long stalls are what is ruled out)
    assert len(health) > 10 and max(health) < 2.0, health
    assert sorted(health)[len(health) // 2] < 0.5, health


# ---- sessions ---------------------------------------------------------------------------

def test_a_cookie_stops_working_after_logout_password_change_or_sign_out(fahuo, run):
    add_user(fahuo.uow, "boss", PASSWORD, actor="t")
    add_user(fahuo.uow, "packer", "packer pass", actor="t")
    # logout
    c = _signed_in(fahuo)
    cookie = c.cookies.get("fahuo_session")
    assert c.post("/logout", data={"csrf_token": _csrf(c)}).status_code == 303
    replay = _client(fahuo)
    replay.cookies.set("fahuo_session", cookie)
    assert replay.get("/").status_code == 303
    # password change (by anyone: API, CLI or the service)
    c = _signed_in(fahuo)
    assert c.get("/").status_code == 200
    change_user(fahuo.uow, "boss", actor="t", password="a new horse")
    assert c.get("/").status_code == 303
    assert c.get("/api/me").status_code == 401
    # an admin signs someone out everywhere: console
    boss = _signed_in(fahuo, password="a new horse")
    p1, p2 = _signed_in(fahuo, "packer", "packer pass"), _signed_in(fahuo, "packer",
                                                                    "packer pass")
    page = boss.get("/users").text
    assert 'value="sign_out">在所有设备退出（2 个会话）' in page
    r = boss.post("/users", data={"action": "sign_out", "username": "packer",
                                  "csrf_token": _csrf(boss, "/users")})
    assert "2" in r.headers["location"]
    assert p1.get("/").status_code == 303 and p2.get("/").status_code == 303
    assert boss.get("/").status_code == 200  # only that user's sessions
    # … API
    p3 = _signed_in(fahuo, "packer", "packer pass")
    token = issue_token(fahuo.uow, "boss", actor="t")
    r = _client(fahuo).post("/api/users/packer/sign-out",
                            headers={"Authorization": f"Bearer {token}"})
    assert r.json() == {"ended": 1} and p3.get("/").status_code == 303
    # … CLI
    p4 = _signed_in(fahuo, "packer", "packer pass")
    out = run("user", "sign-out", "packer")
    assert out.exit_code == 0, out.output
    assert p4.get("/").status_code == 303
    assert len(_audit(fahuo, "user.sign_out_everywhere")) == 3


def test_sessions_and_states_on_either_database(fahuo_any_db):
    from fahuo.services.shops import OAuthRefused, use_oauth_state
    from fahuo.services.users import (
        end_session, sign_out_everywhere, start_session, user_by_session,
    )
    fh = fahuo_any_db
    boss = add_user(fh.uow, "boss", PASSWORD, actor="t")
    a, b = start_session(fh.uow, boss), start_session(fh.uow, boss)
    assert user_by_session(fh.uow, a) == boss and user_by_session(fh.uow, b) == boss
    assert user_by_session(fh.uow, a, now=int(time.time()) + 12 * 3600 + 1) is None
    end_session(fh.uow, a)
    assert user_by_session(fh.uow, a) is None and user_by_session(fh.uow, b) == boss
    assert sign_out_everywhere(fh.uow, "boss", actor="t") == 1
    assert user_by_session(fh.uow, b) is None
    with fh.uow() as uow:
        ref = add_shop(uow, NewShop(shop_id="5", app_key="1" * 19, app_secret="s",
                                    gateway_url="http://127.0.0.1:1"))
    key = fh.box.derive("oauth-state")
    state = issue_oauth_state(fh.uow, key, ref, user_id=boss.id, actor="boss")
    assert use_oauth_state(fh.uow, key, state, user_id=boss.id) == ref
    with pytest.raises(OAuthRefused, match="already used"):
        use_oauth_state(fh.uow, key, state, user_id=boss.id)


# ---- CSRF -------------------------------------------------------------------------------

def test_a_cross_site_form_cannot_use_a_valid_cookie(fahuo):
    add_user(fahuo.uow, "boss", PASSWORD, actor="t")
    c = _signed_in(fahuo)
    token = _csrf(c, "/users")
    form = {"action": "add", "username": "mallory", "password": "12345678", "role": "admin"}
    # another site's page posting the form: the browser sends the cookie and its Origin
    r = c.post("/users", data=form, headers={"Origin": "https://evil.example"})
    assert r.status_code == 403
    r = c.post("/users", data=form | {"csrf_token": token},
               headers={"Origin": "https://evil.example"})
    assert r.status_code == 403  # even with a token somehow learnt
    r = c.post("/users", data=form, headers={"Sec-Fetch-Site": "cross-site"})
    assert r.status_code == 403
    r = c.post("/users", data=form)  # no token at all (an old browser, no Origin)
    assert r.status_code == 403
    r = c.post("/users", data=form | {"csrf_token": "0" * 64})
    assert r.status_code == 403
    # JSON from a script with the cookie needs the header token as well
    r = c.post("/api/users", json={"username": "mallory", "password": "12345678"})
    assert r.status_code == 403
    # a file posted with the cookie (a form another site can send) is checked too
    r = c.post("/api/ship/import", params={"dry_run": "false"},
               files={"file": ("t.csv", b"order_id,track_no\n", "text/csv")})
    assert r.status_code == 403 and "CSRF" in r.json()["message"]
    with fahuo.uow() as uow:
        assert uow.users.by_name("mallory") is None
    # the console's own form works
    r = c.post("/users", data=form | {"csrf_token": token},
               headers={"Origin": str(c.base_url)})
    assert r.status_code == 303 and "mallory" in r.headers["location"]
    with fahuo.uow() as uow:
        assert uow.users.by_name("mallory")["role"] == "admin"
    # API calls with a Bearer token, and webhooks, need no CSRF token
    bearer = issue_token(fahuo.uow, "boss", actor="t")
    r = _client(fahuo).post("/api/users", json={"username": "api-made", "password": "12345678"},
                            headers={"Authorization": f"Bearer {bearer}",
                                     "Origin": "https://anything.example"})
    assert r.status_code == 201
    assert c.post("/webhooks/doudian", content=b"[]").status_code in (401, 403)
    assert "CSRF" not in c.post("/webhooks/doudian", content=b"[]").text


def test_every_console_form_carries_the_token(fahuo):
    from pathlib import Path

    from fahuo.entrypoints.web import app
    pages = list((Path(app.__file__).parent / "templates").glob("*.html"))
    assert len(pages) > 20
    for page in pages:
        html = page.read_text()
        for form in re.findall(r"<form\b[^>]*>.{0,200}", html, flags=re.S):
            if 'method="post"' in form:
                assert 'name="csrf_token"' in form, (page.name, form[:80])
        assert "<script>" not in html and " style=" not in html and "hx-on" not in html, \
            page.name  # nothing inline: the CSP allows only files from this site


# ---- headers, cookies -------------------------------------------------------------------

def test_security_headers_and_secure_cookies(fahuo):
    add_user(fahuo.uow, "boss", PASSWORD, actor="t")
    c = _client(fahuo)
    for path in ("/login", "/", "/healthz", "/api/orders", "/static/console.css"):
        h = c.get(path).headers
        assert h["x-frame-options"] == "DENY" and h["x-content-type-options"] == "nosniff"
        assert h["referrer-policy"] == "same-origin"
        csp = h["content-security-policy"]
        assert "frame-ancestors 'none'" in csp and "script-src 'self';" in csp
        assert "unsafe" not in csp
    def cookie_from(client, headers=None) -> str:
        r = client.post("/login", data={"username": "boss", "password": PASSWORD,
                                        "csrf_token": _csrf(client, "/login")},
                        headers=headers or {})
        assert r.status_code == 303
        return r.headers["set-cookie"].lower()

    assert "; secure" not in cookie_from(_client(fahuo))
    https = TestClient(create_app(fahuo, embedded_worker=False), base_url="https://testserver",
                       follow_redirects=False)
    assert "; secure" in cookie_from(https)
    # behind a proxy, only when told to trust it
    proxied = {"X-Forwarded-Proto": "https"}
    assert "; secure" not in cookie_from(_client(fahuo), proxied)
    fahuo.settings.trust_proxy_headers = True
    try:
        assert "; secure" in cookie_from(_client(fahuo, headers=proxied))
    finally:
        fahuo.settings.trust_proxy_headers = False


# ---- URLs an operator enters ------------------------------------------------------------

@pytest.mark.parametrize("url, wrong", [
    ("ftp://example.com/x", "http 或 https"), ("https://", "主机名"),
    ("https://user:pw@example.com", "用户名或密码"), ("https://a.example/" + "x" * 300, "太长"),
    ("https://exa mple.com", "空格"), ("javascript:alert(1)", "http 或 https"),
    ("https://example.com:99999", "有效"),
])
def test_bad_urls_are_named(url, wrong):
    from fahuo.domain.urls import url_problem
    assert wrong in url_problem(url)


def test_only_an_admin_points_a_shop_at_another_gateway(fahuo):
    add_user(fahuo.uow, "boss", PASSWORD, actor="t")
    add_user(fahuo.uow, "packer", "packer pass", actor="t")
    c = _client(fahuo)
    packer, boss = (issue_token(fahuo.uow, n, actor="t") for n in ("packer", "boss"))
    shop = {"shop_id": "77", "app_key": "1" * 19, "app_secret": "s"}
    as_packer = {"Authorization": f"Bearer {packer}"}
    r = c.post("/api/shops", json=shop | {"gateway_url": "https://collect.evil.example"},
               headers=as_packer)
    assert r.status_code == 409 and "管理员" in r.json()["problems"]["gateway_url"]
    for ok in ("https://openapi-fxg.jinritemai.com", "http://127.0.0.1:8700"):
        r = c.post("/api/shops", json=shop | {"gateway_url": ok, "shop_id": str(len(ok))},
                   headers=as_packer)
        assert r.status_code == 201, r.text
    r = c.post("/api/shops", json=shop | {"gateway_url": "https://collect.evil.example"},
               headers={"Authorization": f"Bearer {boss}"})
    assert r.status_code == 201
    r = c.post("/api/shops", json=shop | {"gateway_url": "https://u:p@openapi-fxg.jinritemai.com",
                                          "shop_id": "78"},
               headers={"Authorization": f"Bearer {boss}"})
    assert r.status_code == 409 and "用户名或密码" in r.json()["problems"]["gateway_url"]


def test_tracking_callbacks_and_alert_webhooks_are_checked(fahuo):
    from fahuo.bootstrap import add_account
    from fahuo.services.tracking import TrackingError
    from fahuo.bootstrap import add_channel
    from fahuo.services.watch import WatchError
    with pytest.raises(TrackingError, match="callback_url.*用户名或密码"):
        add_account(fahuo.uow, "kuaidi100", "k", {"customer": "c", "key": "k", "salt": "s"},
                    "https://poll.kuaidi100.com", "https://me:pw@fahuo.example.com")
    with pytest.raises(WatchError, match="url: 必须是 http 或 https"):
        add_channel(fahuo.uow, "hook", "webhook", {"url": "file:///etc/passwd", "secret": "s"},
                    ["*"])
