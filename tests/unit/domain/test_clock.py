"""What the merchant reads is Beijing time, whatever zone the server runs in."""

import os
import time

import pytest

from fahuo.domain.clock import shop_time


@pytest.fixture
def server_in_new_york():
    old = os.environ.get("TZ")
    os.environ["TZ"] = "America/New_York"
    time.tzset()
    yield
    if old is None:
        del os.environ["TZ"]
    else:
        os.environ["TZ"] = old
    time.tzset()


def test_epoch_start_reads_eight_in_the_morning_in_china(server_in_new_york):
    # 1970-01-01 00:00 UTC is 08:00 in Beijing and 19:00 the evening before in New York.
    assert time.localtime(0).tm_hour == 19
    assert shop_time(0.0001) == "1970-01-01 08:00"


def test_a_deadline_just_before_midnight_utc_is_the_next_morning_in_china(server_in_new_york):
    ts = 1764719940  # 2025-12-02 23:59 UTC
    assert shop_time(ts, "%m-%d %H:%M") == "12-03 07:59"


def test_no_time_is_shown_as_a_dash():
    assert shop_time(None) == "—"
    assert shop_time(0) == "—"
