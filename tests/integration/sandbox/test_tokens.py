"""token.create / token.refresh semantics (doc §5) with sandbox time travel."""
from __future__ import annotations

DAY = 86400


def err(res, code, sub_code):
    assert res["code"] == code and res["sub_code"] == sub_code, res


def test_token_create_self(fresh_client):
    c = fresh_client(shop_id=777001, shop_name="测试小店")
    d = c.login()
    assert set(d) >= {"access_token", "expires_in", "refresh_token", "scope", "shop_id", "shop_name",
                      "authority_id", "auth_subject_type"}
    assert 604790 <= d["expires_in"] <= 604800
    assert d["shop_id"] == 777001 and d["shop_name"] == "测试小店"
    assert c.call("order.searchList", {"size": 1})["total"] == 0
    err(c.raw("token.create", {"grant_type": "authorization_self", "code": "", "shop_id": 123}),
        50002, "dop.token-generate-failed:no-authorization")
    err(c.raw("token.create", {"grant_type": "password"}), 50002, "dop.token-generate-failed:grant-type-invalid")


def test_oauth_code_single_use_and_expiry(fresh_client):
    tool = fresh_client()
    code = tool.admin("/sandbox/oauth/code", {"app_key": tool.key, "shop_id": 555})["code"]
    d = tool.call("token.create", {"grant_type": "authorization_code", "code": code})
    assert d["shop_id"] == 555
    err(tool.raw("token.create", {"grant_type": "authorization_code", "code": code}),
        50002, "dop.token-generate-failed:code-invalid")
    err(tool.raw("token.create", {"grant_type": "authorization_code", "code": "bogus"}),
        50002, "dop.token-generate-failed:code-invalid")
    other = fresh_client()
    code2 = tool.admin("/sandbox/oauth/code", {"app_key": tool.key, "shop_id": 555})["code"]
    err(other.raw("token.create", {"grant_type": "authorization_code", "code": code2}),
        50002, "dop.token-generate-failed:code-invalid")
    code3 = tool.admin("/sandbox/oauth/code", {"app_key": tool.key, "shop_id": 555})["code"]
    tool.travel(601)
    err(tool.raw("token.create", {"grant_type": "authorization_code", "code": code3}),
        50002, "dop.token-generate-failed:code-expired")


def test_access_token_expires_after_seven_days(fresh_client):
    c = fresh_client()
    c.login()
    c.travel(7 * DAY - 60)
    assert c.raw("order.searchList", {"size": 1})["code"] == 10000
    c.travel(7 * DAY + 1)
    err(c.raw("order.searchList", {"size": 1}), 40003, "isv.access-token-expired")


def refresh(c, rt):
    return c.raw("token.refresh", {"grant_type": "refresh_token", "refresh_token": rt})


def test_refresh_early_returns_same_tokens(fresh_client):
    c = fresh_client()
    d = c.login()
    c.travel(2 * DAY)
    r = refresh(c, d["refresh_token"])["data"]
    assert r["access_token"] == d["access_token"] and r["refresh_token"] == d["refresh_token"]
    assert abs(r["expires_in"] - (d["expires_in"] - 2 * DAY)) <= 5  # expiry unchanged


def test_refresh_in_last_hour_rotates_with_grace(fresh_client):
    c = fresh_client()
    d = c.login()
    c.travel(7 * DAY - 1800)
    r = refresh(c, d["refresh_token"])["data"]
    assert r["access_token"] != d["access_token"] and r["refresh_token"] != d["refresh_token"]
    assert 604790 <= r["expires_in"] <= 604800
    # the old pair keeps working for one more hour ...
    assert c.raw("order.searchList", {"size": 1}, access_token=d["access_token"])["code"] == 10000
    assert c.raw("order.searchList", {"size": 1}, access_token=r["access_token"])["code"] == 10000
    c.travel(7 * DAY - 1800 + 3601)
    # ... and not after
    res = c.raw("order.searchList", {"size": 1}, access_token=d["access_token"])
    assert res["code"] == 40003 and res["sub_code"] == "isv.access-token-expired"
    assert c.raw("order.searchList", {"size": 1}, access_token=r["access_token"])["code"] == 10000


def test_refresh_after_access_expiry_invalidates_old(fresh_client):
    c = fresh_client()
    d = c.login()
    c.travel(8 * DAY)
    r = refresh(c, d["refresh_token"])["data"]
    assert r["access_token"] != d["access_token"]
    res = c.raw("order.searchList", {"size": 1}, access_token=d["access_token"])
    assert res["code"] == 40003 and res["sub_code"] in ("isv.access-token-no-existed", "isv.access-token-expired")
    assert c.raw("order.searchList", {"size": 1}, access_token=r["access_token"])["code"] == 10000
    err(refresh(c, d["refresh_token"]), 50002, "isv.business-failed:31009")


def test_dead_refresh_token(fresh_client):
    c = fresh_client()
    d = c.login()
    err(refresh(c, "no-such-token"), 50002, "isv.business-failed:31009")
    c.travel(14 * DAY + 10)
    err(refresh(c, d["refresh_token"]), 50002, "isv.business-failed:31009")
    other = fresh_client()
    other.offset = c.offset
    d2 = other.login()
    err(c.raw("token.refresh", {"grant_type": "refresh_token", "refresh_token": d2["refresh_token"]}),
        50002, "isv.business-failed:31009")
