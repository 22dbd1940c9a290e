import threading
import time
import uuid

import pytest

from fahuo.adapters.platforms.doudian import RateBudget
from fahuo.adapters.platforms.doudian.ratelimit import RateBudgetExhausted


def test_budget_limits_calls_per_second():
    budget = RateBudget(5)
    started = time.monotonic()
    for _ in range(11):
        budget.acquire("app-1")
    elapsed = time.monotonic() - started
    assert 2.0 <= elapsed < 4.0
    budget.close()


def test_a_quarter_of_the_budget_goes_at_once():
    budget = RateBudget(20)
    started = time.monotonic()
    for _ in range(5):
        budget.acquire("app-1")
    assert time.monotonic() - started < 0.2
    budget.close()


def test_a_whole_second_of_calls_never_leaves_in_one_burst():
    # 16 a second, sent as one burst at the end of a window and one at the start of the
    # next, would land 32 inside one platform second after a little jitter: the fifth call
    # within a quarter second (16 / 4 = 4 fit) has to wait for the next quarter.
    budget = RateBudget(16, max_wait_s=0.05)
    for _ in range(4):
        budget.acquire("app-1")
    with pytest.raises(RateBudgetExhausted):
        budget.acquire("app-1")
    budget.close()


def test_budget_is_per_app():
    budget = RateBudget(12, per_seconds=1.0)  # 3 a quarter second: no wait below
    started = time.monotonic()
    for app in ("a", "b", "c"):
        for _ in range(3):
            budget.acquire(app)
    assert time.monotonic() - started < 0.5
    budget.close()


def test_budget_shared_between_threads():
    budget = RateBudget(4, per_seconds=0.5)
    stamps = []
    lock = threading.Lock()

    def work():
        for _ in range(3):
            budget.acquire("app")
            with lock:
                stamps.append(time.monotonic())

    threads = [threading.Thread(target=work) for _ in range(3)]
    started = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # 9 calls at 4 per 0.5 s: the 9th cannot happen before 1.0 s
    assert max(stamps) - started >= 1.0
    budget.close()


@pytest.mark.parametrize("kw", [{"calls": 0}, {"calls": 2.5}, {"per_seconds": 0}])
def test_invalid_budget(kw):
    with pytest.raises(ValueError):
        RateBudget(**kw)


def test_client_calls_pass_the_budget(make_client, gateway):
    budget = RateBudget(5)
    client = make_client(rate_budget=budget)
    started = time.monotonic()
    for _ in range(6):
        client.call("order.searchList", {}, "T")
    assert time.monotonic() - started >= 1.0
    assert len(gateway.seen) == 6
    budget.close()


def test_redis_budget_shared_between_instances(redis_url):
    """Two RateBudget objects (= two worker machines) share one app budget in Redis."""
    prefix = f"fahuo-test:{uuid.uuid4().hex}"
    one = RateBudget(5, redis_url=redis_url, key_prefix=prefix)
    two = RateBudget(5, redis_url=redis_url, key_prefix=prefix)
    assert one.shared and two.shared
    started = time.monotonic()
    for i in range(11):
        (one if i % 2 else two).acquire("app-shared")
    elapsed = time.monotonic() - started
    assert 2.0 <= elapsed < 4.0
    one.close()
    two.close()
