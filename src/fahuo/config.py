"""Settings from ``FAHUO_*`` environment variables (or a ``.env`` file)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="FAHUO_", env_file=".env", extra="ignore")

    data_dir: Path = Field(Path(".fahuo"), description="where the SQLite files and key live")
    database_url: str | None = Field(None, description="SQLAlchemy URL; default SQLite in data_dir")
    redis_url: str | None = Field(None, description="Redis for the worker queue and rate budgets")
    secret_key: str | None = Field(
        None, description="base64 AES-256 key for PII and secrets; default: data_dir/secret.key")
    host: str = "127.0.0.1"
    port: int = 8600
    log_level: str = "INFO"

    # Order sync
    sync_every_minutes: int = Field(1, ge=1, le=60, description="minutes between polls of a shop")
    sync_overlap_s: int = Field(60, description="each poll re-reads this many seconds back")
    sync_lag_s: int = Field(3, description="poll windows end this many seconds before now")
    sync_initial_days: int = Field(7, ge=1, le=90, description="first sync of a new shop")
    sync_window_max_total: int = Field(
        5000, description="a window holding more orders than this is split (keeps offsets small)")
    sync_window_max_span_s: int = Field(86400, description="longest time window of one query")
    rate_qps: float = Field(50.0, ge=0.5, le=10000,
                            description="default API call budget per app, calls/second")
    rate_max_wait_s: float = Field(
        10.0, gt=0, le=600, description="longest a call waits for the rate budget; past it "
        "the call fails at once and is retried later (a worker thread is never held longer)")
    platform_concurrency: int = Field(
        8, ge=1, le=64, description="shipment confirmations in flight at once (within rate_qps)")

    wms_dir: Path | None = Field(None, description="folder shared with a third-party warehouse "
                                 "(outbound/ and inbound/ files); unset = no warehouse")
    public_url: str = Field("", description="fahuo's address as merchants and providers reach "
                            "it (links in alerts, e.g. https://fahuo.example.com)")
    trust_proxy_headers: bool = Field(
        False, description="behind a reverse proxy: believe its X-Forwarded-Proto/-Host "
        "(https → Secure cookies, the origin CSRF checks compare with)")
    webhook_max_body: int = Field(1 << 20, description="largest accepted push body, bytes")
    # Merchant uploads (导入发货, 盘点/入库 files): refused whole beyond these, never cut.
    import_max_bytes: int = Field(5 << 20, ge=1024, le=1 << 30,
                                  description="largest accepted .xlsx/.csv upload, bytes")
    import_max_rows: int = Field(20_000, ge=1, le=1_000_000,
                                 description="most data rows in one uploaded file")
    import_time_budget_s: float = Field(30.0, gt=0, le=3600,
                                        description="seconds one upload may take to read")
    embedded_worker: bool = Field(True, description="run the task consumer inside `fahuo serve`")
    lease_s: float = Field(30.0, ge=1, le=600, description="locks (a pipeline pass, a shop's "
                           "sync, the scheduler's leadership) expire this long after their "
                           "holder stops renewing them (renewed every third of it)")
    periodic_every_s: int = Field(60, ge=1, le=60, description="seconds between checks of the "
                                  "periodic tasks (a divisor of 60; 60 in production: the "
                                  "schedules are per minute, shorter only for tests)")

    @field_validator("periodic_every_s")
    @classmethod
    def _divides_a_minute(cls, v: int) -> int:
        if 60 % v:  # periods must line up with the minutes the schedules name
            raise ValueError(f"must divide 60 (1, 2, 3, 4, 5, 6, 10, 12, 15, 20, 30, 60), got {v}")
        return v
    plain_label_keep_s: int = Field(
        3600, ge=1, le=7 * 86400, description="a label file with the receiver in plain text is "
        "deleted once downloaded, or after this many seconds (masked labels stay)")

    @property
    def sqlite_path(self) -> Path:
        return self.data_dir / "fahuo.db"

    @property
    def queue_path(self) -> Path:
        """The embedded task queue (SQLite) when there is no Redis."""
        return self.data_dir / "queue.db"

    @property
    def prints_dir(self) -> Path:
        return self.data_dir / "prints"

    @property
    def db_url(self) -> str:
        return self.database_url or f"sqlite:///{self.sqlite_path}"


@lru_cache
def get_settings() -> Settings:
    return Settings()
