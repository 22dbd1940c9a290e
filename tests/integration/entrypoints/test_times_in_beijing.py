"""What a person reads is in Beijing time whatever the server's TZ (issue 13, "One clock").

The same deadline is rendered by the console, the CLI and an alert e-mail with the process's
zone switched between UTC and New York (``time.tzset``): every displayed time must be the same
string, and it must be the Beijing one worked out here by hand.
"""

from __future__ import annotations

import os
import re
import time
from email.utils import parsedate_to_datetime

import pytest
from fastapi.testclient import TestClient

from fahuo.adapters.notify.base import Alert
from fahuo.adapters.notify.email import build_message
from fahuo.entrypoints.web.app import create_app
from fahuo.services.orders import store_platform_orders
from fahuo.services.shops import NewShop, add_shop
from support import order_payload

ORDER = "6900000000000000777"
# 2024-03-04 23:30 in Beijing (UTC+8) is 15:30 UTC and 10:30 in New York (UTC-5 in March,
# before daylight saving starts): the server's clock would show another hour, or another day.
DEADLINE = 1709566200
BEIJING = "2024-03-04 23:30"
STAMP = re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}|\d{2}-\d{2} \d{2}:\d{2}")


@pytest.fixture
def zone():
    """``zone(name)`` switches this process's local time zone; restored afterwards."""
    before = os.environ.get("TZ")

    def switch(name: str) -> None:
        os.environ["TZ"] = name
        time.tzset()
    yield switch
    if before is None:
        os.environ.pop("TZ", None)
    else:
        os.environ["TZ"] = before
    time.tzset()


def test_the_hand_worked_instant_is_what_the_zones_say():
    assert time.strftime("%Y-%m-%d %H:%M", time.gmtime(DEADLINE)) == "2024-03-04 15:30"
    assert time.strftime("%Y-%m-%d %H:%M", time.gmtime(DEADLINE + 8 * 3600)) == BEIJING


def test_console_cli_and_alert_show_beijing_time_under_any_server_zone(fahuo, run, zone):
    with fahuo.uow() as uow:
        ref = add_shop(uow, NewShop(shop_id="1001", app_key="3409409348479354011",
                                    app_secret="s", gateway_url="http://127.0.0.1:1"))
        store_platform_orders(uow, ref, [order_payload(ORDER, DEADLINE - 86400)])
    seen: dict[str, dict[str, list[str]]] = {}
    with TestClient(create_app(fahuo, embedded_worker=False)) as client:
        for tz in ("UTC", "America/New_York"):
            zone(tz)
            assert time.strftime("%H:%M", time.localtime(DEADLINE)) != "23:30"  # zone is on
            page = client.get(f"/orders/{ORDER}")
            assert page.status_code == 200
            listed = run("orders", "list")
            assert listed.exit_code == 0, listed.output
            mail = build_message(Alert("overdue", "【fahuo】1 个已超时未发货", ["订单"]),
                                 "fahuo@example.com", ["ops@example.com"])
            seen[tz] = {
                "console": [s for s in STAMP.findall(page.text) if s.startswith("2024-03-04")],
                "cli": [s for s in STAMP.findall(listed.output) if s.startswith("03-04")],
                "alert": [parsedate_to_datetime(mail["Date"]).strftime("%z")],
            }
    assert seen["UTC"] == seen["America/New_York"], seen
    got = seen["UTC"]
    assert got["console"] and set(got["console"]) == {BEIJING}, got
    assert got["cli"] == [BEIJING[5:]], got  # the CLI's short form, month-day hour:minute
    assert got["alert"] == ["+0800"]
