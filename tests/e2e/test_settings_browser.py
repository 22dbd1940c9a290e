"""Shop settings as forms in a real browser (issue 14): a failed save keeps what was typed and
shows the error beside its field; a courier rule added in the rule list changes the courier
the sample order would get."""

from __future__ import annotations

import time

import pytest

from e2e.test_console_browser import browser  # noqa: F401 - a fixture
from support import make_fahuo, ready_to_ship, serve_in_thread

from fahuo.entrypoints.web.app import create_app

# Provinces where every sandbox courier delivers everywhere (sandbox/logistics/reach.py lists
# the remote areas: Tibet, Xinjiang, Qinghai, Hainan's Sansha).
PLAIN = {"北京市", "上海市", "浙江省", "江苏省", "广东省", "山东省", "河南省", "四川省",
         "湖北省", "湖南省", "福建省", "安徽省", "河北省", "陕西省", "辽宁省", "重庆市"}


@pytest.fixture
def fahuo(tmp_path):
    app = make_fahuo(tmp_path, sync_lag_s=1)
    yield app
    app.close()


def test_failed_save_keeps_input_and_a_new_rule_changes_the_sample_courier(fahuo, sandbox,
                                                                          browser):  # noqa: F811
    ref, creds = ready_to_ship(fahuo, sandbox, confirm_mode=None)
    sandbox.generate(creds["shop_id"], 30, seed=77, spread_seconds=600)
    time.sleep(1.05)
    with fahuo.uow() as u:
        shop = u.shops.get(ref)
    fahuo.order_sync.run(ref, fahuo.platform_for(shop))
    with fahuo.uow() as u:
        _, rows = u.orders.search(shop_ref=ref, sort="created", limit=200)
    sample = next(r for r in rows if r["province"] in PLAIN)
    shots = fahuo.settings.data_dir
    with serve_in_thread(create_app(fahuo, embedded_worker=False)) as url:
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.goto(f"{url}/shops/{ref}")
        # a bad merge window and a bad font: nothing saved, each error beside its own field
        page.fill("#merge_window_s", "两小时")
        page.fill("#zpl_font", "E:BAD^FONT.TTF")
        page.fill("#sender_name", "三号仓")
        page.click("#basic-form button[type=submit]")
        assert "整秒数" in page.locator("#err-merge_window_s").inner_text()
        assert "ZPL 字体" in page.locator("#err-zpl_font").inner_text()
        assert page.input_value("#merge_window_s") == "两小时"  # what was typed is kept
        assert page.input_value("#zpl_font") == "E:BAD^FONT.TTF"
        assert page.input_value("#sender_name") == "三号仓"
        # the error sits right after its input, inside the same field box
        assert page.locator("#merge_window_s ~ #err-merge_window_s").count() == 1
        assert page.get_attribute("#merge_window_s", "aria-invalid") == "true"
        page.locator("#basic-form").screenshot(path=str(shots / "settings-failed-save.png"))
        with fahuo.uow() as u:
            assert u.settings.get(ref)["sender_name"] == "王仓管"  # nothing half-applied

        # the sample order: no rule for its province, so the default courier (中通) takes it
        page.goto(f"{url}/shops/{ref}?sample={sample['order_id']}#sample")
        assert page.locator("#sample-courier").inner_text() == "中通快递"
        assert "默认快递" in page.locator("#sample-result").inner_text()
        # add a rule: the sample's province goes by 圆通
        page.click("#rule-add")
        n = page.locator("fieldset.rule").count() - 1  # the new, empty rule is the last
        page.fill(f"#r{n}_name", "本省走圆通")
        page.select_option(f"#r{n}_courier_code", "yuantong")
        page.select_option(f"#r{n}_provinces", [sample["province"]])
        page.click("#rules-save")
        assert "快递策略已保存" in page.locator("[role=status]").first.inner_text()
        assert page.locator("#sample-courier").inner_text() == "圆通速递"
        assert f"规则「本省走圆通」：省份{sample['province']}" in page.locator(
            "#sample-result").inner_text()
        page.locator("#rules-form").screenshot(path=str(shots / "settings-rules.png"))
        page.locator("#sample-result").screenshot(path=str(shots / "settings-sample.png"))
    with fahuo.uow() as u:
        names = [r["name"] for r in u.settings.get(ref)["courier_rules"]]
    assert names == ["西藏走顺丰", "本省走圆通"]
    print("screenshots:", shots)
