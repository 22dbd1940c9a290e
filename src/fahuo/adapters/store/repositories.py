"""Every query lives here (services never write SQL). Batch-first: one statement per batch."""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import Connection, CursorResult, and_, bindparam, func, select, update
from sqlalchemy.dialects import postgresql, sqlite

from fahuo.adapters.crypto import SecretBox
from fahuo.domain.lifecycle import StateMove
from fahuo.domain.orders import ORDER, Order, OrderState
from fahuo.domain.pii import strip_plain_receiver

from . import models as m
from . import search_index


def _insert(conn: Connection, table):
    return (sqlite.insert(table) if conn.dialect.name == "sqlite"
            else postgresql.insert(table))


def _now() -> int:
    return int(time.time())


def new_id(res: CursorResult[Any]) -> int:
    """The id the database gave the row one INSERT just made."""
    key = res.inserted_primary_key
    if key is None or key[0] is None:
        raise RuntimeError("the insert returned no primary key")
    return int(key[0])


@dataclass(slots=True)
class ShopRecord:
    id: int
    platform: str
    shop_id: str
    shop_name: str
    app_key: str
    app_secret: str
    gateway_url: str
    sign_method: str
    auth_type: str
    rate_qps: float | None
    enabled: bool


class ShopRepository:
    def __init__(self, conn: Connection, box: SecretBox) -> None:
        self.conn, self.box = conn, box

    def add(self, *, shop_id: str, app_key: str, app_secret: str, gateway_url: str,
            shop_name: str = "", sign_method: str = "hmac-sha256", auth_type: str = "self",
            rate_qps: float | None = None) -> int:
        now = _now()
        res = self.conn.execute(m.shops.insert().values(
            platform="doudian", shop_id=shop_id, shop_name=shop_name, app_key=app_key,
            app_secret_enc=self.box.encrypt(app_secret), gateway_url=gateway_url,
            sign_method=sign_method, auth_type=auth_type, rate_qps=rate_qps, enabled=True,
            token_scope="", created_at=now, updated_at=now))
        return new_id(res)

    def _record(self, row) -> ShopRecord:
        return ShopRecord(
            id=row.id, platform=row.platform, shop_id=row.shop_id, shop_name=row.shop_name,
            app_key=row.app_key, app_secret=self.box.decrypt(row.app_secret_enc) or "",
            gateway_url=row.gateway_url, sign_method=row.sign_method, auth_type=row.auth_type,
            rate_qps=row.rate_qps, enabled=row.enabled)

    def get(self, ref: int) -> ShopRecord | None:
        row = self.conn.execute(select(m.shops).where(m.shops.c.id == ref)).first()
        return self._record(row) if row else None

    def require(self, ref: int) -> ShopRecord:
        """The shop an order or pack points at (it cannot be missing unless deleted)."""
        shop = self.get(ref)
        if shop is None:
            raise LookupError(f"店铺 #{ref} 不存在 (shop {ref} not found)")
        return shop

    def find(self, *, shop_id: str, app_key: str | None = None) -> ShopRecord | None:
        q = select(m.shops).where(m.shops.c.shop_id == shop_id)
        if app_key:
            q = q.where(m.shops.c.app_key == app_key)
        row = self.conn.execute(q).first()
        return self._record(row) if row else None

    def list(self, *, enabled_only: bool = False) -> list[ShopRecord]:
        q = select(m.shops).order_by(m.shops.c.id)
        if enabled_only:
            q = q.where(m.shops.c.enabled.is_(True))
        return [self._record(r) for r in self.conn.execute(q)]

    def app_secrets(self) -> dict[str, str]:
        """app_key → secret, for checking push signatures."""
        rows = self.conn.execute(select(m.shops.c.app_key, m.shops.c.app_secret_enc))
        return {r.app_key: self.box.decrypt(r.app_secret_enc) or "" for r in rows}

    def load_tokens(self, ref: int) -> dict[str, Any] | None:
        row = self.conn.execute(select(m.shops).where(m.shops.c.id == ref)).first()
        if row is None or not row.access_token_enc:
            return None
        return {
            "access_token": self.box.decrypt(row.access_token_enc),
            "refresh_token": self.box.decrypt(row.refresh_token_enc),
            "expires_at": row.token_expires_at, "refresh_expires_at": row.refresh_expires_at,
            "shop_id": row.shop_id, "shop_name": row.shop_name, "scope": row.token_scope,
        }

    def save_tokens(self, ref: int, *, access_token: str, refresh_token: str, expires_at: int,
                    refresh_expires_at: int, shop_name: str | None, scope: str) -> None:
        values: dict[str, Any] = dict(
            access_token_enc=self.box.encrypt(access_token),
            refresh_token_enc=self.box.encrypt(refresh_token), token_expires_at=expires_at,
            refresh_expires_at=refresh_expires_at, token_scope=scope or "", updated_at=_now())
        if shop_name:
            values["shop_name"] = shop_name
        self.conn.execute(update(m.shops).where(m.shops.c.id == ref).values(**values))


# audited_at is the pipeline's: a new version leaves it, and synced_at >= audited_at says
# the audit has this version still to judge.
_ORDER_UPDATE_COLS = [c.name for c in m.orders.columns
                      if c.name not in ("order_id", "shop_ref", "audited_at")]
_SUB_UPDATE_COLS = [c.name for c in m.sub_orders.columns if c.name != "sku_order_id"]
_CURRENT = select(m.orders.c.order_id, m.orders.c.state, m.orders.c.update_time).where(
    m.orders.c.order_id.in_(bindparam("ids", expanding=True)))


class _Upserts:
    """The two batch upserts, built once per dialect (statements are immutable).

    On SQLite they are also compiled once to plain SQL and run with the driver's
    ``executemany`` over tuples: per row SQLAlchemy's parameter processing costs more than
    SQLite's insert itself (bench/sync.py). PostgreSQL keeps the Core path.
    """

    _cache: dict[str, "_Upserts"] = {}

    def __init__(self, conn: Connection) -> None:
        ins = _insert(conn, m.orders)
        # The WHERE guard repeats the newer-wins rule in SQL, in case another writer won.
        self.orders = ins.on_conflict_do_update(
            index_elements=["order_id"],
            set_={c: ins.excluded[c] for c in _ORDER_UPDATE_COLS},
            where=m.orders.c.update_time <= ins.excluded.update_time)
        ins = _insert(conn, m.sub_orders)
        self.subs = ins.on_conflict_do_update(
            index_elements=["sku_order_id"],
            set_={c: ins.excluded[c] for c in _SUB_UPDATE_COLS})
        self.raw = None
        if conn.dialect.name == "sqlite":
            self.raw = tuple(self._plain(stmt, conn) for stmt in (self.orders, self.subs))

    @staticmethod
    def _plain(stmt, conn: Connection) -> tuple[str, tuple[str, ...]]:
        c = stmt.compile(dialect=conn.dialect)
        assert c.positiontup is not None and not c.binds.keys() - set(c.positiontup)
        return c.string, tuple(c.positiontup)

    @classmethod
    def get(cls, conn: Connection) -> "_Upserts":
        u = cls._cache.get(conn.dialect.name)
        if u is None:
            u = cls._cache[conn.dialect.name] = cls(conn)
        return u

    def run(self, conn: Connection, which: int, rows: list[dict[str, Any]]) -> None:
        if self.raw is None:
            conn.execute((self.orders, self.subs)[which], rows)
            return
        sql, keys = self.raw[which]
        conn.exec_driver_sql(sql, [tuple([r[k] for k in keys]) for r in rows])


@dataclass(slots=True)
class UpsertResult:
    inserted: int
    updated: int
    stale: int  # older than what we hold: ignored


class OrderRepository:
    def __init__(self, conn: Connection, box: SecretBox,
                 moves: list[StateMove] | None = None) -> None:
        self.conn, self.box = conn, box
        self.moves: list[StateMove] = [] if moves is None else moves

    def current(self, order_ids: Sequence[str]) -> dict[str, tuple[str, int]]:
        """order_id → (state, update_time) for the ones we hold; locks them on PostgreSQL,
        in one statement by ascending order_id (the lock order, docs/architecture.md)."""
        if not order_ids:
            return {}
        q = _CURRENT
        if self.conn.dialect.name == "postgresql":
            q = q.order_by(m.orders.c.order_id).with_for_update()
        return {r[0]: (r[1], r[2]) for r in self.conn.execute(q, {"ids": sorted(order_ids)})}

    def lock(self, order_ids: Sequence[str]) -> None:
        """Lock the orders a transaction is about to write, every shop's together, before
        any of them is written (``current`` then only meets locks it holds)."""
        self.current(sorted(set(order_ids)))

    def receivers(self, order_ids: Sequence[str]) -> dict[str, tuple[str, str, str]]:
        """order_id → receiver ciphertexts (name, phone, address detail)."""
        if not order_ids:
            return {}
        q = select(m.orders.c.order_id, m.orders.c.receiver_name_cipher,
                   m.orders.c.receiver_phone_cipher, m.orders.c.receiver_detail_cipher).where(
            m.orders.c.order_id.in_(list(order_ids)))
        return {r[0]: (r[1], r[2], r[3]) for r in self.conn.execute(q)}

    def upsert(self, shop_ref: int, items: Iterable[tuple[Order, OrderState]],
               *, existing: dict[str, tuple[str, int]]) -> UpsertResult:
        """Write orders whose update is at least as new as ours; sub-orders with them.
        ``existing`` was read by ``current`` in this unit of work (under the rows' locks),
        so the state each row moves from is the one stored: every move is checked against
        the order lifecycle before anything is written."""
        now = _now()
        order_rows, sub_rows = [], []
        moved: list[StateMove] = []
        inserted = updated = stale = 0
        items = list(items)
        for order, state in items:
            held = existing.get(order.order_id)
            if held is None:
                ORDER.check_new(order.order_id, state)
                moved.append(StateMove("order", order.order_id, None, str(state)))
            elif held[0] != str(state) and order.update_time >= held[1]:
                ORDER.move(order.order_id, held[0], state)
                moved.append(StateMove("order", order.order_id, held[0], str(state)))
        for order, state in items:
            held = existing.get(order.order_id)
            if held is not None and order.update_time < held[1]:
                stale += 1
                continue
            inserted += held is None
            updated += held is not None
            r = order.receiver
            plain = None
            if r.name_plain or r.phone_plain or r.detail_plain:
                plain = self.box.encrypt(json.dumps(
                    {"name": r.name_plain, "phone": r.phone_plain, "detail": r.detail_plain},
                    ensure_ascii=False))
            order_rows.append(dict(
                order_id=order.order_id, shop_ref=shop_ref, state=str(state),
                order_status=order.order_status, main_status=order.main_status,
                create_time=order.create_time, pay_time=order.pay_time,
                update_time=order.update_time, exp_ship_time=order.exp_ship_time,
                order_amount=order.order_amount, pay_amount=order.pay_amount,
                post_amount=order.post_amount, buyer_words=order.buyer_words,
                seller_words=order.seller_words, seller_remark_stars=order.seller_remark_stars,
                presale_type=order.presale_type, buyer_id=order.buyer_id,
                receiver_name_cipher=r.name_cipher, receiver_phone_cipher=r.phone_cipher,
                receiver_detail_cipher=r.detail_cipher, receiver_name_mask=r.name_mask,
                receiver_phone_mask=r.phone_mask, receiver_address_mask=r.address_mask,
                province=r.province, city=r.city, district=r.district, street=r.street,
                receiver_plain_enc=plain,
                # kept for support, minus plain receiver text at any depth (kept encrypted)
                raw=orjson.dumps(strip_plain_receiver(order.raw)).decode(),
                synced_at=now, audited_at=None))
            for s in order.sub_orders:
                sub_rows.append(dict(
                    sku_order_id=s.sku_order_id, order_id=order.order_id,
                    product_id=s.product_id, sku_id=s.sku_id, merchant_code=s.merchant_code,
                    product_name=s.product_name, spec=s.spec, quantity=s.quantity,
                    pay_amount=s.pay_amount, order_status=s.order_status,
                    after_sale_status=s.after_sale_status, after_sale_type=s.after_sale_type,
                    refund_status=s.refund_status, presale_type=s.presale_type,
                    exp_ship_time=s.exp_ship_time))
        # New rows are locked as they are inserted: in key order too, like the locks above.
        order_rows.sort(key=lambda r: str(r["order_id"]))
        sub_rows.sort(key=lambda r: (str(r["order_id"]), str(r["sku_order_id"])))
        upserts = _Upserts.get(self.conn)
        if order_rows:
            upserts.run(self.conn, 0, order_rows)
        if sub_rows:
            upserts.run(self.conn, 1, sub_rows)
        search_index.reindex_orders(self.conn, order_rows, sub_rows)  # the search box's terms
        self.moves.extend(moved)
        return UpsertResult(inserted, updated, stale)

    def get(self, order_id: str) -> dict[str, Any] | None:
        row = self.conn.execute(select(m.orders).where(m.orders.c.order_id == order_id)).first()
        if row is None:
            return None
        subs = self.conn.execute(select(m.sub_orders).where(
            m.sub_orders.c.order_id == order_id).order_by(m.sub_orders.c.sku_order_id)).all()
        out = dict(row._mapping)
        out["sub_orders"] = [dict(s._mapping) for s in subs]
        return out

    def search(self, *, shop_ref: int | None = None, state: str | Sequence[str] | None = None,
               order_status: int | None = None, limit: int = 50, offset: int = 0,
               sort: str = "deadline") -> tuple[int, list[dict[str, Any]]]:
        conds = []
        if shop_ref is not None:
            conds.append(m.orders.c.shop_ref == shop_ref)
        if isinstance(state, str) and state:
            conds.append(m.orders.c.state == state)
        elif state:
            conds.append(m.orders.c.state.in_(list(state)))
        if order_status is not None:
            conds.append(m.orders.c.order_status == order_status)
        where = and_(*conds) if conds else None
        cols = [c for c in m.orders.c if c.name not in ("raw", "receiver_plain_enc",
                                                        "receiver_name_cipher",
                                                        "receiver_phone_cipher",
                                                        "receiver_detail_cipher")]
        q = select(*cols)
        cq = select(func.count()).select_from(m.orders)
        if where is not None:
            q, cq = q.where(where), cq.where(where)
        order_by = {
            "deadline": (m.orders.c.exp_ship_time.asc(), m.orders.c.order_id),
            "updated": (m.orders.c.update_time.desc(), m.orders.c.order_id),
            "created": (m.orders.c.create_time.desc(), m.orders.c.order_id),
        }[sort]
        rows = self.conn.execute(q.order_by(*order_by).limit(limit).offset(offset)).all()
        total = self.conn.execute(cq).scalar_one()
        return total, [dict(r._mapping) for r in rows]

    def count_by_state(self, shop_ref: int | None = None) -> dict[str, int]:
        q = select(m.orders.c.state, func.count()).group_by(m.orders.c.state)
        if shop_ref is not None:
            q = q.where(m.orders.c.shop_ref == shop_ref)
        return {s: n for s, n in self.conn.execute(q)}

    def ids_with_update_time(self, shop_ref: int) -> dict[str, int]:
        rows = self.conn.execute(select(m.orders.c.order_id, m.orders.c.update_time).where(
            m.orders.c.shop_ref == shop_ref))
        return {r.order_id: r.update_time for r in rows}


class CursorRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def get(self, shop_ref: int, kind: str = "orders") -> int | None:
        return self.conn.execute(select(m.sync_cursors.c.cursor_time).where(
            m.sync_cursors.c.shop_ref == shop_ref, m.sync_cursors.c.kind == kind)).scalar()

    def get_all(self) -> list[dict[str, Any]]:
        return [dict(r._mapping) for r in self.conn.execute(select(m.sync_cursors))]

    def advance(self, shop_ref: int, cursor_time: int, seen: int, kind: str = "orders") -> None:
        ins = _insert(self.conn, m.sync_cursors)
        self.conn.execute(ins.values(
            shop_ref=shop_ref, kind=kind, cursor_time=cursor_time, last_run_at=_now(),
            last_error=None, orders_seen=seen,
        ).on_conflict_do_update(
            index_elements=["shop_ref", "kind"],
            set_={"cursor_time": func.max(m.sync_cursors.c.cursor_time, ins.excluded.cursor_time)
                  if self.conn.dialect.name == "sqlite"
                  else func.greatest(m.sync_cursors.c.cursor_time, ins.excluded.cursor_time),
                  "last_run_at": ins.excluded.last_run_at, "last_error": None,
                  "orders_seen": m.sync_cursors.c.orders_seen + ins.excluded.orders_seen}))

    def record_error(self, shop_ref: int, error: str, kind: str = "orders") -> None:
        self.conn.execute(update(m.sync_cursors).where(
            m.sync_cursors.c.shop_ref == shop_ref, m.sync_cursors.c.kind == kind).values(
            last_error=error[:2000], last_run_at=_now()))


class InboxRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def add_many(self, rows: list[dict[str, Any]]) -> list[str]:
        """Store messages; duplicates by msg_id are ignored. Returns the new msg_ids."""
        if not rows:
            return []
        ids = [r["msg_id"] for r in rows]
        known = set(self.conn.execute(select(m.push_inbox.c.msg_id).where(
            m.push_inbox.c.msg_id.in_(ids))).scalars())
        fresh, seen = [], set()
        for r in rows:
            if r["msg_id"] in known or r["msg_id"] in seen:
                continue
            seen.add(r["msg_id"])
            fresh.append(r)
        if fresh:
            ins = _insert(self.conn, m.push_inbox)
            self.conn.execute(ins.on_conflict_do_nothing(index_elements=["msg_id"]), fresh)
        return [r["msg_id"] for r in fresh]

    def pending(self, limit: int = 200) -> list[dict[str, Any]]:
        q = (select(m.push_inbox).where(m.push_inbox.c.status == "pending")
             .order_by(m.push_inbox.c.received_at, m.push_inbox.c.msg_id).limit(limit))
        return [dict(r._mapping) for r in self.conn.execute(q)]

    def mark(self, msg_ids: list[str], status: str, error: str | None = None) -> None:
        if not msg_ids:
            return
        self.conn.execute(update(m.push_inbox).where(m.push_inbox.c.msg_id.in_(msg_ids)).values(
            status=status, error=error, processed_at=_now(),
            attempts=m.push_inbox.c.attempts + 1))

    def counts(self) -> dict[str, int]:
        q = select(m.push_inbox.c.status, func.count()).group_by(m.push_inbox.c.status)
        return {s: n for s, n in self.conn.execute(q)}

    def recent(self, limit: int = 50) -> list[dict[str, Any]]:
        q = select(m.push_inbox).order_by(m.push_inbox.c.received_at.desc()).limit(limit)
        return [dict(r._mapping) for r in self.conn.execute(q)]


class AuditRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def add(self, *, actor: str, action: str, subject_type: str, subject_id: str,
            detail: dict[str, Any] | None = None) -> None:
        self.conn.execute(m.audit_log.insert().values(
            at=_now(), actor=actor, action=action, subject_type=subject_type,
            subject_id=subject_id, detail=json.dumps(detail or {}, ensure_ascii=False)))

    def for_subject(self, subject_type: str, subject_id: str) -> list[dict[str, Any]]:
        q = select(m.audit_log).where(m.audit_log.c.subject_type == subject_type,
                                      m.audit_log.c.subject_id == subject_id).order_by(
            m.audit_log.c.id)
        return [dict(r._mapping) for r in self.conn.execute(q)]
