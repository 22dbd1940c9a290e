"""Deterministic generator of realistic ``shop_order_list[]`` elements (doc §6.1)."""
from __future__ import annotations

import base64
import hashlib
import random
from datetime import datetime, timedelta, timezone
from typing import Any

import orjson

GMT8 = timezone(timedelta(hours=8))

ORDER_STATUS_DESC = {1: "待支付", 105: "已支付", 2: "备货中", 101: "部分发货", 3: "已发货", 4: "已取消", 5: "已完成"}
MAIN_STATUS_DESC = {**ORDER_STATUS_DESC, 4: "已关闭", 103: "部分支付", 21: "发货前退款完结"}

# ---------------------------------------------------------------- regions (real GB codes)
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
BUYER_WORDS = ["请尽快发货，谢谢！", "麻烦发顺丰，补差价联系我", "送人的，不要放发票", "包装好一点，易碎", "周末不在家，请放快递柜",
               "颜色要和图片一样", "能不能早点发货？急用", "尺码偏小吗？帮我换大一码", "请不要发韵达", "备注：生日礼物，帮忙写张卡片"]
SELLER_WORDS = ["已联系买家改地址", "优先发货", "赠品已备注", "缺货，等补货后发", "顺丰发出", "VIP客户，多送一份小样", "合并发货"]

# ---------------------------------------------------------------- catalogue (~30 products / ~100 SKUs)
_PRODUCTS = [
    ("纯棉短袖T恤男夏季宽松圆领打底衫", "TS", 5990, [("颜色", ["白色", "黑色", "灰色"]), ("尺码", ["M", "L", "XL"])]),
    ("冰丝防晒衣女夏季薄款外套", "FS", 8900, [("颜色", ["粉色", "浅蓝", "白色"]), ("尺码", ["均码"])]),
    ("高腰阔腿牛仔裤女显瘦直筒裤", "NZ", 12900, [("颜色", ["深蓝", "浅蓝"]), ("尺码", ["S", "M", "L"])]),
    ("加厚珊瑚绒睡衣套装", "SY", 9900, [("颜色", ["卡其", "粉色"]), ("尺码", ["L", "XL"])]),
    ("运动休闲鞋男透气跑步鞋", "XZ", 15900, [("颜色", ["黑白", "全黑"]), ("尺码", ["40", "41", "42", "43"])]),
    ("保温杯316不锈钢大容量", "BW", 4990, [("容量", ["500ml", "750ml"]), ("颜色", ["象牙白", "墨绿"])]),
    ("抽纸原木纸巾家用实惠装", "ZJ", 2990, [("规格", ["24包", "36包"])]),
    ("洗衣凝珠持久留香家庭装", "XY", 3990, [("规格", ["52颗", "104颗"])]),
    ("云南小粒咖啡豆中度烘焙", "KF", 6800, [("重量", ["250g", "500g"])]),
    ("五常大米新米东北香米", "DM", 7990, [("重量", ["5kg", "10kg"])]),
    ("每日坚果混合果仁礼盒", "JG", 9900, [("规格", ["30袋", "15袋"])]),
    ("手工红糖姜茶独立小包装", "JC", 2590, [("规格", ["12袋", "24袋"])]),
    ("补水保湿面膜玻尿酸", "MM", 5900, [("规格", ["10片", "20片"])]),
    ("氨基酸洗面奶温和清洁", "XM", 4590, [("规格", ["100g", "150g"])]),
    ("防晒霜SPF50+清爽不油腻", "FSS", 8800, [("规格", ["50ml"])]),
    ("口红哑光丝绒不掉色", "KH", 6900, [("色号", ["#999正红", "#316豆沙", "#888复古红"])]),
    ("无线蓝牙耳机降噪入耳式", "EJ", 19900, [("颜色", ["白色", "黑色"])]),
    ("快充数据线Type-C三合一", "SJX", 1990, [("长度", ["1m", "2m"]), ("颜色", ["白色", "黑色"])]),
    ("手机支架桌面懒人支架", "ZJJ", 1590, [("颜色", ["银色", "黑色"])]),
    ("20000毫安充电宝自带线", "CDB", 8990, [("颜色", ["白色", "黑色", "粉色"])]),
    ("儿童益智积木拼装玩具", "JM", 12900, [("规格", ["500粒", "1000粒"])]),
    ("婴儿纸尿裤超薄透气", "NK", 8990, [("尺码", ["S", "M", "L", "XL"])]),
    ("宠物猫粮成猫全价粮", "MAO", 10900, [("重量", ["2kg", "5kg"])]),
    ("狗狗磨牙棒洁齿零食", "GOU", 2990, [("规格", ["20支", "40支"])]),
    ("硅胶厨房锅铲套装", "GC", 3590, [("规格", ["5件套", "8件套"])]),
    ("不粘锅炒锅家用麦饭石", "CG", 15900, [("尺寸", ["30cm", "32cm"])]),
    ("记忆棉枕头护颈椎", "ZT", 6990, [("规格", ["单只装", "一对装"])]),
    ("四件套纯棉床上用品", "SJT", 19900, [("尺寸", ["1.5m床", "1.8m床"]), ("花色", ["北欧格", "小雏菊"])]),
    ("车载香薰出风口香水", "XX", 3990, [("香型", ["古龙", "海洋", "茉莉"])]),
    ("中性笔办公签字笔0.5mm", "BI", 990, [("规格", ["12支黑", "12支蓝"])]),
]


def _build_catalogue() -> list[dict[str, Any]]:
    cat = []
    for i, (name, short, price, dims) in enumerate(_PRODUCTS):
        product_id = 3600000000000000000 + 7919 * 1000 * (i + 1)
        skus = []
        combos: list[list[tuple[str, str, int]]] = [[]]
        for dname, values in dims:
            combos = [c + [(dname, v, j)] for c in combos for j, v in enumerate(values)]
        for j, combo in enumerate(combos):
            code = f"{short}-{i + 1:02d}-" + "-".join(str(k + 1) for _, _, k in combo)
            skus.append({
                "sku_id": 1700000000000000000 + (i + 1) * 100000 + j,
                "code": code,
                "spec": [{"name": n, "value": v} for n, v, _ in combo],
                "price": price + 500 * (j % 3),
            })
        cat.append({"product_id": product_id, "product_name": name, "skus": skus, "short": short})
    return cat


CATALOGUE = _build_catalogue()
ALL_SKUS = [(p, s) for p in CATALOGUE for s in p["skus"]]

# ---------------------------------------------------------------- ciphertext (reversible, fake)
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


# ---------------------------------------------------------------- helpers

def end_of_day_gmt8(ts: float, plus_days: int = 0) -> int:
    d = datetime.fromtimestamp(ts, GMT8).date() + timedelta(days=plus_days)
    return int(datetime(d.year, d.month, d.day, 23, 59, 59, tzinfo=GMT8).timestamp())


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


def set_status(order: dict[str, Any], status: int) -> None:
    order["order_status"] = status
    order["order_status_desc"] = ORDER_STATUS_DESC[status]
    order["main_status"] = status
    order["main_status_desc"] = MAIN_STATUS_DESC[status]
    for sku in order["sku_order_list"]:
        sku["order_status"] = status
        sku["order_status_desc"] = ORDER_STATUS_DESC[status]
        sku["main_status"] = status
        sku["main_status_desc"] = MAIN_STATUS_DESC[status]


def pick_status(rng: random.Random) -> int:
    r = rng.random()
    if r < 0.02:
        return 105
    if r < 0.07:
        return 1
    if r < 0.11:
        return 4
    return 2


def make_order(rng: random.Random, shop_id: int, order_id: int, create_time: int,
               status: int | None = None) -> dict[str, Any]:
    """Build one ``shop_order_list[]`` element. ``order_id`` must leave room for +1..+3 sub ids."""
    if status is None:
        status = pick_status(rng)
    paid = status != 1
    pay_time = create_time + rng.randint(3, 240) if paid else 0
    update_time = pay_time if paid else create_time
    if status == 4:
        update_time = max(update_time, create_time) + rng.randint(60, 3600)
    presale = rng.random() < 0.05
    pre_sale_type = rng.choice((1, 2)) if presale else 0
    exp_ship = end_of_day_gmt8(pay_time or create_time, rng.randint(7, 15) if presale else 2)
    n_lines = rng.choices((1, 2, 3, 4), weights=(70, 18, 8, 4))[0]
    lines = rng.sample(ALL_SKUS, n_lines)
    pid = str(order_id)
    skus = []
    total = 0
    for k, (prod, sku) in enumerate(lines):
        qty = rng.choices((1, 2, 3), weights=(80, 15, 5))[0]
        origin = sku["price"] * qty
        discount = rng.choice((0, 0, 0, 100, 200, 500)) if origin > 1000 else 0
        pay_amount = origin - discount
        total += pay_amount
        sku_order = {
            "order_id": str(order_id + k),
            "parent_order_id": pid,
            "order_level": 3,
            "order_status": status,
            "order_status_desc": ORDER_STATUS_DESC[status],
            "main_status": status,
            "main_status_desc": MAIN_STATUS_DESC[status],
            "product_id": prod["product_id"],
            "product_id_str": str(prod["product_id"]),
            "product_name": prod["product_name"],
            "product_pic": f"https://p3-aio.ecombdimg.com/obj/ecom-shop-material/{prod['product_id']}.jpeg",
            "out_product_id": f"P-{prod['short']}",
            "sku_id": sku["sku_id"],
            "out_sku_id": sku["code"],
            "code": sku["code"],
            "supplier_id": "",
            "spec": sku["spec"],
            "item_num": qty,
            "goods_price": sku["price"],
            "origin_amount": origin,
            "sum_amount": origin,
            "pay_amount": pay_amount,
            "promotion_amount": discount,
            "post_amount": 0,
            "goods_type": 0,
            "create_time": create_time,
            "pay_time": pay_time,
            "update_time": update_time,
            "exp_ship_time": exp_ship,
            "ship_time": 0,
            "finish_time": 0,
            "appointment_ship_time": 0,
            "pre_sale_type": pre_sale_type,
            "given_product_type": "MASTER",
            "master_sku_order_id_list": [],
            "need_serial_number": False,
            "receive_type": 1,
            "after_sale_info": {"after_sale_status": 0, "after_sale_type": 0, "refund_status": 0},
            "bundle_sku_info": [],
            "inventory_list": [{"warehouse_id": "0", "out_warehouse_id": "", "count": qty, "inventory_type": 0}],
            "is_comment": 0,
        }
        if rng.random() < 0.03:  # 组套 bundle
            sku_order["bundle_sku_info"] = [
                {"sub_product_id": str(prod["product_id"]), "sub_sku_id": str(sku["sku_id"] + 50000 + b),
                 "code": f"{sku['code']}-B{b + 1}", "item_num": 1, "product_name": prod["product_name"],
                 "picture_url": sku_order["product_pic"]}
                for b in range(2)
            ]
        skus.append(sku_order)
    if rng.random() < 0.02:  # a free gift line
        prod, sku = ALL_SKUS[rng.randrange(len(ALL_SKUS))]
        gift = dict(skus[0], order_id=str(order_id + len(skus)), product_id=prod["product_id"],
                    product_id_str=str(prod["product_id"]), product_name=prod["product_name"] + "（赠品）",
                    sku_id=sku["sku_id"], code=sku["code"], out_sku_id=sku["code"], spec=sku["spec"], item_num=1,
                    origin_amount=0, sum_amount=0, pay_amount=0, promotion_amount=0, given_product_type="FREE",
                    master_sku_order_id_list=[skus[0]["order_id"]],
                    inventory_list=[{"warehouse_id": "0", "out_warehouse_id": "", "count": 1, "inventory_type": 0}])
        skus.append(gift)
    post_amount = 0 if total >= 4900 else 600
    stars = 0
    seller_words = ""
    if rng.random() < 0.03:
        seller_words = rng.choice(SELLER_WORDS)
        stars = rng.randint(1, 5)
    order = {
        "order_id": pid,
        "shop_id": shop_id,
        "shop_name": "",
        "open_id": "",
        "order_level": 2,
        "biz": 2,
        "biz_desc": "小店自卖",
        "order_type": 0,
        "order_type_desc": "普通订单",
        "trade_type": 0,
        "trade_type_desc": "普通",
        "order_phase_list": [],
        "order_status": status,
        "order_status_desc": ORDER_STATUS_DESC[status],
        "main_status": status,
        "main_status_desc": MAIN_STATUS_DESC[status],
        "create_time": create_time,
        "pay_time": pay_time,
        "update_time": update_time,
        "finish_time": 0,
        "ship_time": 0,
        "order_expire_time": 1800 if status == 1 else 0,
        "exp_ship_time": exp_ship,
        "appointment_ship_time": 0,
        "cancel_reason": "买家取消：不想要了" if status == 4 else "",
        "buyer_words": rng.choice(BUYER_WORDS) if rng.random() < 0.10 else "",
        "seller_words": seller_words,
        "seller_remark_stars": stars,
        "b_type": rng.choice((2, 2, 2, 1, 3)),
        "b_type_desc": "",
        "sub_b_type": 0,
        "app_id": 1128,
        "pay_type": 1 if paid else 0,
        "channel_payment_no": f"TP{create_time}{order_id % 10 ** 8:08d}" if paid else "",
        "order_amount": total + post_amount,
        "pay_amount": (total + post_amount) if paid else 0,
        "post_amount": post_amount,
        "post_insurance_amount": 0,
        "modify_amount": 0,
        "modify_post_amount": 0,
        "promotion_amount": sum(s["promotion_amount"] for s in skus),
        "promotion_shop_amount": 0,
        "promotion_platform_amount": 0,
        "doudian_open_id": "1@#" + hashlib.sha1(f"{order_id}buyer".encode()).hexdigest()[:24],
        "user_tag_ui": [],
        "shop_order_tag_ui": [{"key": "pre_sale_label", "text": "预售", "help_doc": ""}] if presale else [],
        "address_tag_ui": [],
        "promise_info": "",
        "serial_number_list": [],
        "logistics_info": [],
        "sku_order_list": skus,
    }
    apply_receiver(order, random_receiver(rng))
    return order


def _enc(order: dict[str, Any]) -> str:
    """Compact UTF-8 JSON, as the stdlib's ``ensure_ascii=False`` gives, several times faster:
    every shipping call loads and stores its order's document."""
    return orjson.dumps(order).decode()


def dumps(order: dict[str, Any]) -> str:
    return _enc(order)


def gen_chunk(base_seed: str, k: int, n: int, shop_id: int, now: int, spread: float,
              profile: str) -> list[tuple[int, int, int, int, int, str]]:
    """Rows ``(order_id, shop_id, create_time, update_time, order_status, payload)`` for chunk ``k``.

    Deterministic in its arguments; runs in worker processes for big batches.
    """
    rng = random.Random(f"{base_seed}:{k}")
    rows = []
    for _ in range(n):
        if profile == "spike":  # most orders crowd into a short window near the end
            u = rng.triangular(0.0, 1.0, 0.05) if rng.random() < 0.8 else rng.random()
            u = u * 0.25 if rng.random() < 0.8 else u
        else:
            u = rng.random()
        ct = int(now - u * spread)
        oid = new_order_id(rng)
        order = make_order(rng, shop_id, oid, ct)
        if order["update_time"] > now:
            order["update_time"] = now
            for s in order["sku_order_list"]:
                s["update_time"] = now
        rows.append((oid, shop_id, ct, order["update_time"], order["order_status"], _enc(order)))
    return rows


def _gen_chunk_star(args: tuple) -> list[tuple[int, int, int, int, int, str]]:
    return gen_chunk(*args)


def new_order_id(rng: random.Random) -> int:
    """19-digit parent id starting with 69, a multiple of 8 (room for sub-order ids +1..+7)."""
    return (6900000000000000000 + rng.randrange(10 ** 17)) // 8 * 8
