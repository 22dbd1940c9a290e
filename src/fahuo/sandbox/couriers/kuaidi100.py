"""Kuaidi100 subscribe (``POST /poll``, §1.3) and query (``POST /poll/query.do``, §1.2), and the
HTTP endpoints of every Kuaidi100 path the sandbox serves (``/label/order`` too)."""
from __future__ import annotations

import hmac
import json
from typing import Any
from urllib.parse import parse_qs

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from .k100_wire import (K100_COMPANIES, PHONE_QUERY, PHONE_SUBSCRIBE, dumps, k100_reply, k100_sign, last_result,
                        phone_tail, route_info)
from .store import CourierStore
from .timeline import due


QUERY_INTERVAL = 30 * 60  # §1.2: one query per waybill per 30 minutes, else 锁单


class Kuaidi100(CourierStore):
    def _key_account(self, key: str) -> str | None:
        r = self.sb.store.one("SELECT customer FROM k100_accounts WHERE key=?", (key,))
        return r[0] if r else None

    def subscribe(self, form: dict[str, str] | None) -> dict[str, Any]:
        res = self._subscribe(form)
        self._count("subscribe_accepted" if res["returnCode"] == "200" else
                    "subscribe_duplicate" if res["returnCode"] == "501" else "subscribe_rejected")
        return res

    def _subscribe(self, form: dict[str, str] | None) -> dict[str, Any]:
        if form is None:
            return k100_reply("700", "数据不合法：请求须为application/x-www-form-urlencoded表单")
        if form.get("schema") != "json":
            return k100_reply("700", "数据不合法：schema须为json")
        try:
            p = json.loads(form.get("param") or "")
        except ValueError:
            return k100_reply("700", "数据不合法：param不是合法的JSON")
        if not isinstance(p, dict):
            return k100_reply("700", "数据不合法：param须为JSON对象")
        key = p.get("key")
        customer = self._key_account(key) if isinstance(key, str) and key else None
        if customer is None:
            return k100_reply("600", "您不是合法的订阅者（key无效）")
        params = p.get("parameters")
        if not isinstance(params, dict):
            return k100_reply("700", "数据不合法：缺少parameters")
        number = str(p.get("number") or "").strip()
        if not number or len(number) > 32 or not all(c.isascii() and (c.isalnum() or c == "-") for c in number):
            return k100_reply("700", "数据不合法：单号为空、过长或含非法字符")
        company = str(p.get("company") or "").strip()
        if not company:
            known = self.track(number) if str(params.get("autoCom") or "") == "1" else None
            if known is None:
                return k100_reply("702", "无法识别快递公司，请传company")
            company = known["courier"]
        if company not in K100_COMPANIES:
            return k100_reply("700", f"数据不合法：不支持的快递公司 {company}")
        url = params.get("callbackurl")
        if not isinstance(url, str) or not url.startswith(("http://", "https://")) or len(url) > 1024:
            return k100_reply("700", "数据不合法：callbackurl缺失或不是http(s)地址")
        salt = params.get("salt")
        if salt is not None and not isinstance(salt, str):
            return k100_reply("700", "数据不合法：salt须为字符串")
        resultv2 = str(params.get("resultv2") if params.get("resultv2") is not None else "")
        if resultv2 not in ("", "0", "1", "2", "4", "6", "8"):
            return k100_reply("700", "数据不合法：resultv2取值错误")
        resultv2 = {"0": "", "2": "1", "6": "4"}.get(resultv2, resultv2)  # older doc levels
        phone = phone_tail(params.get("phone"))
        if company in PHONE_SUBSCRIBE and not phone:
            return k100_reply("700", "数据不合法：顺丰单号订阅须提供收/寄件人电话（可传后四位）")
        now = self.sb.now()
        with self.sb.store.write_lock:
            if self.sb.store.one("SELECT 1 FROM k100_subs WHERE customer=? AND company=? AND number=? AND"
                                 " status='polling'", (customer, company, number)):
                return k100_reply("501", "重复订阅")
            row = self.track(number)
            if row is None:  # a number the sandbox never shipped: it starts moving now
                row = self._insert(number, company, None, int(now), "subscription", p.get("from"), p.get("to"),
                                   {"receiver": phone, "sender": None})
            cur = self.sb.store.conn.execute(
                "INSERT INTO k100_subs (customer, company, number, callbackurl, salt, resultv2, phone, created_at,"
                " status) VALUES (?,?,?,?,?,?,?,?,'polling')", (customer, company, number, url, salt, resultv2, phone, now))
            sid = int(cur.lastrowid or 0)
        self._schedule(sid, self._sub_events(row, company), now, 0, now)
        return k100_reply("200", "提交成功", True)

    def query(self, form: dict[str, str] | None) -> dict[str, Any]:
        res, kind = self._query(form)
        self._count(kind)
        return res

    def _query(self, form: dict[str, str] | None) -> tuple[dict[str, Any], str]:
        bad = "queries_rejected"
        if form is None:
            return k100_reply("400", "找不到对应公司（请求须为表单）"), bad
        customer, sign, param = form.get("customer"), form.get("sign"), form.get("param")
        if not customer or not sign or not param:
            return k100_reply("400", "提交的数据不完整（需要customer、sign、param）"), bad
        r = self.sb.store.one("SELECT key FROM k100_accounts WHERE customer=?", (customer,))
        if r is None:
            return k100_reply("400", "找不到对应公司（customer错误）"), bad
        sign_type = (form.get("signType") or "MD5").upper()
        if sign_type not in ("MD5", "SHA256"):
            return k100_reply("400", f"沙箱不支持signType {sign_type}"), bad
        want = k100_sign(param + r[0] + customer, sha256=sign_type == "SHA256")
        if not sign.isascii() or not hmac.compare_digest(want, sign):
            return k100_reply("503", "验证签名失败"), bad
        try:
            p = json.loads(param)
        except ValueError:
            return k100_reply("400", "提交的数据不完整（param不是合法的JSON）"), bad
        if not isinstance(p, dict):
            return k100_reply("400", "提交的数据不完整（param须为JSON对象）"), bad
        com, num = str(p.get("com") or "").strip(), str(p.get("num") or "").strip()
        if not com or not 6 <= len(num) <= 32:
            return k100_reply("400", "提交的数据不完整（com必填，num须为6-32位）"), bad
        if com not in K100_COMPANIES:
            return k100_reply("400", f"找不到对应公司 {com}"), bad
        phone = phone_tail(p.get("phone"))
        if com in PHONE_QUERY and not phone:
            return k100_reply("408", "手机号码校验失败：顺丰、中通须传收/寄件人电话（可传后四位）"), bad
        row = self.track(num)
        known = {t for t in (row or {}).get("phones", {}).values() if t} if row else set()
        if com in PHONE_QUERY and known and phone not in known:
            return k100_reply("408", "手机号码校验失败：电话后四位与运单不符"), bad
        now = self.sb.now()
        with self.sb.store.write_lock:
            last = self.sb.store.one("SELECT last_at FROM k100_queries WHERE number=?", (num,))
            if last and now - last[0] < QUERY_INTERVAL:
                return k100_reply("502", f"该单号查询过于频繁已锁单，请{int((QUERY_INTERVAL - (now - last[0])) // 60) + 1}"
                                    "分钟后再查（同一单号30分钟内只能查询一次）"), "queries_too_soon"
            self.sb.store.conn.execute("INSERT INTO k100_queries (number, last_at) VALUES (?,?) ON CONFLICT(number)"
                                       " DO UPDATE SET last_at=excluded.last_at", (num, now))
        events = [e for e in self._sub_events(row, com) if due(e) <= now] if row else []
        if not events or row is None:
            return k100_reply("500", "查询无结果，请隔段时间再查"), "queries_no_result"
        rv2 = {"0": "", "2": "1", "6": "4"}.get(str(p.get("resultv2") or ""), str(p.get("resultv2") or ""))
        body = last_result(num, com, events, rv2, "asc" if p.get("order") == "asc" else "desc")
        if rv2 in ("4", "8"):
            body.update(routeInfo=route_info(row["plan"], events), isLoop=False)
        return body, "queries_ok"


async def _form(request: Request) -> dict[str, str] | None:
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype != "application/x-www-form-urlencoded":
        return None
    raw = await request.body()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return None
    return {k: v[0] for k, v in parse_qs(text, keep_blank_values=True).items()}


def _reply(obj: dict[str, Any]) -> Response:
    return Response(dumps(obj), media_type="application/json;charset=UTF-8")


async def k100_subscribe(request: Request) -> Response:
    """``POST /poll`` (§1.3)."""
    return _reply(await run_in_threadpool(request.app.state.sandbox.couriers.subscribe, await _form(request)))


async def k100_query(request: Request) -> Response:
    """``POST /poll/query.do`` (§1.2)."""
    return _reply(await run_in_threadpool(request.app.state.sandbox.couriers.query, await _form(request)))


async def k100_label_order(request: Request) -> Response:
    """``POST /label/order`` (labelV2; ``method=interceptOrder`` only)."""
    return _reply(await run_in_threadpool(request.app.state.sandbox.couriers.label_order, await _form(request)))
