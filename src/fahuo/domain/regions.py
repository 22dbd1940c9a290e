"""China's 34 province-level divisions, as merchants and the platform write them.

Used by the audit (is the receiver's province real?) and by courier rules (a rule written as
"广东" must match an order from "广东省"). Pure data, no I/O.
"""

from __future__ import annotations

import unicodedata

# (full name as the platform sends it, common short form)
PROVINCES: tuple[tuple[str, str], ...] = (
    ("北京市", "北京"), ("天津市", "天津"), ("上海市", "上海"), ("重庆市", "重庆"),
    ("河北省", "河北"), ("山西省", "山西"), ("辽宁省", "辽宁"), ("吉林省", "吉林"),
    ("黑龙江省", "黑龙江"), ("江苏省", "江苏"), ("浙江省", "浙江"), ("安徽省", "安徽"),
    ("福建省", "福建"), ("江西省", "江西"), ("山东省", "山东"), ("河南省", "河南"),
    ("湖北省", "湖北"), ("湖南省", "湖南"), ("广东省", "广东"), ("海南省", "海南"),
    ("四川省", "四川"), ("贵州省", "贵州"), ("云南省", "云南"), ("陕西省", "陕西"),
    ("甘肃省", "甘肃"), ("青海省", "青海"), ("台湾省", "台湾"),
    ("内蒙古自治区", "内蒙古"), ("广西壮族自治区", "广西"), ("西藏自治区", "西藏"),
    ("宁夏回族自治区", "宁夏"), ("新疆维吾尔自治区", "新疆"),
    ("香港特别行政区", "香港"), ("澳门特别行政区", "澳门"),
)

_LOOKUP: dict[str, str] = {}
for _full, _short in PROVINCES:
    _LOOKUP[_full] = _full
    _LOOKUP[_short] = _full
    # Hand-typed addresses: "广西省", "新疆省", "内蒙古省", "北京市" written for a short form.
    _LOOKUP.setdefault(_short + "省", _full)
    _LOOKUP.setdefault(_short + "市", _full)
    _LOOKUP.setdefault(_short + "自治区", _full)
# Other spellings seen on parcels and in merchant rule sheets.
_LOOKUP.update({"内蒙": "内蒙古自治区", "新疆维吾尔族自治区": "新疆维吾尔自治区",
                "香港特区": "香港特别行政区", "澳门特区": "澳门特别行政区"})

# Prefecture-level cities without districts (不设区的地级市): the platform may leave the
# district empty and go straight to the town, so an empty district is no defect there.
CITIES_WITHOUT_DISTRICTS = frozenset({"东莞市", "中山市", "儋州市", "嘉峪关市"})


def _clean(text: str) -> str:
    return "".join(unicodedata.normalize("NFKC", text or "").split())


def province_of(text: str) -> str | None:
    """The full province name for a full, short or common hand-typed form; None if unknown."""
    return _LOOKUP.get(_clean(text))


def city_key(name: str) -> str:
    """City name for comparison: "深圳市" and "深圳" are the same city."""
    cleaned = _clean(name)
    return cleaned[:-1] if len(cleaned) > 2 and cleaned.endswith("市") else cleaned
