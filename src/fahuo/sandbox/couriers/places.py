"""Geography of the simulated parcels: cities (province, id, coordinates), distances, short place
names; and GMT+8 times as couriers print them."""
from __future__ import annotations

import math
import random
import time


HOUR = 3600
DAY = 86400


# city → (province, city id, latitude, longitude): every generator region plus two western hubs.
CITIES: dict[str, tuple[str, str, float, float]] = {
    "北京市": ("北京市", "110100", 39.90, 116.40), "上海市": ("上海市", "310100", 31.23, 121.47),
    "深圳市": ("广东省", "440300", 22.54, 114.06), "广州市": ("广东省", "440100", 23.13, 113.26),
    "东莞市": ("广东省", "441900", 23.02, 113.75), "杭州市": ("浙江省", "330100", 30.27, 120.15),
    "金华市": ("浙江省", "330700", 29.08, 119.65), "苏州市": ("江苏省", "320500", 31.30, 120.58),
    "南京市": ("江苏省", "320100", 32.06, 118.80), "成都市": ("四川省", "510100", 30.57, 104.07),
    "重庆市": ("重庆市", "500100", 29.56, 106.55), "武汉市": ("湖北省", "420100", 30.59, 114.31),
    "长沙市": ("湖南省", "430100", 28.23, 112.94), "青岛市": ("山东省", "370200", 36.07, 120.38),
    "济南市": ("山东省", "370100", 36.65, 117.12), "郑州市": ("河南省", "410100", 34.75, 113.63),
    "石家庄市": ("河北省", "130100", 38.04, 114.51), "西安市": ("陕西省", "610100", 34.34, 108.94),
    "厦门市": ("福建省", "350200", 24.48, 118.09), "合肥市": ("安徽省", "340100", 31.82, 117.23),
    "南昌市": ("江西省", "360100", 28.68, 115.86), "昆明市": ("云南省", "530100", 25.04, 102.71),
    "贵阳市": ("贵州省", "520100", 26.65, 106.63), "南宁市": ("广西壮族自治区", "450100", 22.82, 108.37),
    "沈阳市": ("辽宁省", "210100", 41.81, 123.43), "长春市": ("吉林省", "220100", 43.82, 125.32),
    "哈尔滨市": ("黑龙江省", "230100", 45.80, 126.53), "天津市": ("天津市", "120100", 39.34, 117.36),
    "海口市": ("海南省", "460100", 20.04, 110.20), "乌鲁木齐市": ("新疆维吾尔自治区", "650100", 43.83, 87.62),
    "拉萨市": ("西藏自治区", "540100", 29.65, 91.14), "阿里地区": ("西藏自治区", "542500", 32.50, 80.10),
    "玉树藏族自治州": ("青海省", "632700", 33.00, 97.01), "和田地区": ("新疆维吾尔自治区", "653200", 37.11, 79.92),
    "兰州市": ("甘肃省", "620100", 36.06, 103.83), "西宁市": ("青海省", "630100", 36.62, 101.78),
}


# Sorting centres parcels pass through (remote prefectures are destinations, not hubs).
HUB_CITIES = [c for c in CITIES if c not in ("阿里地区", "玉树藏族自治州", "和田地区", "东莞市", "金华市")]
_DISTRICTS = {"北京市": "朝阳区", "上海市": "浦东新区", "广州市": "天河区", "深圳市": "南山区"}


def short_city(name: str) -> str:
    for suf in ("藏族自治州", "地区", "市"):
        if name.endswith(suf) and len(name) > len(suf) + 1:
            return name[: -len(suf)]
    return name


def short_district(name: str) -> str:
    for suf in ("新区", "区", "县", "市", "镇"):
        if name.endswith(suf) and len(name) > len(suf) + 1:
            return name[: -len(suf)]
    return name


def fmt_time(at: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(at + 8 * HOUR))


def km(a: str, b: str) -> float:
    _, _, la1, lo1 = CITIES[a]
    _, _, la2, lo2 = CITIES[b]
    p1, p2, dl = math.radians(la1), math.radians(la2), math.radians(lo2 - lo1)
    c = math.sin(p1) * math.sin(p2) + math.cos(p1) * math.cos(p2) * math.cos(dl)
    return 6371.0 * math.acos(max(-1.0, min(1.0, c)))


def resolve_place(place: dict[str, str] | str | None, rng: random.Random) -> dict[str, str]:
    """``{province, city, district}`` with ``city`` a key of :data:`CITIES` (unknown text → a seeded pick)."""
    text = " ".join(str(v) for v in place.values()) if isinstance(place, dict) else str(place or "")
    found = next((c for c in CITIES if c in text), None) or next((c for c in CITIES if short_city(c) in text), None)
    if found is None:
        found = rng.choice(sorted(CITIES))
    district = (place or {}).get("district") if isinstance(place, dict) else None
    return {"province": CITIES[found][0], "city": found, "district": district or _DISTRICTS.get(found, "城区")}
