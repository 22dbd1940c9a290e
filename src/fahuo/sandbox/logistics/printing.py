"""Print data (§9.5, §9.6): ``logistics.waybillApply`` (the encrypted print blob of a number and its
signature) and ``logistics.templateList``.

The templates are the platform's standard ones for every courier of :data:`.waybills.COURIERS`: a
76×130 二联单 (``template_type`` 2) and a 100×180 一联单 (``template_type`` 1) each. The URLs are made
up but shaped like the platform's CDN XML links; nothing fetches them in the sandbox. The typo
``perview_url`` is the platform's own.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import zlib
from typing import Any

from ..gateway import Ctx, api_method
from ..params import bad, list_param, str_param
from .waybills import COURIERS


def _print_blob(track_no: str, info: dict[str, Any], shop_id: int) -> tuple[str, str]:
    plain = json.dumps({"waybillCode": track_no, "routingInfo": info, "shop": shop_id,
                        "pad": hashlib.sha512(track_no.encode()).hexdigest() * 6}, ensure_ascii=False).encode()
    key = hashlib.sha256(b"sandbox-print:" + track_no.encode()).digest() * (len(plain) // 32 + 1)
    blob = base64.b64encode(bytes(a ^ b for a, b in zip(plain, key, strict=False))).decode()
    sign = hmac.new(b"fahuo-sandbox-print", blob.encode(), hashlib.sha256).hexdigest()
    return blob, sign


@api_method("logistics.waybillApply")
def waybill_apply(ctx: Ctx, params: dict[str, Any]) -> Any:
    applies = list_param(params, "waybill_applies", 100)
    wanted = []
    for i, a in enumerate(applies):
        if not isinstance(a, dict):
            raise bad("waybill_applies", f"waybill_applies[{i}]应为对象")
        wanted.append((str_param(a, "logistics_code", f"waybill_applies[{i}].logistics_code"),
                       str_param(a, "track_no", f"waybill_applies[{i}].track_no")))
    infos, errs = [], []
    for code, tn in wanted:
        row = ctx.sb.store.one("SELECT order_id, status, info, logistics_code FROM waybills WHERE track_no=? AND"
                               " shop_id=?", (tn, ctx.shop))
        if row is None or row[3] != code:
            errs.append({"track_no": tn, "order_id": "", "err_code": "10801", "err_msg": f"运单号不存在: {tn}"})
            continue
        if row[1] == "cancelled":
            errs.append({"track_no": tn, "order_id": row[0], "err_code": "10802", "err_msg": f"运单号已取消: {tn}"})
            continue
        blob, sign = _print_blob(tn, json.loads(row[2]), ctx.shop)
        infos.append({"order_id": f"{row[0]}|{ctx.shop}", "track_no": tn, "print_data": blob, "sign": sign})
    return {"waybill_infos": infos, "err_infos": errs}


TEMPLATE_CDN = "https://lf3-cm.ecombdstatic.com/obj/logistics-davinci/template"


# (size suffix, name suffix, template_type, version)
_LAYOUTS = (
    ("76_130", "76*130 二联单", 2, 2),
    ("100_180", "100*180 一联单", 1, 1),
)


def template_infos(code: str) -> list[dict[str, Any]]:
    name = COURIERS[code][0]
    out = []
    for size, label, typ, version in _LAYOUTS:
        tcode = f"{code}_{size}"
        out.append({
            "template_id": 100000 + zlib.crc32(tcode.encode()) % 900000,
            "template_code": tcode,
            "template_name": f"{name}标准模板 {label}",
            "template_url": f"{TEMPLATE_CDN}/{tcode}.xml",
            "version": version,
            "template_type": typ,
            "perview_url": f"{TEMPLATE_CDN}/preview/{tcode}.png",
        })
    return out


@api_method("logistics.templateList")
def template_list(ctx: Ctx, params: dict[str, Any]) -> Any:
    return {"template_data": [{"logistics_code": code, "template_infos": template_infos(code)}
                              for code in COURIERS]}
