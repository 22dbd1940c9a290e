"""Message push (§10): background delivery with batching, retries, duplicates and reordering."""
from __future__ import annotations

import heapq
import itertools
import json
import random
import secrets
import threading
import time
from typing import TYPE_CHECKING, Any

import httpx
import orjson

from .signing import push_sign

if TYPE_CHECKING:
    from .core import Sandbox

DEFAULT_CONFIG = {
    "url": None,
    "duplicate_rate": 0.0,
    "reorder": False,
    "max_retries": 8,
    "retry_base_s": 0.5,
    "retry_max_s": 30.0,
    "batch_max": 20,
    "timeout_s": 5.0,
}


def _dumps(obj: Any) -> str:
    return orjson.dumps(obj).decode()  # compact UTF-8, as json.dumps(ensure_ascii=False) gives


class PushManager:
    def __init__(self, sb: "Sandbox"):
        self.sb = sb
        self.configs: dict[str, dict[str, Any]] = {}
        self._pending: dict[str, list[dict[str, Any]]] = {}
        self._retries: list[tuple[float, int, str, list[dict[str, Any]], int]] = []
        self._seq = itertools.count(1)
        self._msg_seq = itertools.count(secrets.randbelow(10 ** 12) * 1000)
        self._cond = threading.Condition()
        self._stop = False
        self._thread: threading.Thread | None = None
        self._rng = random.Random(11)
        self.stats = {"posts": 0, "posts_failed": 0, "messages_sent": 0, "messages_delivered": 0,
                      "duplicates_sent": 0, "batches_dropped": 0, "messages_dropped": 0}
        for key, cfg in sb.store.all("SELECT app_key, push_config FROM apps WHERE push_config IS NOT NULL"):
            self.configs[key] = json.loads(cfg)

    # ------------------------------------------------------------ config
    def configure(self, app_key: str, **cfg: Any) -> dict[str, Any]:
        conf = dict(DEFAULT_CONFIG)
        conf.update(self.configs.get(app_key, {}))
        conf.update({k: v for k, v in cfg.items() if k in DEFAULT_CONFIG and v is not None})
        self.sb.store.write("UPDATE apps SET push_url=?, push_config=? WHERE app_key=?",
                            (conf["url"], _dumps(conf), app_key))
        with self._cond:
            self.configs[app_key] = conf
        return conf

    def apps_for_shop(self, shop_id: int) -> list[str]:
        keys = [k for k, c in self.configs.items() if c.get("url")]
        if not keys:
            return []
        rows = self.sb.store.all("SELECT app_key FROM app_shops WHERE shop_id=?", (shop_id,))
        return [r[0] for r in rows if r[0] in keys]

    # ------------------------------------------------------------ messages
    def msg(self, tag: int, order: dict[str, Any], **extra: Any) -> dict[str, Any]:
        p_id = int(order["order_id"])
        s_ids = [int(s["order_id"]) for s in order["sku_order_list"]]
        base = {"p_id": p_id, "s_ids": s_ids, "shop_id": order["shop_id"], "order_status": order["order_status"],
                "order_type": order["order_type"], "biz": order["biz"]}
        ut = order["update_time"]
        if tag == 100:
            data = dict(base, order_status=1, create_time=order["create_time"])
        elif tag == 101:
            data = dict(base, create_time=order["create_time"], pay_type=order["pay_type"],
                        pay_time=order["pay_time"], pay_amount=order["pay_amount"])
        elif tag == 110:
            data = base
        elif tag == 105:
            pa = order["post_addr"]
            addr = {"province": pa["province"], "city": pa["city"], "town": pa["town"], "street": pa["street"],
                    "detail": pa["detail"], "encrypt_detail": pa["encrypt_detail"]}
            data = dict(base, receiver_msg={"addr": _dumps(addr), "name": order["mask_post_receiver"],
                                            "tel": order["mask_post_tel"],
                                            "encrypt_name": order["encrypt_post_receiver"],
                                            "encrypt_tel": order["encrypt_post_tel"]}, update_time=ut)
        elif tag == 106:
            data = dict(base, cancel_reason=order.get("cancel_reason", ""), cancel_time=ut)
        elif tag == 113:
            data = {"p_id": p_id, "s_ids": s_ids, "shop_id": order["shop_id"], "remark": order["seller_words"],
                    "star": order["seller_remark_stars"], "update_time": ut, "biz": order["biz"]}
        elif tag == 112:
            d = time.strftime("%Y-%m-%d", time.gmtime(order["exp_ship_time"] + 8 * 3600))
            data = dict(base, exp_delivery_time=d)
        elif tag == 126:
            data = {"p_id": str(p_id), "s_ids": s_ids, "shop_id": order["shop_id"], "order_type": order["order_type"],
                    "exp_delivery_time": order["exp_ship_time"]}
        else:
            data = dict(base)
        data.update(extra)
        return self.envelope(tag, data, p_id)

    def envelope(self, tag: int, data: dict[str, Any], p_id: int | None = None) -> dict[str, Any]:
        msg_id = f"{7000000000000000000 + next(self._msg_seq)}:{tag}:{int(self.sb.now())}"
        return {"tag": str(tag), "msg_id": msg_id, "data": _dumps(data)}

    def messages_for_new_order(self, order: dict[str, Any]) -> list[dict[str, Any]]:
        st = order["order_status"]
        out = [self.msg(100, order)]
        if st == 105:
            out.append(self.msg(110, order))
        elif st in (2, 4):
            out.append(self.msg(101, order))
            if st == 4:
                out.append(self.msg(106, order))
        return out

    def ping(self, app_key: str) -> dict[str, Any]:
        m = {"tag": "0", "msg_id": f"{7000000000000000000 + next(self._msg_seq)}:0:{int(self.sb.now())}",
             "data": _dumps({"msg": "verify", "app_key": app_key})}
        self.enqueue(app_key, [m])
        return m

    # ------------------------------------------------------------ worker
    def enqueue(self, app_key: str, msgs: list[dict[str, Any]]) -> None:
        if not msgs:
            return
        with self._cond:
            self._pending.setdefault(app_key, []).extend(msgs)
            self._cond.notify()

    def pending_count(self) -> int:
        with self._cond:
            return sum(len(v) for v in self._pending.values()) + sum(len(r[3]) for r in self._retries)

    def start(self) -> None:
        if self._thread is None:
            self._stop = False
            self._thread = threading.Thread(target=self._run, name="sandbox-push", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        with self._cond:
            self._stop = True
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None

    def _next_work(self) -> list[tuple[str, list[dict[str, Any]], int]] | None:
        with self._cond:
            while not self._stop:
                now = time.monotonic()
                work = []
                while self._retries and self._retries[0][0] <= now:
                    _, _, key, batch, attempt = heapq.heappop(self._retries)
                    work.append((key, batch, attempt))
                for key in list(self._pending):
                    msgs = self._pending[key]
                    cfg = self.configs.get(key) or {}
                    if not cfg.get("url"):
                        del self._pending[key]
                        continue
                    n = int(cfg.get("batch_max") or 20)
                    while msgs:
                        batch, msgs[:] = msgs[:n], msgs[n:]
                        work.append((key, batch, 0))
                    del self._pending[key]
                if work:
                    return work
                timeout = (self._retries[0][0] - now) if self._retries else None
                self._cond.wait(timeout)
            return None

    def _run(self) -> None:
        client = httpx.Client(trust_env=False)
        try:
            while True:
                work = self._next_work()
                if work is None:
                    return
                for key, batch, attempt in work:
                    if self._stop:
                        return
                    self._deliver(client, key, batch, attempt)
        finally:
            client.close()

    def _deliver(self, client: httpx.Client, key: str, batch: list[dict[str, Any]], attempt: int) -> None:
        cfg = self.configs.get(key) or {}
        app = self.sb.apps.get(key)
        if not cfg.get("url") or app is None:
            return
        to_send = list(batch)
        if attempt == 0:
            rate = float(cfg.get("duplicate_rate") or 0)
            if rate:
                dups = [m for m in batch if self._rng.random() < rate]
                self.stats["duplicates_sent"] += len(dups)
                to_send.extend(dups)
            if cfg.get("reorder"):
                self._rng.shuffle(to_send)
        body = _dumps(to_send).encode("utf-8")
        headers = {"Content-Type": "application/json", "app-id": key,
                   "event-sign": push_sign(key, body, app["app_secret"])}
        ok = False
        self.stats["posts"] += 1
        self.stats["messages_sent"] += len(to_send)
        try:
            r = client.post(cfg["url"], content=body, headers=headers, timeout=float(cfg.get("timeout_s") or 5))
            if r.status_code == 200:
                try:
                    ok = r.json().get("code") == 0
                except Exception:  # noqa: BLE001 - any body that is not the answer is a failed delivery
                    ok = False
        except httpx.HTTPError:
            ok = False
        if ok:
            self.stats["messages_delivered"] += len(to_send)
            return
        self.stats["posts_failed"] += 1
        if attempt >= int(cfg.get("max_retries", 8)):
            self.stats["batches_dropped"] += 1
            self.stats["messages_dropped"] += len(batch)
            return
        delay = min(float(cfg.get("retry_max_s") or 30), float(cfg.get("retry_base_s") or 0.5) * (2 ** attempt))
        with self._cond:
            heapq.heappush(self._retries, (time.monotonic() + delay, next(self._seq), key, to_send, attempt + 1))
            self._cond.notify()
