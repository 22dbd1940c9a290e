"""What the console's paged lists share: the URL a list keeps, and a refused filter's page."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import HTMLResponse

from fahuo.entrypoints.web.console.render import error_page
from fahuo.services.lists import PER_PAGE, ListFilterError


def kept(per: int = PER_PAGE, **filters: Any) -> dict[str, Any]:
    """The list's filter as its links keep it: empty values left out, ``per`` if not 50."""
    out = {k: v for k, v in filters.items() if v not in (None, "")}
    if per != PER_PAGE:
        out["per"] = per
    return out


def back(path: str, params: dict[str, Any], msg: str) -> str:
    """The list again, as it was filtered, with a message."""
    return f"{path}?{urlencode({**params, 'msg': msg})}"


def refused(request: Request, exc: ListFilterError) -> HTMLResponse:
    return error_page(request, f"筛选条件有误：{exc}", 400)
