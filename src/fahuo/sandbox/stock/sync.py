"""``sku.syncStock`` / ``sku.syncStockBatch`` / ``sku.stockNum`` (§11) and the admin view of a shop's stock."""
from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from ..catalogue import ALL_SKUS, CATALOGUE
from ..core import ApiError
from ..gateway import Ctx, api_method
from ..params import bad, id_param, missing, p_bool, p_int
from .ledger import INITIAL_STOCK, ensure_shop, prehold, seed

if TYPE_CHECKING:
    from ..core import Sandbox

BATCH_MAX = 100  # sku_sync_list entries per call (doc silent; a product has at most a dozen SKUs)
IDEMPOTENT_MAX = 64
BIZ = "isv.business-failed:11"

SKU_BY_ID: dict[int, tuple[dict[str, Any], dict[str, Any]]] = {s["sku_id"]: (p, s) for p, s in ALL_SKUS}
SKU_BY_CODE: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {s["code"]: (p, s) for p, s in ALL_SKUS}
PRODUCT_BY_ID: dict[int, dict[str, Any]] = {p["product_id"]: p for p in CATALOGUE}


def biz(msg: str) -> ApiError:
    return ApiError(50002, BIZ, msg)


# ---------------------------------------------------------------------------- parameters

def _idempotent(params: dict[str, Any], incremental: bool) -> str | None:
    v = params.get("idempotent_id")
    if v is None or (isinstance(v, str) and not v.strip()):
        if incremental:
            raise missing("idempotent_id", "incremental=true时idempotent_id必填")
        return None
    if isinstance(v, bool) or not isinstance(v, (str, int)) or len(str(v)) > IDEMPOTENT_MAX:
        raise bad("idempotent_id", f"idempotent_id应为不超过{IDEMPOTENT_MAX}位的字符串")
    return str(v).strip() if incremental else None  # ignored on absolute syncs (GO: 仅incremental=true时有用)


def _opt_id(params: dict[str, Any], name: str, label: str | None = None) -> int | None:
    v = params.get(name)
    if v is None or v == "":
        return None
    return id_param(v, label or name)


def _code(params: dict[str, Any]) -> str | None:
    v = params.get("code")
    if v is None or v == "":
        return None
    if not isinstance(v, str):
        raise bad("code", "code应为字符串（sku商家编码）")
    return v.strip()


def _no_warehouse(params: dict[str, Any]) -> None:
    wh = params.get("out_warehouse_id")
    if wh not in (None, ""):
        raise biz(f"区域库存未开通，仓库不存在: out_warehouse_id={wh}")


def _resolve(sku_id: int | None, code: str | None, out_sku_id: Any = None) -> tuple[dict[str, Any], dict[str, Any]]:
    """(product, sku) of the catalogue, or a business error naming what is wrong."""
    by_id = SKU_BY_ID.get(sku_id) if sku_id is not None else None
    by_code = SKU_BY_CODE.get(code) if code is not None else None
    if sku_id is not None and by_id is None:
        raise biz(f"sku不存在: {sku_id}")
    if code is not None and by_code is None:
        raise biz(f"sku商家编码不存在: {code}")
    if by_id and by_code and by_id[1]["sku_id"] != by_code[1]["sku_id"]:
        raise biz(f"sku_id与code不是同一个sku: sku_id {sku_id}，code {code} 属于 sku {by_code[1]['sku_id']}")
    hit = by_id or by_code
    if hit is None:  # only out_sku_id: sandbox SKUs carry no numeric external id
        raise biz(f"外部sku id不存在: out_sku_id={out_sku_id}")
    return hit


def _check_product(product_id: int, prod: dict[str, Any], sku: dict[str, Any]) -> None:
    if product_id not in PRODUCT_BY_ID:
        raise biz(f"商品不存在: {product_id}")
    if prod["product_id"] != product_id:
        raise biz(f"sku {sku['sku_id']} 不属于商品 {product_id}（属于商品 {prod['product_id']}）")


def _step_zero(d: dict[str, Any], name: str, label: str) -> None:
    step = p_int(d, name, 0, lo=0)
    if step:
        raise biz(f"{label}不是阶梯库存sku，不能设置step_stock_num")


# ---------------------------------------------------------------------------- writing

def _log(conn: Any, shop_id: int, method: str, now: int, product_id: Any, incremental: bool, idem: str | None,
         skus: list[dict[str, Any]], err: ApiError | None) -> None:
    conn.execute("INSERT INTO stock_syncs (shop_id, method, at, product_id, incremental, idempotent_id, skus, code,"
                 " sub_code, sub_msg) VALUES (?,?,?,?,?,?,?,?,?,?)",
                 (shop_id, method, now, None if product_id is None else str(product_id), int(incremental), idem,
                  json.dumps(skus), err.code if err else 10000, err.sub_code if err else "",
                  err.sub_msg if err else ""))


def _logged(method: str):
    """Run a sync handler, recording every call that reaches it (refused ones too, with their error)."""

    def deco(fn):
        def handler(ctx: Ctx, params: dict[str, Any]) -> Any:
            try:
                return fn(ctx, params)
            except ApiError as err:
                raw = params.get("sku_sync_list")
                skus = ([{"sku_id": str(x.get("sku_id")), "stock_num": x.get("stock_num")} for x in raw
                         if isinstance(x, dict)] if isinstance(raw, list)
                        else [{"sku_id": None if params.get("sku_id") is None else str(params.get("sku_id")),
                               "code": params.get("code"), "stock_num": params.get("stock_num")}])
                idem = params.get("idempotent_id")
                with ctx.sb.store.transaction() as conn:
                    _log(conn, ctx.shop, method, int(ctx.now), params.get("product_id"),
                         params.get("incremental") in (True, "true", 1),
                         str(idem) if isinstance(idem, (str, int)) and not isinstance(idem, bool) else None, skus, err)
                raise

        handler.__name__ = fn.__name__
        return handler

    return deco


def _apply(ctx: Ctx, method: str, product_id: int, incremental: bool, idem: str | None,
           changes: list[tuple[dict[str, Any], int]]) -> None:
    """One transaction: idempotency, every SKU's new value (none may go below 0), the log row."""
    sb, now, shop = ctx.sb, int(ctx.now), ctx.shop
    with sb.store.transaction() as conn:
        ensure_shop(conn, shop, now)
        if idem is not None and conn.execute("SELECT 1 FROM stock_idempotent WHERE shop_id=? AND idempotent_id=?",
                                             (shop, idem)).fetchone():
            raise ApiError(40003, "isv.idempotent-id-existed", f"幂等ID已存在，请勿重复提交: {idem}")
        logged, short = [], []
        for sku, n in changes:
            before = conn.execute("SELECT stock_num FROM stock WHERE shop_id=? AND sku_id=?",
                                  (shop, sku["sku_id"])).fetchone()[0]
            after = before + n if incremental else n
            if after < 0:
                short.append(f"sku {sku['sku_id']} 当前库存{before}，增量{n}")
            logged.append({"sku_id": str(sku["sku_id"]), "code": sku["code"], "stock_num": n, "before": before,
                           "after": after})
        if short:  # all or nothing: the whole call fails, the transaction rolls back
            raise biz("库存不足，增量更新后库存不能小于0: " + "；".join(short))
        for row in logged:
            if incremental:  # a delta keeps the count of units sold since the last absolute sync
                conn.execute("UPDATE stock SET stock_num=?, synced_at=?, update_time=? WHERE shop_id=? AND sku_id=?",
                             (row["after"], now, now, shop, int(row["sku_id"])))
            else:
                conn.execute("UPDATE stock SET stock_num=?, sold_since_sync=0, synced_at=?, update_time=?"
                             " WHERE shop_id=? AND sku_id=?", (row["after"], now, now, shop, int(row["sku_id"])))
        if idem is not None:
            conn.execute("INSERT INTO stock_idempotent (shop_id, idempotent_id, method, at) VALUES (?,?,?,?)",
                         (shop, idem, method, now))
        _log(conn, shop, method, now, product_id, incremental, idem, logged, None)


# ---------------------------------------------------------------------------- sku.syncStock (§11.1)

@api_method("sku.syncStock")
@_logged("sku.syncStock")
def sync_stock(ctx: Ctx, params: dict[str, Any]) -> Any:
    sku_id = _opt_id(params, "sku_id")
    code = _code(params)
    out_sku_id = params.get("out_sku_id")
    if sku_id is None and code is None and out_sku_id in (None, ""):
        raise missing("sku_id", "sku_id、code、out_sku_id至少传一个")
    product_id = _opt_id(params, "product_id")
    if product_id is None:
        if params.get("out_product_id") not in (None, ""):
            raise biz(f"外部商品id不存在: out_product_id={params.get('out_product_id')}")
        raise missing("product_id")
    incremental = p_bool(params, "incremental", False)
    idem = _idempotent(params, incremental)
    n = p_int(params, "stock_num", None)
    if n is None:
        raise missing("stock_num")
    if not incremental and n < 0:
        raise bad("stock_num", "stock_num不能小于0")
    _no_warehouse(params)
    prod, sku = _resolve(sku_id, code, out_sku_id)
    _step_zero(params, "step_stock_num", f"sku {sku['sku_id']} ")
    _check_product(product_id, prod, sku)
    _apply(ctx, "sku.syncStock", product_id, incremental, idem, [(sku, n)])
    return {}


# ---------------------------------------------------------------------------- sku.syncStockBatch (§11.2)

@api_method("sku.syncStockBatch")
@_logged("sku.syncStockBatch")
def sync_stock_batch(ctx: Ctx, params: dict[str, Any]) -> Any:
    product_id = _opt_id(params, "product_id")
    if product_id is None:
        raise missing("product_id")
    incremental = p_bool(params, "incremental", False)
    idem = _idempotent(params, incremental)
    items = params.get("sku_sync_list")
    if items is None or items == []:
        raise missing("sku_sync_list")
    if not isinstance(items, list):
        raise bad("sku_sync_list", "sku_sync_list应为数组")
    if len(items) > BATCH_MAX:
        raise bad("sku_sync_list", f"sku_sync_list最多{BATCH_MAX}条，实际{len(items)}条")
    parsed: list[tuple[int, int, int]] = []
    for i, it in enumerate(items):
        lab = f"sku_sync_list[{i}]"
        if not isinstance(it, dict):
            raise bad("sku_sync_list", f"{lab}应为对象")
        if it.get("sku_id") in (None, ""):
            raise missing(f"{lab}.sku_id")
        sid = id_param(it.get("sku_id"), f"{lab}.sku_id")
        st = p_int(it, "sku_type", 0)
        if st not in (0, 1, 10):
            raise bad(f"{lab}.sku_type", f"{lab}.sku_type仅支持0（普通）、1（区域）、10（阶梯）")
        n = p_int(it, "stock_num", 0)  # the GO SDK omits 0 (omitempty): absent means 0
        if not incremental and n < 0:
            raise bad(f"{lab}.stock_num", f"{lab}.stock_num不能小于0")
        p_int(it, "step_stock_num", 0, lo=0)
        parsed.append((sid, st, n))
    ids = [p[0] for p in parsed]
    dup = sorted({x for x in ids if ids.count(x) > 1})
    if dup:
        raise bad("sku_sync_list", "sku_sync_list中sku_id重复: " + ",".join(map(str, dup)))
    # all or nothing: every bad SKU is named, nothing is written
    wrong, changes = [], []
    if product_id not in PRODUCT_BY_ID:
        raise biz(f"商品不存在: {product_id}（整批未更新）")
    for (sid, st, n), it in zip(parsed, items, strict=True):
        hit = SKU_BY_ID.get(sid)
        if hit is None:
            wrong.append(f"{sid}（sku不存在）")
        elif hit[0]["product_id"] != product_id:
            wrong.append(f"{sid}（属于商品 {hit[0]['product_id']}）")
        elif st != 0:
            wrong.append(f"{sid}（不是{'区域' if st == 1 else '阶梯'}库存sku）")
        elif p_int(it, "step_stock_num", 0):
            wrong.append(f"{sid}（不是阶梯库存sku）")
        else:
            changes.append((hit[1], n))
    if wrong:
        raise biz(f"以下sku信息不正确，整批未更新（商品 {product_id}）: " + "，".join(wrong))
    _apply(ctx, "sku.syncStockBatch", product_id, incremental, idem, changes)
    return {}


# ---------------------------------------------------------------------------- sku.stockNum (§11.3)

@api_method("sku.stockNum")
def stock_num(ctx: Ctx, params: dict[str, Any]) -> Any:
    sku_id = _opt_id(params, "sku_id")
    code = _code(params)
    if sku_id is None and code is None:
        raise missing("sku_id", "sku_id和code至少传一个")
    _no_warehouse(params)
    _, sku = _resolve(sku_id, code)
    sb = ctx.sb
    seed(sb, ctx.shop)
    n = sb.store.one("SELECT stock_num FROM stock WHERE shop_id=? AND sku_id=?", (ctx.shop, sku["sku_id"]))[0]
    held = prehold(sb, ctx.shop, sku["sku_id"]).get(sku["sku_id"], 0)
    return {"sku_id": sku["sku_id"], "out_sku_id": 0, "code": sku["code"], "sku_type": 0,
            "stock_num": n, "prehold_stock_num": held, "prom_stock_num": 0, "step_stock_num": 0,
            "prehold_step_stock_num": 0, "prom_step_stock_num": 0, "normal_stock_num": n, "channel_stock_num": 0,
            "stock_num_map": {}, "prehold_stock_map": {}, "ship_rule_map": {}}


# ---------------------------------------------------------------------------- admin

def admin_view(sb: Sandbox, shop_id: int) -> dict[str, Any]:
    seed(sb, shop_id)
    held = prehold(sb, shop_id)
    skus = [{"product_id": str(p), "sku_id": str(s), "code": c, "stock_num": n, "prehold_stock_num": held.get(s, 0),
             "sold_since_sync": sold, "synced_at": at, "update_time": ut}
            for p, s, c, n, sold, at, ut in sb.store.all(
                "SELECT product_id, sku_id, code, stock_num, sold_since_sync, synced_at, update_time FROM stock"
                " WHERE shop_id=? ORDER BY product_id, sku_id", (shop_id,))]
    syncs = [{"id": i, "method": m, "at": at, "product_id": p, "incremental": bool(inc), "idempotent_id": idem,
              "skus": json.loads(sk), "code": code, "sub_code": sc, "sub_msg": sm}
             for i, m, at, p, inc, idem, sk, code, sc, sm in sb.store.all(
                 "SELECT id, method, at, product_id, incremental, idempotent_id, skus, code, sub_code, sub_msg"
                 " FROM stock_syncs WHERE shop_id=? ORDER BY id", (shop_id,))]
    return {"shop_id": shop_id, "initial_stock": INITIAL_STOCK, "skus": skus, "syncs": syncs}
