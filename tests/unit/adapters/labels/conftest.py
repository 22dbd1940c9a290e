from __future__ import annotations

import dataclasses
from datetime import datetime

import pytest

from fahuo.adapters.labels.model import Custom, LabelData, Party

def make_label(track_no: str = "78123456789012", courier_code: str = "zhongtong",
               **changes) -> LabelData:
    base = LabelData(
        track_no=track_no, courier_code=courier_code,
        sender=Party("张三旗舰店", "138****0000", ("浙江省杭州市余杭区", "文一西路 998 号")),
        receiver=Party("李晓明", "139****1234",
                       ("广东省 深圳市 南山区", "科技园南区 高新南七道 18 号 3 栋 1201")),
        sort_code="300-A12 05", short_address="深圳转 南山", package_center="深圳转运中心",
        items_summary="连衣裙 红色 M ×1; T恤 白色 L ×2",
        order_ids=("6920000000000000001",), pack_no=1, pack_count=2,
        printed_at=datetime(2024, 5, 1, 12, 30),
        custom=Custom(text="感谢购买！有问题请联系客服", qr_text="https://example.com/s/123"))
    return dataclasses.replace(base, **changes)


@pytest.fixture
def label_factory():
    return make_label
