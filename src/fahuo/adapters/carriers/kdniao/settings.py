"""Kdniao credentials and endpoints (§2.1)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping

DEFAULT_ENDPOINT = "https://api.kdniao.com/api/dist"
SANDBOX_ENDPOINT = "http://sandboxapi.kdniao.com:8080/kdniaosandbox/gateway/exterfaceInvoke.json"


@dataclass(frozen=True)
class KdniaoSettings:
    ebusiness_id: str  # EBusinessID / 用户ID
    api_key: str = field(repr=False)  # AppKey / ApiKey - signs requests, verifies pushes
    endpoint: str = DEFAULT_ENDPOINT  # full URL; all RequestTypes are POSTed here
    #: RequestType used when a courier is given: "8001" (即时查询, paid) or "1002" (legacy free)
    query_request_type: str = "8001"
    timeout: float = 15.0
    courier_overrides: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.ebusiness_id or not self.api_key:
            raise ValueError("快递鸟账号需要填写 ebusiness_id 和 api_key（required）")
        if not self.endpoint.startswith(("https://", "http://")):
            raise ValueError(f"接口地址须为 http(s) 网址：{self.endpoint!r}（endpoint must be an http(s) URL）")
        if self.query_request_type not in ("8001", "1002"):
            raise ValueError("query_request_type must be '8001' or '1002'")
