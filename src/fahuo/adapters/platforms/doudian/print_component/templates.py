"""``logistics.templateList`` (§9.6): the ``templateURL`` per courier the component prints with."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable, Mapping, Protocol

from ..errors import UnexpectedResponse
from .replies import _str

class _Session(Protocol):
    def call(self, method: str, params: dict[str, Any] | None = None) -> Any: ...


@dataclass(frozen=True)
class TemplateInfo:
    template_code: str
    template_name: str
    template_url: str
    template_type: int  # 1 一联单, 2 二联单 (0 if absent)
    template_id: str = ""
    version: str = ""
    preview_url: str = ""  # the API spells it "perview_url"


def _int(v: Any) -> int:
    try:
        return int(str(v).strip())
    except (TypeError, ValueError):
        return 0


def fetch_template_urls(session: _Session) -> dict[str, list[TemplateInfo]]:
    """``logistics.templateList`` (§9.6) → ``{logistics_code: [TemplateInfo, …]}``.

    Templates without a ``template_url`` are dropped (unusable for the component).
    """
    data = session.call("logistics.templateList", {})
    if data is None:
        return {}
    if not isinstance(data, Mapping):
        raise UnexpectedResponse(f"templateList data is {type(data).__name__}, expected an object",
                                 method="logistics.templateList")
    out: dict[str, list[TemplateInfo]] = {}
    for group in data.get("template_data") or []:
        if not isinstance(group, Mapping):
            continue
        code = _str(group.get("logistics_code"))
        if not code:
            continue
        infos = out.setdefault(code, [])
        for t in _iter_dicts(group.get("template_infos")):
            url = _str(t.get("template_url"))
            if not url:
                continue
            infos.append(TemplateInfo(
                template_code=_str(t.get("template_code")), template_name=_str(t.get("template_name")),
                template_url=url, template_type=_int(t.get("template_type")),
                template_id=_str(t.get("template_id")), version=_str(t.get("version")),
                preview_url=_str(t.get("perview_url") or t.get("preview_url"))))
    return out


def _iter_dicts(v: Any) -> Iterable[Mapping[str, Any]]:
    return [x for x in (v or []) if isinstance(x, Mapping)] if isinstance(v, list) else []
