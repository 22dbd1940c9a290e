"""The after-shipping and stock commands, as a merchant types them."""

from __future__ import annotations

import time

from fahuo.services.watch import Watch
from support import flat


def test_exceptions_deadlines_and_stock_from_the_command_line(fahuo, run, tmp_path):
    from support import order_payload
    from fahuo.services.orders import store_platform_orders
    from fahuo.services.shops import NewShop, add_shop
    now = int(time.time())
    with fahuo.uow() as uow:
        ref = add_shop(uow, NewShop(shop_id="1001", app_key="3409409348479354011",
                                    app_secret="s", gateway_url="http://127.0.0.1:1"))
        late = order_payload("6900000000000000555", now - 86400 - 3600)  # due an hour ago
        store_platform_orders(uow, ref, [late])
    Watch(fahuo.uow, notify=fahuo.notify).detect()
    listed = run("exceptions", "list", "--kind", "overdue")
    assert listed.exit_code == 0 and "6900000000000000555" in listed.output
    fid = listed.output.split("│")[1].strip()  # the first column of the first row
    assert run("exceptions", "assign", fid, "小王").exit_code == 0
    assert run("exceptions", "close", fid, "--reason", "已联系买家").exit_code == 0
    closed = run("exceptions", "list", "--status", "closed")
    assert "小王" in closed.output
    bad = run("exceptions", "close", "99999", "--reason", "x")
    assert bad.exit_code == 2 and "没有异常 #99999" in flat(bad)
    assert "已超时" in flat(run("deadlines", "--within-h", "1"))
    (tmp_path / "count.csv").write_text("商家编码,数量,新编码\nCUP-A,12,是\n", encoding="utf-8")
    assert run("stock", "import", str(tmp_path / "count.csv")).exit_code == 0
    adj = run("stock", "adjust", "CUP-A", "-2", "--reason", "破损")
    assert adj.exit_code == 0 and "实物 10" in flat(adj)
    neg = run("stock", "adjust", "CUP-A", "-20")
    assert neg.exit_code == 2 and "调整后实物为 -10 件，库存不能为负" in flat(neg)
    assert "CUP-A" in run("stock", "show").output
