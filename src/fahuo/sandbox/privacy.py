"""``order.batchDecrypt`` (doc §7.2): a shop's own order ciphertexts, at most 50 a call.

As on the platform, a ciphertext decrypts only with the order it belongs to (``auth_id``)
and only for the shop the token is for; each item answers for itself (``err_no``), the call
as a whole fails only on a malformed request."""
from __future__ import annotations

from typing import Any

import orjson

from .core import ApiError
from .gateway import Ctx, api_method
from .receivers import decrypt_text

MAX_CIPHERS = 50
# data_type: 1 地址, 2 姓名, 3 手机 (doc §7.2)
_FIELDS = (("encrypt_post_receiver", 2), ("encrypt_post_tel", 3))


def _ciphers_of(order: dict[str, Any]) -> dict[str, int]:
    out = {order.get(k) or "": kind for k, kind in _FIELDS}
    out[(order.get("post_addr") or {}).get("encrypt_detail") or ""] = 1
    out.pop("", None)
    return out


@api_method("order.batchDecrypt")
def batch_decrypt(ctx: Ctx, params: dict[str, Any]) -> Any:
    infos = params.get("cipher_infos")
    if infos in (None, "", []):
        raise ApiError(40002, "isv.parameter-missing:cipher_infos", "缺少cipher_infos")
    if not isinstance(infos, list) or not all(isinstance(i, dict) for i in infos):
        raise ApiError(40003, "isv.parameter-invalid:cipher_infos", "cipher_infos格式错误")
    if len(infos) > MAX_CIPHERS:
        raise ApiError(40003, "isv.parameter-invalid:cipher_infos",
                       f"cipher_infos最多{MAX_CIPHERS}个")
    orders: dict[str, dict[str, int] | None] = {}
    out = []
    for info in infos:
        auth_id, cipher = str(info.get("auth_id") or "").strip(), str(info.get("cipher_text") or "")
        item: dict[str, Any] = {"auth_id": auth_id, "cipher_text": cipher, "decrypt_text": "",
                                "err_no": 0, "err_msg": "", "data_type": 0,
                                "is_virtual_tel": False, "phone_no_a": "", "phone_no_b": "",
                                "expire_time": 0}
        if not (auth_id.isdigit() and auth_id.isascii() and len(auth_id) <= 19) or not cipher:
            item.update(err_no=300008, err_msg="auth_id或cipher_text非法")
            out.append(item)
            continue
        if auth_id not in orders:
            blob = ctx.sb.orders.payload(ctx.shop, int(auth_id))
            orders[auth_id] = _ciphers_of(orjson.loads(blob)) if blob else None
        known = orders[auth_id]
        if known is None:
            item.update(err_no=300002, err_msg="订单不存在或不属于该店铺")
        elif cipher not in known:
            item.update(err_no=300004, err_msg="密文与auth_id不匹配")
        else:
            item.update(decrypt_text=decrypt_text(cipher), data_type=known[cipher])
        out.append(item)
    return {"decrypt_infos": out, "custom_err": {"err_code": 0, "err_msg": ""}}

