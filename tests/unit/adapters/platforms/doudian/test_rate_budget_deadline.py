"""A call never waits for the rate budget past its deadline: it fails now, retried later."""

import time

import pytest

from fahuo.adapters.platforms.doudian.errors import Throttled
from fahuo.adapters.platforms.doudian.ratelimit import RateBudget, RateBudgetExhausted
from fahuo.bootstrap import Fahuo
from fahuo.config import Settings
from fahuo.services.shops import NewShop


def test_a_budget_slower_than_the_deadline_fails_at_once():
    budget = RateBudget(1, per_seconds=10_000, max_wait_s=1.0)  # 0.0001 calls/s
    budget.acquire("app")  # the first call fits
    started = time.monotonic()
    with pytest.raises(RateBudgetExhausted, match="no room within 1 s; retry later"):
        budget.acquire("app")
    assert time.monotonic() - started < 0.5  # no sleeping to find out
    budget.close()


def test_a_wait_within_the_deadline_is_waited_and_one_past_it_fails_at_the_deadline():
    budget = RateBudget(2, per_seconds=1.0, max_wait_s=2.0)
    started = time.monotonic()
    for _ in range(3):  # the third waits about a second: within 2 s
        budget.acquire("app")
    assert 0.5 < time.monotonic() - started < 2.0
    budget.close()
    tight = RateBudget(2, per_seconds=1.0, max_wait_s=2.0)
    tight.acquire("app")
    tight.acquire("app")
    started = time.monotonic()
    with pytest.raises(RateBudgetExhausted):
        tight.acquire("app", max_wait_s=0.2)  # the next slot is ~1 s away
    assert time.monotonic() - started < 0.8
    tight.close()


def test_the_error_is_a_throttle_the_client_does_not_retry_in_place():
    err = RateBudgetExhausted("x", method="order.searchList")
    assert isinstance(err, Throttled) and not err.retryable


def test_fahuo_budgets_carry_the_configured_deadline(tmp_path):
    app = Fahuo(Settings(data_dir=tmp_path, rate_max_wait_s=7))
    assert app.rate_budget(0.0001).max_wait_s == 7


@pytest.mark.parametrize("qps,ok", [(0.0001, False), (0.49, False), (0.5, True), (50, True),
                                    (10000, True), (10001, False), (float("nan"), False),
                                    (float("inf"), False)])
def test_shop_rates_must_be_sane(qps, ok):
    new = NewShop(shop_id="1", app_key="1234567890123456789", app_secret="s", rate_qps=qps)
    assert ("rate_qps" not in new.problems()) is ok
    if not ok:
        assert new.problems()["rate_qps"] == "每秒调用次数须在 0.5 到 10000 之间"


def test_the_default_rate_setting_is_checked_too(tmp_path):
    with pytest.raises(ValueError, match="rate_qps"):
        Settings(data_dir=tmp_path, rate_qps=0.0001)
