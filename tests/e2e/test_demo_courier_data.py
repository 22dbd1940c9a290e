"""`fahuo demo` tracks its parcels the way a merchant's install does — a Kuaidi100 account (the
sandbox's), subscriptions, signed pushes — over the three couriers its courier rules pick, and
the sandbox's fast-forwarded couriers give 数据分析 deliveries measured in realistic hours."""

import re
import time

import httpx

from e2e.demo_process import Demo, _free_port


def test_demo_parcels_are_tracked_and_delivered_per_courier(tmp_path):
    port, sandbox_port = _free_port(), _free_port()
    d = Demo(tmp_path, "--port", str(port), "--sandbox-port", str(sandbox_port),
             "--orders", "60", "--rate", "1",
             env={"FAHUO_DEMO_PACK_EVERY_S": "2", "FAHUO_PERIODIC_EVERY_S": "2",
                  # ~30 h of transit in ~5 s of sandbox clock; stamps stay as couriers stamp them
                  "FAHUO_DEMO_FAST_FORWARD": "20000"})
    try:
        url = d.wait_url()
        sandbox = f"http://127.0.0.1:{sandbox_port}"
        deadline = time.monotonic() + 120
        tracked = 0
        while time.monotonic() < deadline and not tracked:
            time.sleep(1)
            found = re.findall(r"parcels tracked: (\d+)", "".join(d.out))
            tracked = int(found[-1]) if found else 0
        assert tracked > 0, d.text()[-3000:]
        # every tracker was subscribed through the sandbox's Kuaidi100, none by a side door
        stats = httpx.get(f"{sandbox}/sandbox/tracking/stats", timeout=10).json()
        assert stats["subscriptions"]["accepted"] >= 1 and stats["subscriptions"]["rejected"] == 0
        delivered: dict[str, dict] = {}
        while time.monotonic() < deadline + 60 and len(delivered) < 3:
            time.sleep(2)
            got = httpx.get(f"{url}api/report/couriers", timeout=30).json()
            delivered = {c["courier"]: c for c in got["couriers"] if c["delivered"]}
        assert set(delivered) == {"zhongtong", "yunda", "yuantong"}, (got, d.text()[-2000:])
        for c in delivered.values():
            # 杭州/金华-side warehouse to anywhere in China: a day or more, never seconds
            assert 12 <= c["median_h"] <= 24 * 8, c
    finally:
        d.stop()
