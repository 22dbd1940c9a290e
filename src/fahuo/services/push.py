"""Push messages: verify, store by msg_id before answering, process afterwards.

Processing never trusts the message body for state: it re-reads the order with
order.orderDetail and stores it through the same newer-wins path as polling, so pushes and
polling converge whatever order they arrive in.
"""

from __future__ import annotations

import dataclasses
import json
import time
from dataclasses import dataclass, field
from typing import Any

import structlog

from fahuo.adapters.platforms.doudian.push import MalformedPush, parse_push_body
from fahuo.adapters.platforms.doudian.signing import verify_push
from fahuo.adapters.store.unit_of_work import UnitOfWork, in_transaction
from fahuo.domain.pii import strip_plain_receiver
from fahuo.services.orders import store_platform_orders
from fahuo.services.ports import PlatformFactory, UowFactory

log = structlog.get_logger(__name__)

# Tags whose subject is an order: re-read it. Refund tags too (sub-order after-sale status).
ORDER_TAGS = frozenset({"100", "101", "102", "103", "104", "105", "106", "108", "109", "110",
                        "111", "112", "113", "126"})
REFUND_TAGS = frozenset(str(t) for t in range(200, 228))
MAX_ATTEMPTS = 5


class PushRejected(Exception):
    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status, self.reason = status, reason


_RECEIVER_KEYS = ("receiver_msg", "post_receiver_msg", "post_addr", "post_receiver",
                  "post_tel")


def _without_receiver(msg):
    """Address-change pushes carry the receiver; the order is re-read anyway, so it is never
    stored from the push (PII is kept only encrypted, on the order), at any depth."""
    data = msg.data or {}
    clean = data
    if any(k in data for k in _RECEIVER_KEYS):
        clean = {k: ("[removed]" if k in _RECEIVER_KEYS else v) for k, v in data.items()}
    clean = strip_plain_receiver(clean)
    if clean is data:
        return msg
    return dataclasses.replace(msg, data=clean,
                               raw_data=json.dumps(clean, ensure_ascii=False,
                                                   separators=(",", ":")))


@dataclass(slots=True)
class PushAccepted:
    stored: int
    duplicates: int
    ping: bool


def accept_push(uow: UnitOfWork, raw: bytes, app_id: str | None, event_sign: str | None,
                secrets: dict[str, str]) -> PushAccepted:
    """Check who sent it, then store every message once. Raises PushRejected."""
    if not app_id or not event_sign:
        raise PushRejected(401, "missing app-id or event-sign header")
    secret = secrets.get(app_id)
    if secret is None:
        raise PushRejected(403, f"app-id {app_id} is not an app configured in fahuo")
    if not verify_push(app_id, secret, raw, event_sign):
        raise PushRejected(401, "event-sign does not match the body")
    try:
        messages = parse_push_body(raw)
    except MalformedPush as exc:
        raise PushRejected(400, f"malformed push body: {exc}") from exc
    now = int(time.time())
    rows, ping = [], False
    for msg in messages:
        msg = _without_receiver(msg)
        if msg.tag == "0":
            ping = True
        known = msg.tag in ORDER_TAGS or msg.tag in REFUND_TAGS
        data = msg.data or {}
        rows.append({
            "msg_id": msg.msg_id, "app_key": app_id, "tag": msg.tag,
            "shop_id": str(data.get("shop_id") or ""),
            "order_id": str(data.get("p_id") or ""),
            "data": msg.raw_data, "received_at": now,
            "status": "pending" if known else "skipped",
            "attempts": 0, "error": None if known else f"消息类型 {msg.tag} 不处理",
        })
    fresh = uow.inbox.add_many(rows)
    return PushAccepted(stored=len(fresh), duplicates=len(rows) - len(fresh), ping=ping)


@dataclass(slots=True)
class InboxReport:
    processed: int = 0
    orders_fetched: int = 0
    failed: int = 0
    retried: int = 0
    order_ids: list[str] = field(default_factory=list)  # re-read: deadlines may have moved
    aftersale_shops: set[int] = field(default_factory=set)  # refund tags (2xx) came for these


def process_inbox(uow_factory: UowFactory, platform_for: PlatformFactory,
                  limit: int = 500) -> InboxReport:
    report = InboxReport()
    with uow_factory() as uow:
        pending = uow.inbox.pending(limit)
        shops = {(s.app_key, s.shop_id): s for s in uow.shops.list()}
    if not pending:
        return report
    # One detail fetch per order, however many messages name it.
    by_order: dict[tuple[str, str, str], list[str]] = {}
    no_shop: list[str] = []
    no_order: list[str] = []
    for msg in pending:
        if (msg["app_key"], msg["shop_id"]) in shops and str(msg["tag"]).startswith("2") \
                and len(str(msg["tag"])) == 3:
            report.aftersale_shops.add(shops[(msg["app_key"], msg["shop_id"])].id)
        if (msg["app_key"], msg["shop_id"]) not in shops:
            no_shop.append(msg["msg_id"])
        elif not msg["order_id"]:
            no_order.append(msg["msg_id"])
        else:
            by_order.setdefault((msg["app_key"], msg["shop_id"], msg["order_id"]),
                                []).append(msg["msg_id"])
    fetched: dict[int, list[dict[str, Any]]] = {}
    done: list[str] = list(no_order)
    errors: dict[str, str] = {}
    apis: dict[int, Any] = {}
    for (app_key, shop_id, order_id), ids in by_order.items():
        shop = shops[(app_key, shop_id)]
        api = apis.get(shop.id) or apis.setdefault(shop.id, platform_for(shop))
        try:
            detail = api.order_detail(order_id)
        except Exception as exc:  # noqa: BLE001 - kept on the message, retried later
            log.warning("push_order_fetch_failed", order_id=order_id, error=str(exc))
            for i in ids:
                errors[i] = str(exc)[:500]
            continue
        fetched.setdefault(shop.id, []).append(detail)
        report.orders_fetched += 1
        report.order_ids.append(order_id)
        done.extend(ids)
    attempts = {m["msg_id"]: m["attempts"] for m in pending}
    give_up = [i for i in errors if attempts[i] + 1 >= MAX_ATTEMPTS]

    def save(uow: UnitOfWork) -> None:
        # Lock order (docs/architecture.md, "Locks"): every order of every shop in this
        # drain, in one statement by ascending order_id, before any is written. Locking shop
        # by shop ran against the pipeline's global order and deadlocked with it.
        uow.orders.lock(report.order_ids)
        for shop_ref, payloads in fetched.items():
            store_platform_orders(uow, shop_ref, payloads)
        uow.inbox.mark(done, "done")
        uow.inbox.mark(no_shop, "failed", "fahuo 里没有这个 app-id 和 shop_id 对应的店铺")
        for i in give_up:
            uow.inbox.mark([i], "failed", errors[i])
        for i in set(errors) - set(give_up):
            uow.inbox.mark([i], "pending", errors[i])

    # Pure store work (the details were fetched above): a deadlock victim runs again whole.
    in_transaction(uow_factory, save)
    report.processed = len(done)
    report.failed = len(no_shop) + len(give_up)
    report.retried = len(errors) - len(give_up)
    return report
