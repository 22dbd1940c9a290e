"""QPS limit (60000), fault injection and stats."""
from __future__ import annotations

import time


def test_qps_limit_returns_60000(fresh_client):
    c = fresh_client(qps=5)
    c.login()
    results = [c.raw("order.logisticsCompanyList", {}) for _ in range(15)]
    limited = [r for r in results if r["code"] == 60000]
    assert limited, "expected throttling"
    assert sum(1 for r in results if r["code"] == 10000) <= 6
    r = limited[0]
    assert r["sub_code"] == "isv.traffic-limited" and r["msg"] == "请求太频繁，请稍后重试"
    time.sleep(1.05)
    assert c.raw("order.logisticsCompanyList", {})["code"] == 10000
    # settable per app via admin
    c.admin("/sandbox/apps/qps", {"app_key": c.key, "qps": 1000})
    assert all(c.raw("order.logisticsCompanyList", {})["code"] == 10000 for _ in range(15))


def test_faults_errors_bursts_latency_and_stats(fresh_client):
    c = fresh_client()
    c.login()
    other = fresh_client()
    other.login()
    c.admin("/sandbox/faults", {"error_rate": 1.0, "app_key": c.key})
    codes = {c.raw("order.logisticsCompanyList", {})["code"] for _ in range(20)}
    assert codes <= {20000, 20001} and codes
    assert other.raw("order.logisticsCompanyList", {})["code"] == 10000  # scoped to one app
    c.admin("/sandbox/faults", {"throttle_burst": {"every_n": 3, "length": 2}})
    seq = [c.raw("order.logisticsCompanyList", {})["code"] for _ in range(10)]
    assert seq == [10000, 10000, 10000, 60000, 60000] * 2
    c.admin("/sandbox/faults", {"latency_ms": 300})
    t = time.perf_counter()
    assert c.raw("order.logisticsCompanyList", {})["code"] == 10000
    assert time.perf_counter() - t >= 0.3
    c.admin("/sandbox/faults", method="DELETE")
    assert c.raw("order.logisticsCompanyList", {})["code"] == 10000
    stats = c.admin("/sandbox/stats", method="GET")
    assert stats["calls_by_method"]["order.logisticsCompanyList"] >= 33
    assert stats["calls_by_code"]["60000"] == 4
    assert stats["calls_by_method_code"]["token.create:10000"] == 2
