"""Settings from ``FAHUO_*`` environment variables (or a ``.env`` file)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field
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
    rate_qps: float = Field(50.0, description="default API call budget per app, calls/second")
    platform_concurrency: int = Field(
        8, ge=1, le=64, description="shipment confirmations in flight at once (within rate_qps)")

    wms_dir: Path | None = Field(None, description="folder shared with a third-party warehouse "
                                 "(outbound/ and inbound/ files); unset = no warehouse")
    public_url: str = Field("", description="fahuo's address as merchants and providers reach "
                            "it (links in alerts, e.g. https://fahuo.example.com)")
    webhook_max_body: int = Field(1 << 20, description="largest accepted push body, bytes")
    embedded_worker: bool = Field(True, description="run the task consumer inside `fahuo serve`")
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
