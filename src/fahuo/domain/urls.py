"""Checks for URLs an operator types in (gateways, provider endpoints, alert webhooks)."""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

MAX_URL = 255


def url_problem(url: object, *, max_len: int = MAX_URL) -> str | None:
    """What is wrong with this URL, or None: http(s), a host, no user:password, sane length."""
    if not isinstance(url, str) or not url.strip():
        return "必须填写 http(s) 地址"
    if len(url) > max_len:
        return f"地址太长（最多 {max_len} 个字符）"
    if any(ch.isspace() or ord(ch) < 32 for ch in url):
        return "地址里不能有空格或控制字符"
    try:
        p = urlsplit(url)
        p.port  # noqa: B018 - raises on a port that is not a number 0-65535
    except ValueError:
        return "不是有效的地址"
    if p.scheme not in ("http", "https"):
        return f"必须是 http 或 https 地址，不是 {p.scheme or '无协议'}"
    if not p.hostname:
        return "地址缺少主机名"
    if p.username is not None or p.password is not None or "@" in p.netloc:
        return "地址里不能带用户名或密码（凭据请填在对应字段）"
    return None


def is_loopback(host: str) -> bool:
    host = (host or "").strip("[]").lower()
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
