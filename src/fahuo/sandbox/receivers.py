"""Buyers and where they live: regions (real GB codes), names, phones, addresses; the reversible fake
ciphertext of the platform's encrypted fields (doc §7.1) and the masked forms."""
from __future__ import annotations

import base64
import hashlib
import random
from typing import Any


REGIONS: list[tuple[tuple[str, str], tuple[str, str], tuple[str, str], tuple[str, str]]] = [
    (("11", "北京市"), ("110100", "北京市"), ("110105", "朝阳区"), ("110105001", "建外街道")),
    (("11", "北京市"), ("110100", "北京市"), ("110108", "海淀区"), ("110108002", "中关村街道")),
    (("31", "上海市"), ("310100", "上海市"), ("310115", "浦东新区"), ("310115004", "陆家嘴街道")),
    (("31", "上海市"), ("310100", "上海市"), ("310104", "徐汇区"), ("310104003", "漕河泾街道")),
    (("44", "广东省"), ("440300", "深圳市"), ("440305", "南山区"), ("440305007", "粤海街道")),
    (("44", "广东省"), ("440100", "广州市"), ("440106", "天河区"), ("440106010", "石牌街道")),
    (("44", "广东省"), ("441900", "东莞市"), ("441900003", "塘厦镇"), ("441900003001", "林村社区")),
    (("33", "浙江省"), ("330100", "杭州市"), ("330106", "西湖区"), ("330106009", "文新街道")),
    (("33", "浙江省"), ("330700", "金华市"), ("330782", "义乌市"), ("330782002", "稠城街道")),
    (("32", "江苏省"), ("320500", "苏州市"), ("320506", "吴中区"), ("320506101", "长桥街道")),
    (("32", "江苏省"), ("320100", "南京市"), ("320104", "秦淮区"), ("320104011", "夫子庙街道")),
    (("51", "四川省"), ("510100", "成都市"), ("510107", "武侯区"), ("510107020", "玉林街道")),
    (("50", "重庆市"), ("500100", "重庆市"), ("500105", "江北区"), ("500105002", "观音桥街道")),
    (("42", "湖北省"), ("420100", "武汉市"), ("420111", "洪山区"), ("420111006", "珞南街道")),
    (("43", "湖南省"), ("430100", "长沙市"), ("430104", "岳麓区"), ("430104005", "望月湖街道")),
    (("37", "山东省"), ("370200", "青岛市"), ("370202", "市南区"), ("370202014", "八大关街道")),
    (("37", "山东省"), ("370100", "济南市"), ("370102", "历下区"), ("370102008", "泉城路街道")),
    (("41", "河南省"), ("410100", "郑州市"), ("410105", "金水区"), ("410105015", "花园路街道")),
    (("13", "河北省"), ("130100", "石家庄市"), ("130102", "长安区"), ("130102003", "育才街道")),
    (("61", "陕西省"), ("610100", "西安市"), ("610113", "雁塔区"), ("610113001", "小寨路街道")),
    (("35", "福建省"), ("350200", "厦门市"), ("350203", "思明区"), ("350203010", "鹭江街道")),
    (("34", "安徽省"), ("340100", "合肥市"), ("340104", "蜀山区"), ("340104004", "三里庵街道")),
    (("36", "江西省"), ("360100", "南昌市"), ("360111", "青山湖区"), ("360111002", "京东镇")),
    (("53", "云南省"), ("530100", "昆明市"), ("530102", "五华区"), ("530102004", "华山街道")),
    (("52", "贵州省"), ("520100", "贵阳市"), ("520102", "南明区"), ("520102001", "花果园街道")),
    (("45", "广西壮族自治区"), ("450100", "南宁市"), ("450103", "青秀区"), ("450103001", "新竹街道")),
    (("21", "辽宁省"), ("210100", "沈阳市"), ("210102", "和平区"), ("210102005", "太原街街道")),
    (("22", "吉林省"), ("220100", "长春市"), ("220104", "朝阳区"), ("220104008", "桂林街道")),
    (("23", "黑龙江省"), ("230100", "哈尔滨市"), ("230103", "南岗区"), ("230103010", "花园街道")),
    (("12", "天津市"), ("120100", "天津市"), ("120101", "和平区"), ("120101002", "小白楼街道")),
    (("46", "海南省"), ("460100", "海口市"), ("460106", "龙华区"), ("460106001", "中山街道")),
    (("65", "新疆维吾尔自治区"), ("650100", "乌鲁木齐市"), ("650102", "天山区"), ("650102003", "幸福路街道")),
    (("54", "西藏自治区"), ("540100", "拉萨市"), ("540102", "城关区"), ("540102002", "八廓街道")),
    (("54", "西藏自治区"), ("542500", "阿里地区"), ("542523", "噶尔县"), ("542523100", "狮泉河镇")),
    (("63", "青海省"), ("632700", "玉树藏族自治州"), ("632701", "玉树市"), ("632701001", "结古街道")),
    (("65", "新疆维吾尔自治区"), ("653200", "和田地区"), ("653201", "和田市"), ("653201001", "努尔巴格街道")),
]


# Where shops keep warehouses: not the remote areas some couriers do not serve (a sender in
# 阿里 would make whole shops undeliverable for them, which no merchant rehearses).
_REMOTE = {"西藏自治区", "玉树藏族自治州", "和田地区", "三沙市"}
WAREHOUSE_REGIONS = [r for r in REGIONS if r[0][1] not in _REMOTE and r[1][1] not in _REMOTE]
ROADS = ["人民路", "解放路", "建设路", "中山路", "长江路", "和平路", "科技园路", "新华路", "文化路", "滨河路", "学府路", "青年路"]
COMMUNITIES = ["阳光花园", "锦绣家园", "翠苑小区", "金色港湾", "万科城", "碧桂园", "融创府", "幸福里", "东方明珠苑", "绿地新都会"]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史黎贺顾毛郝龚邵万钱覃武戴孔汤庞樊兰殷施陶洪翟安颜倪严牛温芦季俞章鲁葛伍申尤毕聂柴焦向柳邢岳齐沿梅莫庄辛管祝左涂谷祁时舒耿牟卜路詹关苗凌费纪靳盛童欧甄项曲成游阳裴席卫查屈鲍位覃霍翁隋植甘景薄单包司柏宁柯阮桂闵欧解强丛华车冉房边辜吉饶刁瞿戚丘古米池滕晋苑邬臧畅宫来嵺苟全褚廉简娄盖符奚木穆党燕郎邸冀谈姬屠连郜晏栾郁商蒙计喻揭窦迟宇敖糜鄢冷卓花仇艾蓝都巩稽井练仲乐虞卞封竺冼原官衣楚佟栗匡宗应台巫鞠僖桑荆谌银扬明沙薄伏岑习胥保和蔺"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华玉兰萍红鹏飞婷雪琳晨宇浩然子涵欣怡梓萱一诺思远佳琪俊杰雨桐博文"
MOBILE_PREFIXES = ["130", "131", "132", "133", "135", "136", "137", "138", "139", "150", "151", "152", "155", "156", "157",
                   "158", "159", "166", "173", "176", "177", "178", "180", "181", "182", "183", "185", "186", "187", "188", "189", "199"]


_KEY = hashlib.sha256(b"fahuo-sandbox").digest() * 64


def _xor(data: bytes) -> bytes:
    n = len(data)
    return (int.from_bytes(data, "big") ^ int.from_bytes(_KEY[:n], "big")).to_bytes(n, "big")


def _cipher_body(plain: str) -> str:
    raw = _xor(plain.encode("utf-8"))
    return base64.b64encode(raw).decode().rstrip("=")


def encrypt_text(plain: str, kind: str) -> str:
    """kind: name | tel | addr. Forms: ``##…*…#1##`` / ``$$…*…$1$$`` / ``##…#1##`` (doc §7.1)."""
    body = _cipher_body(plain)
    tag = hashlib.md5(plain.encode("utf-8")).hexdigest()[:12]
    if kind == "tel":
        return f"$${body}*{tag}$1$$"
    if kind == "name":
        return f"##{body}*{tag}#1##"
    return f"##{body}#1##"


def decrypt_text(cipher: str) -> str:
    """Inverse of :func:`encrypt_text` (for a future ``order.batchDecrypt``)."""
    inner = cipher[2:-4]
    body = inner.split("*", 1)[0]
    body += "=" * (-len(body) % 4)
    return _xor(base64.b64decode(body)).decode("utf-8")


def mask_name(name: str) -> str:
    return name[0] + "*" * max(1, len(name) - 1)


def mask_tel(tel: str) -> str:
    return tel[:3] + "****" + tel[-4:]


def random_receiver(rng: random.Random) -> dict[str, Any]:
    region = REGIONS[rng.randrange(len(REGIONS))]
    name = rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))
    tel = rng.choice(MOBILE_PREFIXES) + f"{rng.randrange(10 ** 8):08d}"
    detail = f"{rng.choice(ROADS)}{rng.randint(1, 999)}号{rng.choice(COMMUNITIES)}{rng.randint(1, 30)}栋{rng.randint(1, 3)}单元{rng.randint(101, 2808)}室"
    return {"region": region, "name": name, "tel": tel, "detail": detail}


def apply_receiver(order: dict[str, Any], rcv: dict[str, Any]) -> None:
    (pid, pname), (cid, cname), (tid, tname), (sid, sname) = rcv["region"]
    masked_detail = rcv["detail"][:3] + "****"
    enc_name = encrypt_text(rcv["name"], "name")
    enc_tel = encrypt_text(rcv["tel"], "tel")
    enc_detail = encrypt_text(rcv["detail"], "addr")
    post_addr = {
        "province": {"id": pid, "name": pname},
        "city": {"id": cid, "name": cname},
        "town": {"id": tid, "name": tname},
        "street": {"id": sid, "name": sname},
        "detail": masked_detail,
        "encrypt_detail": enc_detail,
    }
    upd = {
        "encrypt_post_receiver": enc_name,
        "encrypt_post_tel": enc_tel,
        "mask_post_receiver": mask_name(rcv["name"]),
        "mask_post_tel": mask_tel(rcv["tel"]),
        "mask_post_addr": {"province": post_addr["province"], "city": post_addr["city"],
                           "town": post_addr["town"], "street": post_addr["street"], "detail": masked_detail},
        "post_addr": post_addr,
        "post_receiver": "",
        "post_tel": "",
    }
    order.update(upd)
    for sku in order.get("sku_order_list", []):
        sku.update(upd)
