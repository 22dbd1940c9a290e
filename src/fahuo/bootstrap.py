"""The one place where fahuo's parts are wired together (settings → engine → services).

Over 400 lines on purpose: every binding of an adapter to a service lives here (the one
wiring place the layers rely on); the use-case bindings at the end are a few lines each."""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import sys
import threading
import time
from dataclasses import dataclass, field
from functools import cached_property
from collections.abc import Callable, Mapping, MutableMapping
from typing import TYPE_CHECKING, Any, TextIO

import httpx
import structlog

from fahuo.adapters.carriers.registry import CarrierRegistry
from fahuo.adapters.crypto import SecretBox, box_for
from fahuo.adapters.files import SpreadsheetReader
from fahuo.adapters.notify.registry import NotifyRegistry
from fahuo.adapters.platforms.doudian.api import DoudianShopApi
from fahuo.adapters.platforms.doudian.client import AppCredentials, DoudianClient, RetryPolicy
from fahuo.adapters.platforms.doudian.ratelimit import RateBudget
from fahuo.adapters.platforms.doudian.tokens import ShopSession, TokenSet
from fahuo.adapters.platforms.doudian.wire import Urllib3Wire
from fahuo.adapters.store.db import make_engine, private_sqlite_file
from fahuo.adapters.store.migrate import upgrade
from fahuo.adapters.files.staged import StagedUploads
from fahuo.adapters.store.repositories import ShopRecord
from fahuo.adapters.store.unit_of_work import UnitOfWorkFactory
from fahuo.config import Settings, get_settings
from fahuo.domain.pii import REDACTED, redact, sensitive_key
from fahuo.services import aftersales, intercepts
from fahuo.services import tracking as tracking_service
from fahuo.services.ports import PlatformFactory, UowFactory
from fahuo.services.sync import OrderSync, SyncPolicy
from fahuo.services.tracking import Tracking
from fahuo.services.uploads import UploadLimits

if TYPE_CHECKING:
    from fahuo.services.manual_ship import ImportPreview
    from fahuo.services.aftersales import AfterSaleReport
    from fahuo.services.shipping import Pipeline
    from fahuo.services.stock.moves import Moved
    from fahuo.services.handover import Handover
    from fahuo.services.watch import Watch

log = structlog.get_logger(__name__)
RATE_MARGIN = 0.8


def redact_pii(_logger: Any, _method: str, event: MutableMapping[str, Any]
               ) -> Mapping[str, Any]:
    """structlog processor: receivers, phones, addresses, tokens, secrets and passwords never
    reach a log line (by key name at any depth; phone numbers anywhere in text, tracebacks
    included)."""
    return {k: v if k in ("level", "timestamp", "logger") else
            (REDACTED if sensitive_key(k) and v not in (None, "") else redact(v))
            for k, v in event.items()}


def configure_logging(level: str = "INFO", stream: TextIO | None = None) -> None:
    # Tracebacks are rendered as plain text before redaction: a rich traceback would print
    # every frame's local variables (receivers, tokens) after the redaction ran.
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.StackInfoRenderer(),
            structlog.dev.set_exc_info,
            structlog.processors.TimeStamper(fmt="%Y-%m-%d %H:%M:%S", utc=False),
            structlog.processors.format_exc_info,
            redact_pii,
            structlog.dev.ConsoleRenderer(  # colours only on a terminal, not in a log file
                colors=(stream or sys.stdout).isatty(),
                exception_formatter=structlog.dev.plain_traceback),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(
            logging.getLevelName(level.upper())),
        logger_factory=structlog.PrintLoggerFactory(stream),
        cache_logger_on_first_use=False)


def private_data_dir(settings: Settings) -> None:
    """The data folder holds the database, the queue, the install key and label files with
    buyers' data: the folder is 0700 and fahuo's files in it 0600, also for an install made
    before this (tightened at every start).

    Explicit modes rather than a process umask: a umask is process-wide (it would also make
    the files handed to a warehouse in FAHUO_WMS_DIR unreadable to it), it comes too late for
    whatever was created before it is set, and it never fixes an existing install. SQLite
    gives -wal/-shm/-journal files the main file's mode, so private main files are enough."""
    d = settings.data_dir
    d.mkdir(mode=0o700, parents=True, exist_ok=True)
    _tighten(d, 0o700)
    if not settings.redis_url:
        private_sqlite_file(settings.queue_path)  # before Huey opens it
    files = [d / "secret.key"]
    for db in {settings.queue_path, settings.sqlite_path}:
        files += [db.with_name(db.name + suffix) for suffix in ("", "-wal", "-shm", "-journal")]
    if settings.prints_dir.is_dir():
        _tighten(settings.prints_dir, 0o700)
        files += list(settings.prints_dir.iterdir())
    for f in files:
        if f.is_file():
            _tighten(f, 0o600)


def _tighten(path, mode: int) -> None:
    try:
        if os.stat(path).st_mode & 0o077:
            os.chmod(path, mode)
    except OSError as exc:  # not ours to change (e.g. another user's folder): say so
        log.warning("data_dir_permissions", path=str(path), error=str(exc))


KEY_CHECK = "install_key_check"


class InstallKeyMismatch(SystemExit):
    """A SystemExit: every entry point (CLI, `fahuo serve`, `fahuo worker`) stops with the
    message alone, before any work that would fail to decrypt."""


_KEY_MISMATCH = (
    "本机的 FAHUO_SECRET_KEY 与此安装（同一数据库）使用的密钥不同，已拒绝启动：集群中每台机器"
    "必须使用同一个 FAHUO_SECRET_KEY（复制第一台机器的值或其 data/secret.key）。\n"
    "This machine's FAHUO_SECRET_KEY is not the key this install (this database) uses; "
    "refusing to start: every machine must share the same FAHUO_SECRET_KEY (copy it, or the "
    "first machine's data/secret.key).")


def _key_fingerprint(box: SecretBox) -> str:
    """An HMAC of a fixed label under a key derived for this purpose: never the key."""
    mac = hmac.new(box.derive("install-key-check"), b"fahuo install key v1", hashlib.sha256)
    return "v1:" + mac.hexdigest()


def check_install_key(engine, box: SecretBox) -> None:
    """Record the install key's fingerprint on first start; refuse any other key later."""
    from sqlalchemy import select
    from sqlalchemy.exc import IntegrityError

    from fahuo.adapters.store import models as m
    mine = _key_fingerprint(box)
    q = select(m.install_meta.c.value).where(m.install_meta.c.key == KEY_CHECK)
    with engine.begin() as c:
        stored = c.execute(q).scalar()
        if stored is None:
            # An install from before the check: the key must still open what is stored.
            secret = c.execute(select(m.shops.c.app_secret_enc).limit(1)).scalar()
            if secret:
                try:
                    box.decrypt(secret)
                except Exception as exc:
                    raise InstallKeyMismatch(_KEY_MISMATCH) from exc
            try:
                with c.begin_nested():
                    c.execute(m.install_meta.insert().values(key=KEY_CHECK, value=mine))
                return
            except IntegrityError:  # another machine started at the same moment
                stored = c.execute(q).scalar()
    if not hmac.compare_digest(str(stored), mine):
        raise InstallKeyMismatch(_KEY_MISMATCH)


class DbTokenStore:
    """Tokens live encrypted on the shop row; every new pair is persisted at once.

    Reads are cached for a few seconds while the token has more than an hour to live (every
    platform call asks for it); near expiry every read goes to the database, so workers on
    other machines see each other's refreshes before anyone refreshes again.
    """

    CACHE_S = 5.0

    def __init__(self, uow: UnitOfWorkFactory) -> None:
        self.uow = uow
        self._cache: dict[str, tuple[float, TokenSet]] = {}

    def load(self, shop_ref: str) -> TokenSet | None:
        now = time.time()
        hit = self._cache.get(shop_ref)
        if hit and hit[0] > now and hit[1].expires_at - now > 3600:
            return hit[1]
        with self.uow(readonly=True) as u:
            t = u.shops.load_tokens(int(shop_ref))
        if not t:
            return None
        tokens = TokenSet(access_token=t["access_token"], refresh_token=t["refresh_token"],
                          expires_at=int(t["expires_at"] or 0),
                          refresh_expires_at=int(t["refresh_expires_at"] or 0),
                          shop_id=t["shop_id"], shop_name=t["shop_name"], scope=t["scope"] or "")
        self._cache[shop_ref] = (now + self.CACHE_S, tokens)
        return tokens

    def save(self, shop_ref: str, tokens: TokenSet) -> None:
        self._cache.pop(shop_ref, None)
        with self.uow() as u:
            u.shops.save_tokens(int(shop_ref), access_token=tokens.access_token,
                                refresh_token=tokens.refresh_token, expires_at=tokens.expires_at,
                                refresh_expires_at=tokens.refresh_expires_at,
                                shop_name=tokens.shop_name, scope=tokens.scope)


@dataclass
class Fahuo:
    settings: Settings
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    _apis: dict = field(default_factory=dict)
    _budgets: dict = field(default_factory=dict)
    _lock: threading.RLock = field(default_factory=threading.RLock)

    @cached_property
    def engine(self):
        private_data_dir(self.settings)
        return make_engine(self.settings.db_url)

    @cached_property
    def box(self) -> SecretBox:
        private_data_dir(self.settings)
        return box_for(self.settings)

    @cached_property
    def staged(self) -> StagedUploads:
        """Files previewed and waiting for the person's 确认 (console imports)."""
        return StagedUploads(self.settings.data_dir / "staged", self.box)

    @cached_property
    def uow(self) -> UnitOfWorkFactory:
        return UnitOfWorkFactory(self.engine, self.box, lease_s=self.settings.lease_s)

    @cached_property
    def http(self) -> httpx.Client:
        return httpx.Client(timeout=12.0, limits=httpx.Limits(max_connections=20))

    @cached_property
    def wire(self) -> Urllib3Wire:
        """The Doudian gateway's connection pool (cheaper per call than httpx; see wire.py)."""
        return Urllib3Wire(max_connections=20)

    def rate_budget(self, qps: float | None = None) -> RateBudget:
        """One budget per call rate; each keeps a separate bucket per app key."""
        qps = qps or self.settings.rate_qps
        # Calls in flight at once reach the platform bunched: a thread that took its token
        # may wait on the network or for the interpreter (the pass prepares its next round
        # meanwhile) before its request leaves. Spending 80 % of the limit leaves room for
        # a fifth of a second of such delay inside one platform window.
        if qps >= 2:
            qps = max(1.0, qps * RATE_MARGIN)
        # pyrate-limiter counts whole calls: express fractional rates over a longer period.
        calls, per = (int(qps), 1.0) if qps >= 1 else (1, 1.0 / qps)
        with self._lock:
            budget = self._budgets.get((calls, per))
            if budget is None:
                budget = self._budgets[(calls, per)] = RateBudget(
                    calls, per, redis_url=self.settings.redis_url,
                    max_wait_s=self.settings.rate_max_wait_s)
            return budget

    @cached_property
    def order_sync(self) -> OrderSync:
        return OrderSync(self.uow, SyncPolicy.from_settings(self.settings))

    def migrate(self) -> None:
        """What every start path does first (CLI commands, `fahuo serve`, `fahuo worker`)."""
        upgrade(self.engine)
        check_install_key(self.engine, self.box)
        private_data_dir(self.settings)
        from fahuo.services.printing import forget_plain_labels
        forget_plain_labels(self.settings.prints_dir, self.settings.plain_label_keep_s)

    def client_for(self, shop: ShopRecord) -> DoudianClient:
        return DoudianClient(
            AppCredentials(app_key=shop.app_key, app_secret=shop.app_secret,
                           gateway_url=shop.gateway_url, sign_method=shop.sign_method),
            http=self.wire, rate_budget=self.rate_budget(shop.rate_qps), retry=self.retry)

    @cached_property
    def carriers(self) -> CarrierRegistry:
        """Couriers and tracking providers, each with what it can do (one HTTP pool)."""
        return CarrierRegistry(http=self.http)

    @cached_property
    def tracking(self) -> Tracking:
        """Parcel tracking (keeps provider clients and their 30-minute query guards)."""
        return Tracking(self.uow, self.platform_for, carriers=self.carriers,
                        concurrency=self.settings.platform_concurrency)

    @cached_property
    def watch(self) -> "Watch":
        """Exceptions (findings) and alerts."""
        from fahuo.services.watch import Watch
        return Watch(self.uow, notify=self.notify)

    @cached_property
    def handover(self) -> "Handover":
        """交接单: lists per courier and branch, rendered as PDF / Excel."""
        from fahuo.adapters.labels.handover import HandoverDocuments
        from fahuo.services.handover import Handover
        return Handover(self.uow, documents=HandoverDocuments())

    @cached_property
    def notify(self) -> NotifyRegistry:
        """Alert channels (DingTalk, Feishu, WeCom, e-mail, webhook) and their grouping."""
        return NotifyRegistry()

    def pipeline(self) -> "Pipeline":
        """The auto-ship pipeline wired to this install's store, platform and settings."""
        from fahuo.services.shipping import Pipeline
        return Pipeline(self.uow, self.platform_for,
                        concurrency=self.settings.platform_concurrency)

    def platform_for(self, shop: ShopRecord) -> DoudianShopApi:
        """One cached API facade per shop (its token session holds the refresh lock)."""
        with self._lock:
            key = (shop.id, shop.app_key, shop.gateway_url)
            api = self._apis.get(key)
            if api is None:
                session = ShopSession(
                    self.client_for(shop), DbTokenStore(self.uow), str(shop.id),
                    self_built_shop_id=shop.shop_id if shop.auth_type == "self" else None)
                api = self._apis[key] = DoudianShopApi(session)
            return api

    def close(self) -> None:
        if "http" in self.__dict__:
            self.http.close()
        if "wire" in self.__dict__:
            self.wire.close()
        if "engine" in self.__dict__:
            self.engine.dispose()


# ---- merchant files: the services' upload use cases with the file port wired in ----------
# The web console, the API and the CLI call these; the services take the reader as a port.

def preview_import(uow: UowFactory, name: str, data: bytes,
                   limits: UploadLimits | None = None) -> ImportPreview:
    """A tracking-number file checked against the store (``manual_ship.preview_import``)."""
    from fahuo.services import manual_ship
    return manual_ship.preview_import(uow, name, data, limits, files=SpreadsheetReader())


def apply_import(uow: UowFactory, platform_for: PlatformFactory, name: str, data: bytes,
                 actor: str, progress: Callable[[int, int], None] | None = None,
                 limits: UploadLimits | None = None) -> dict[str, Any]:
    """A tracking-number file shipped (``manual_ship.apply_import``)."""
    from fahuo.services import manual_ship
    return manual_ship.apply_import(uow, platform_for, name, data, actor, progress, limits,
                                    files=SpreadsheetReader())


def import_stock_file(uow: UowFactory, name: str, data: bytes, move: str, *, actor: str,
                      limits: UploadLimits | None = None, reason: str = "") -> Moved:
    """A stock count or receipt file applied (``stock.files.import_stock_file``)."""
    from fahuo.services.stock import files as stock_files
    return stock_files.import_stock_file(uow, name, data, move, actor=actor, limits=limits,
                                         reason=reason, files=SpreadsheetReader())


def add_channel(uow: UowFactory, name: str, kind: str, config: dict[str, Any],
                kinds: list[str], interval_s: int = 1800) -> int:
    """An alert channel checked against the channels fahuo has (``watch.add_channel``)."""
    from fahuo.services import watch
    return watch.add_channel(uow, name, kind, config, kinds, interval_s, notify=NotifyRegistry())


# ---- couriers: the services' account, interception and after-sale use cases with the
# carrier registry wired in (the web console, the API, the CLI and the worker call these).
# Interception setup (secret, label_url, the couriers' accounts) is Kuaidi100's.
INTERCEPT_SETUP = "kuaidi100"
VIAS = intercepts.vias(CarrierRegistry())


def add_account(uow: UowFactory, provider: str, name: str, credentials: dict[str, Any],
                base_url: str, callback_url: str) -> int:
    """A tracking provider account, checked against the registry (``tracking.add_account``)."""
    return tracking_service.add_account(uow, provider, name, credentials, base_url,
                                        callback_url, carriers=CarrierRegistry())


def set_intercept(uow: UowFactory, account_id: int, *, secret: str | None = None,
                  label_url: str | None = None, actor: str) -> dict[str, Any]:
    """Kuaidi100 interception turned on for an account (``tracking.set_intercept``)."""
    return tracking_service.set_intercept(
        uow, account_id, secret=secret, label_url=label_url, actor=actor,
        carrier=CarrierRegistry().get(INTERCEPT_SETUP))


def set_intercept_partner(uow: UowFactory, account_id: int, courier: str,
                          fields: dict[str, Any], *, actor: str) -> dict[str, Any]:
    """A courier's e-waybill account for Kuaidi100 interception."""
    return tracking_service.set_intercept_partner(
        uow, account_id, courier, fields, actor=actor,
        carrier=CarrierRegistry().get(INTERCEPT_SETUP))


def remove_intercept_partner(uow: UowFactory, account_id: int, courier: str, *,
                             actor: str) -> dict[str, Any]:
    return tracking_service.remove_intercept_partner(
        uow, account_id, courier, actor=actor, carrier=CarrierRegistry().get(INTERCEPT_SETUP))


def intercept(uow: UowFactory, platform_for: PlatformFactory, aftersale_id: str, *,
              actor: str, via: str = "auto", http: httpx.Client | None = None
              ) -> dict[str, Any]:
    """A parcel called back through Douyin and/or a courier (``intercepts.intercept``); the
    couriers' calls go through ``http`` (a client of its own, closed after, without one)."""
    carriers = CarrierRegistry(http=http)
    try:
        return intercepts.intercept(uow, platform_for, aftersale_id, actor=actor, via=via,
                                    carriers=carriers)
    finally:
        carriers.close()


def follow_intercepts(uow: UowFactory, shop_ref: int | None = None) -> int:
    """Interceptions judged by the parcels' tracking (``intercepts.follow_intercepts``)."""
    return intercepts.follow_intercepts(uow, shop_ref, carriers=CarrierRegistry())


def sync_after_sales(uow: UowFactory, platform_for: PlatformFactory, shop_ref: int,
                     now: int | None = None) -> AfterSaleReport:
    """A shop's after-sale cases read, interceptions offered and followed, returns tracked
    (``aftersales.sync_after_sales``)."""
    return aftersales.sync_after_sales(uow, platform_for, shop_ref, now,
                                       carriers=CarrierRegistry())


_app: Fahuo | None = None
_app_lock = threading.Lock()


def get_app() -> Fahuo:
    """The process-wide container (CLI, server and worker tasks share it)."""
    global _app
    with _app_lock:
        if _app is None:
            settings = get_settings()
            configure_logging(settings.log_level)
            _app = Fahuo(settings)
        return _app


def set_app(app: Fahuo | None) -> None:
    global _app
    with _app_lock:
        _app = app
