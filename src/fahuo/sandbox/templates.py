"""Print templates (doc §9.6): ``logistics.templateList``.

Returns the platform's standard templates for every courier the sandbox's e-waybill module knows
(:data:`fahuo.sandbox.logistics.COURIERS`): a 76×130 二联单 (``template_type`` 2) and a 100×180
一联单 (``template_type`` 1) each. The URLs are made up but shaped like the platform's CDN XML
links; nothing fetches them in the sandbox. The typo ``perview_url`` is the platform's own.
"""
from __future__ import annotations

import zlib
from typing import Any

from .gateway import Ctx, api_method
from .logistics import COURIERS

TEMPLATE_CDN = "https://lf3-cm.ecombdstatic.com/obj/logistics-davinci/template"

# (size suffix, name suffix, template_type, version)
_LAYOUTS = (
    ("76_130", "76*130 二联单", 2, 2),
    ("100_180", "100*180 一联单", 1, 1),
)


def template_infos(code: str) -> list[dict[str, Any]]:
    name = COURIERS[code][0]
    out = []
    for size, label, typ, version in _LAYOUTS:
        tcode = f"{code}_{size}"
        out.append({
            "template_id": 100000 + zlib.crc32(tcode.encode()) % 900000,
            "template_code": tcode,
            "template_name": f"{name}标准模板 {label}",
            "template_url": f"{TEMPLATE_CDN}/{tcode}.xml",
            "version": version,
            "template_type": typ,
            "perview_url": f"{TEMPLATE_CDN}/preview/{tcode}.png",
        })
    return out


@api_method("logistics.templateList")
def template_list(ctx: Ctx, params: dict[str, Any]) -> Any:
    return {"template_data": [{"logistics_code": code, "template_infos": template_infos(code)}
                              for code in COURIERS]}
