"""Courier reference: Douyin codes, the names merchants type, and tracking-number formats.

Sources: tracking-and-couriers.md §4 (code cross-reference) and §5 (number formats). Douyin's
own list comes from ``order.logisticsCompanyList`` at runtime; this table is only for
recognising what a merchant typed and for rejecting obviously wrong numbers. Per §5 no regex
is authoritative: patterns reject garbage (an SF number typed under 中通), they never pick a
courier for a bare number.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Courier:
    code: str  # Douyin company_code where confirmed, else the Kuaidi100 code (§4)
    name: str
    aliases: tuple[str, ...]
    pattern: str | None  # None: no trustworthy format known; only the generic checks apply
    format_zh: str = ""
    douyin_confirmed: bool = False  # code seen in Douyin docs/samples (§4)


# Patterns: union of the public-code candidates in §5 with the legacy lengths it lists,
# leaning lenient where confidence is low (a wrong rejection blocks a real parcel).
_POST = r"[1589]\d{12}|P[A-Z]\d{11}|[A-Z]{2}\d{9}[A-Z]{2}"
_POST_ZH = "13位数字，或国际格式如AA123456789CN"
COURIERS: tuple[Courier, ...] = (
    Courier("shunfeng", "顺丰速运", ("顺丰", "顺丰快递", "顺丰速递", "SF", "SF Express", "顺丰速运"),
            r"SF[0-9A-Z]\d{12}|\d{12}", "SF加13位数字，旧单号为12位数字", True),
    Courier("zhongtong", "中通快递", ("中通", "ZTO", "中通速递"),
            r"7\d{13}|\d{12,13}", "以7开头的14位数字，旧单号为12–13位数字", True),
    Courier("yuantong", "圆通速递", ("圆通", "圆通快递", "YTO"),
            r"YT\d{13}", "YT加13位数字", True),
    Courier("yunda", "韵达快递", ("韵达", "韵达速递", "YD", "YUNDA"),
            r"\d{12,13}|\d{15}", "13或15位数字，也有12位", True),
    Courier("shentong", "申通快递", ("申通", "STO"),
            r"(?:77|43)\d{12,15}|\d{12,13}", "以77开头的15位数字，旧单号为12–13位数字", True),
    Courier("jtexpress", "极兔速递", ("极兔", "极兔快递", "J&T", "J&T Express", "JT", "JTSD"),
            r"JT\d{12,13}", "JT加13位数字", True),
    Courier("jd", "京东快递", ("京东", "京东物流", "JD"),
            r"JD[0-9A-Z]{2}\d{11}", "JD加2位字母/数字再加11位数字，如JDVA00003618100", True),
    Courier("youzhengguonei", "邮政快递包裹", ("邮政", "中国邮政", "邮政包裹", "邮政国内", "YZPY",
                                           "邮政小包", "邮政国内小包"), _POST, _POST_ZH),
    Courier("youzhengbk", "邮政标准快递", ("邮政标快", "邮政标准快递", "YZBK"), _POST, _POST_ZH),
    Courier("ems", "EMS", ("EMS", "中国邮政EMS", "邮政EMS", "邮政特快专递", "EMS快递"),
            _POST, _POST_ZH),
    Courier("debangwuliu", "德邦快递", ("德邦", "德邦物流", "德邦快递", "debangkuaidi", "DBL"),
            r"DPK\d{11,13}|\d{8,10}", "DPK加12位数字，旧单号为8–10位数字"),
    Courier("huitongkuaidi", "百世快递", ("百世", "百世汇通", "汇通", "HTKY"), None),
    Courier("youshuwuliu", "优速快递", ("优速", "优速物流", "UC"), None),
    Courier("zhaijisong", "宅急送", ("宅急送", "ZJS"), None),
    # §5 lists "621 + 12 digits" for 菜鸟速递 at low confidence: not enforced.
    Courier("danniao", "丹鸟", ("丹鸟", "菜鸟速递", "DNWL", "CNSD"), None),
    Courier("kuayue", "跨越速运", ("跨越", "跨越速运", "KYSY"), None),
    Courier("annengwuliu", "安能物流", ("安能", "安能快递", "安能物流", "ANE"), None),
    Courier("jingdongkuaiyun", "京东快运", ("京东快运", "JDKY"), None),
    Courier("shunfengkuaiyun", "顺丰快运", ("顺丰快运",), None),
    Courier("zhongtongkuaiyun", "中通快运", ("中通快运",), None),
    Courier("yundakuaiyun", "韵达快运", ("韵达快运",), None),
    Courier("qita", "其他", ("其他", "其它"), None, douyin_confirmed=True),
)
BY_CODE: dict[str, Courier] = {c.code: c for c in COURIERS}
_PATTERNS = {c.code: re.compile(rf"(?:{c.pattern})", re.IGNORECASE)
             for c in COURIERS if c.pattern}

# Company-name endings merchants add or drop. 快运 is not here: 中通快运 is not 中通快递.
_SUFFIXES = ("股份有限公司", "有限公司", "公司", "快递", "速递", "速运", "物流")


def _key(text: str) -> str:
    return "".join(unicodedata.normalize("NFKC", text or "").split()).lower()


_ALIASES: dict[str, str] = {}
for _c in COURIERS:
    for _name in (_c.code, _c.name, *_c.aliases):
        _ALIASES.setdefault(_key(_name), _c.code)


def courier_code(name_or_code: str) -> str | None:
    """The courier code for "中通", "中通快递", "ZTO", "zhongtong" or "圆通速递有限公司"."""
    key = _key(name_or_code)
    if not key:
        return None
    if key in _ALIASES:
        return _ALIASES[key]
    stripped = key
    for _ in range(3):  # "中通快递有限公司" → "中通快递" → "中通"
        for suffix in _SUFFIXES:
            if stripped.endswith(suffix) and len(stripped) > len(suffix):
                stripped = stripped[: -len(suffix)]
                break
        if stripped in _ALIASES:
            return _ALIASES[stripped]
    return None


def courier_name(code: str) -> str:
    c = BY_CODE.get(code)
    return c.name if c else code


def normalize_tracking_no(raw: str) -> str:
    """What a merchant pasted → the number: full-width to ASCII, whitespace and Excel's
    leading apostrophe removed, letters upper-cased (numbers are printed upper-case)."""
    text = unicodedata.normalize("NFKC", raw or "")
    text = "".join(text.split())
    return text.lstrip("'").upper()


MIN_LEN, MAX_LEN = 6, 30  # Kuaidi100 query 6–32, Kdniao ≤ 30 (§5)
_ALLOWED = re.compile(r"[A-Za-z0-9-]+")


def check_tracking_no(code: str, number: str) -> str | None:
    """None if ``number`` could be a tracking number of courier ``code``; else the reason in
    Chinese and English. Unknown couriers (from the runtime list) get the generic checks only."""
    if not number:
        return "快递单号为空 / tracking number is empty"
    if any(not 0x21 <= ord(ch) <= 0x7E for ch in number):
        return ("快递单号含空格、全角或中文字符，无法打印条码 / tracking number has characters "
                "outside printable ASCII (Code128)")
    if not _ALLOWED.fullmatch(number):
        return ("快递单号只能含字母、数字和横线 / tracking number may contain only letters, "
                "digits and '-'")
    if not MIN_LEN <= len(number) <= MAX_LEN:
        return (f"快递单号长度应为{MIN_LEN}–{MAX_LEN}位，实际{len(number)}位 / tracking number "
                f"length must be {MIN_LEN}–{MAX_LEN}, got {len(number)}")
    pattern = _PATTERNS.get(code)
    if pattern is not None and not pattern.fullmatch(number):
        c = BY_CODE[code]
        return (f"快递单号与{c.name}的格式不符，应为{c.format_zh} / tracking number does not "
                f"match the {c.code} format")
    return None
