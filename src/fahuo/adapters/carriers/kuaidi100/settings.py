"""Kuaidi100 credentials and endpoints (§1.1)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping

DEFAULT_BASE_URL = "https://poll.kuaidi100.com"
#: labelV2 gateway (电子面单 / 快递拦截 ``interceptOrder``): another host than the poll API
DEFAULT_LABEL_URL = "https://api.kuaidi100.com/label/order"


@dataclass(frozen=True)
class Kuaidi100Settings:
    customer: str  # 授权码 / 公司编号 - query signing
    key: str = field(repr=False)  # 授权key - query signing, subscription
    #: signs labelV2 calls (快递拦截); tracking does not need it
    secret: str | None = field(default=None, repr=False)
    base_url: str = DEFAULT_BASE_URL  # ``/poll`` and ``/poll/query.do`` are appended
    label_url: str = DEFAULT_LABEL_URL  # the full ``/label/order`` URL (a sandbox serves it too)
    #: ``resultv2`` sent on query and subscribe: "4" gives per-trace ``statusCode`` (advanced
    #: sub-state) that fahuo's mapper uses; "" turns it off (§1.2).
    resultv2: str = "4"
    #: minimum seconds between two queries of the same number (§1.2: 30 min, else 锁单)
    min_query_interval: float = 30 * 60
    timeout: float = 15.0
    courier_overrides: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.customer or not self.key:
            raise ValueError("快递100账号需要填写 customer 和 key（required）")
        if not self.base_url.startswith(("https://", "http://")):
            raise ValueError(f"接口地址须为 http(s) 网址：{self.base_url!r}（base_url must be an http(s) URL）")
        if not self.label_url.startswith(("https://", "http://")):
            raise ValueError(f"面单接口地址须为 http(s) 网址：{self.label_url!r}（label_url must be an http(s) URL）")
        object.__setattr__(self, "base_url", self.base_url.rstrip("/"))
