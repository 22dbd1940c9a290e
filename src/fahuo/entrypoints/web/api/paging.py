"""What the API's paged lists share: a refused filter is a 422 with the Chinese reason."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi.responses import JSONResponse

from fahuo.services.lists import ListFilterError, Page

REFUSED: dict[int | str, dict[str, Any]] = {422: {"description": "a filter value the list does not have (message: why)"}}


def listed(read: Callable[[], Page], **more: Any) -> Any:
    """``{total, offset, limit, items}`` (and ``more``), or 422 ``{message}``."""
    try:
        return read().as_api() | more
    except ListFilterError as exc:
        return JSONResponse({"message": str(exc)}, 422)
