"""The daily alert digest carries the report's flags, in Chinese, once a day per channel."""

from __future__ import annotations

from fahuo.bootstrap import add_channel
from fahuo.services.report import send_flag_digest
from integration.services.test_tracking_watch import _Receiver
from integration.store.test_report_couriers import T0, _problem_history
from support import serve_in_thread

D = 86400


def test_the_digest_names_the_courier_flag_once_a_day(fahuo):
    _problem_history(fahuo)  # 广东省: zhongtong 10/25 refused, yuantong 0/25
    now = T0 + 2 * D  # 2026-03-03 00:00: the last 30 shop days hold the history
    rec = _Receiver("s3cret-hook")
    with serve_in_thread(rec.app) as url:
        add_channel(fahuo.uow, "老板", "webhook", {"url": f"{url}/hook", "secret": "s3cret-hook"},
                    ["*"], interval_s=1800)
        add_channel(fahuo.uow, "仓库群", "webhook",
                    {"url": f"{url}/hook", "secret": "s3cret-hook"}, ["pickup_timeout"])
        sent = send_flag_digest(fahuo.uow, fahuo.notify, now=now,
                                link_base="https://fahuo.example.com")
        assert [(s["channel"], s["ok"]) for s in sent] == [("老板", True)]  # 仓库群 wants less
        (msg,) = rec.got
        assert msg["kind"] == "report_flags" and msg["count"] == 1
        assert msg["title"] == "【fahuo】每日数据分析预警：1 条（2026-02-02 至 2026-03-03）"
        assert msg["lines"] == [
            "快递预警 广东省：中通快递 (zhongtong)问题件率 40.0%（10/25 件，派送失败、拒收或退回），"
            "其他快递 0.0%（25 件）；建议广东省走圆通速递（问题件率 0.0%）"]
        assert msg["link"] == ("https://fahuo.example.com/report?from=2026-02-02&to=2026-03-04")
        # once a day: an hour later nothing, a day later again
        assert send_flag_digest(fahuo.uow, fahuo.notify, now=now + 3600) == []
        again = send_flag_digest(fahuo.uow, fahuo.notify, now=now + D)
        assert [s["channel"] for s in again] == ["老板"] and len(rec.got) == 2


def test_no_flags_no_digest(fahuo):
    rec = _Receiver("s")
    with serve_in_thread(rec.app) as url:
        add_channel(fahuo.uow, "老板", "webhook", {"url": f"{url}/hook", "secret": "s"}, ["*"])
        assert send_flag_digest(fahuo.uow, fahuo.notify, now=T0) == []
    assert rec.got == []
