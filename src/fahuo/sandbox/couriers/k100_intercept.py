"""Kuaidi100 快递拦截 (labelV2 ``POST /label/order``, ``method=interceptOrder``): checks in the
:mod:`fahuo.sandbox` docstring, "Kuaidi100 快递拦截"."""
from __future__ import annotations

import hmac
import json
from typing import Any

from .k100_wire import K100_COMPANIES, k100_sign
from .store import CourierStore
from .timeline import TimelineClosed, due


# labelV2 interceptOrder (official SDK InterceptOrderReq): every field it may carry
LABEL_INTERCEPT_FIELDS = frozenset({
    "orderId", "kuaidicom", "kuaidinum", "partnerId", "partnerKey", "partnerSecret", "partnerName", "code",
    "net", "reason", "interceptType", "recManInfo", "orderRole", "interceptPayType", "salt", "callbackUrl",
    "appKey", "appSecret"})


LABEL_INTERCEPT_TYPES = ("RETURN_SEND_STATION", "RETURN_SEND_ADDR", "MODIFY_ADDR")
LABEL_PAY_TYPES = ("SHIPPER", "CONSIGNEE", "THIRDPARTY", "MONTHLY")


class LabelIntercepts(CourierStore):
    def label_order(self, form: dict[str, str] | None) -> dict[str, Any]:
        res = self._label_order(form)
        self._count("intercepts_accepted" if res["code"] == 200 else "intercepts_rejected")
        return res

    def _label_order(self, form: dict[str, str] | None) -> dict[str, Any]:
        """``POST /label/order``: only ``method=interceptOrder`` is simulated (checks in the
        :mod:`fahuo.sandbox` docstring, "Kuaidi100 快递拦截")."""
        res = self._result
        if form is None:
            return res(400, "请求须为application/x-www-form-urlencoded表单（UTF-8）")
        method = form.get("method")
        if not method:
            return res(400, "缺少参数：method")
        if method != "interceptOrder":
            return res(501, f"沙箱的/label/order只模拟interceptOrder，不支持method {method}")
        missing = [k for k in ("key", "t", "param", "sign") if not form.get(k)]
        if missing:
            return res(400, f"缺少参数：{'、'.join(missing)}")
        key, t, param, sign = form["key"], form["t"], form["param"], form["sign"]
        if not (t.isascii() and t.isdigit() and len(t) == 13):
            return res(400, f"t须为13位毫秒时间戳，收到 {t[:20]!r}")
        acc = self.sb.store.one("SELECT customer, secret FROM k100_accounts WHERE key=?", (key,))
        if acc is None:
            return res(401, "key无效")
        if not acc[1]:
            return res(401, "该账号未开通电子面单/拦截接口（没有secret）")
        if not sign.isascii() or not hmac.compare_digest(k100_sign(param + t + key + acc[1]), sign):
            return res(401, "签名验证失败")
        try:
            p = json.loads(param)
        except ValueError:
            return res(400, "param不是合法的JSON")
        if not isinstance(p, dict):
            return res(400, "param须为JSON对象")
        unknown = sorted(set(p) - LABEL_INTERCEPT_FIELDS)
        if unknown:
            return res(400, f"param含有不支持的字段：{'、'.join(unknown)}")
        texts = [k for k, v in p.items() if k != "recManInfo" and v is not None and not isinstance(v, str)]
        if texts:
            return res(400, f"以下字段须为字符串：{'、'.join(sorted(texts))}")
        com, num = (p.get("kuaidicom") or "").strip(), (p.get("kuaidinum") or "").strip()
        if not com:
            return res(400, "kuaidicom必填")
        if com not in K100_COMPANIES:
            return res(400, f"不支持的快递公司编码：{com}")
        if not num or len(num) > 32:
            return res(400, "kuaidinum必填（1-32位）")
        kind = p.get("interceptType")
        if kind not in LABEL_INTERCEPT_TYPES:
            return res(400, f"interceptType须为{'、'.join(LABEL_INTERCEPT_TYPES)}之一，收到 {kind!r}")
        if kind == "MODIFY_ADDR":
            rec = p.get("recManInfo")
            lack = [k for k in ("name", "mobile", "printAddr")
                    if not isinstance(rec, dict) or not str(rec.get(k) or "").strip()]
            if lack:
                return res(400, f"修改地址（MODIFY_ADDR）须提供recManInfo：缺少{'、'.join(lack)}")
        if not (p.get("partnerId") or "").strip():
            return res(400, "partnerId必填（快递公司电子面单账号）")
        if p.get("orderRole") is not None and p["orderRole"] not in ("1", "2", "3"):
            return res(400, "orderRole须为1（寄方）、2（收方）或3（第三方）")
        if p.get("interceptPayType") is not None and p["interceptPayType"] not in LABEL_PAY_TYPES:
            return res(400, f"interceptPayType须为{'、'.join(LABEL_PAY_TYPES)}之一")
        url = p.get("callbackUrl")
        if url is not None and not url.startswith(("http://", "https://")):
            return res(400, "callbackUrl须为http(s)地址")
        if kind == "MODIFY_ADDR":
            return res(501, "沙箱不模拟修改地址（MODIFY_ADDR）；请用RETURN_SEND_ADDR或RETURN_SEND_STATION")
        with self._lock:
            row = self.track(num)
            if row is None:
                return res(404, f"单号不存在：{num}")
            if row["courier"] != com:
                return res(404, f"单号与快递公司不符：{num} 不是{K100_COMPANIES[com]}的单号")
            now = self.sb.now()
            pushed = self.sb.store.one("SELECT COALESCE(MAX(pushed_upto), 0) FROM k100_subs WHERE number=?",
                                       (num,))[0]
            keep = max(pushed, sum(1 for e in row["events"] if due(e) <= now))
            last = row["events"][keep - 1]["step"] if keep else ""
            if row["anomaly"] == "intercepted" or \
                    self.sb.store.one("SELECT 1 FROM k100_intercepts WHERE number=?", (num,)):
                return res(409, "该单号已拦截，请勿重复提交")
            if last == "signed":
                return res(409, "快件已签收，无法拦截")
            if last == "returned" or last.startswith("return:"):
                return res(409, "快件已在退回途中或已退回寄件人，无需拦截")
            if last == "lost":
                return res(409, "快件已遗失，无法拦截")
            try:
                self._rebuild(num, "intercepted")
            except TimelineClosed as exc:
                return res(409, f"无法拦截：{exc}")
            self.sb.store.write("INSERT INTO k100_intercepts (customer, order_id, number, company, intercept_type,"
                                " partner_id, at) VALUES (?,?,?,?,?,?,?)",
                                (acc[0], str(p.get("orderId") or ""), num, com, kind, p["partnerId"].strip(), now))
        return res(200, "提交成功")

    def _result(self, code: int, message: str, data: Any = None) -> dict[str, Any]:
        """labelV2 ``Result``: ``{code, message, data, time}`` (ms, sandbox clock)."""
        return {"code": code, "message": message, "data": data, "time": int(self.sb.now() * 1000)}
