"""New shops confirm shipment at print; 取号后发货 only as an explicit choice, with a warning
that it risks 虚假发货, in the console, the API and the CLI."""

import re

import pytest
from fastapi.testclient import TestClient

from fahuo.adapters.store import models as m
from fahuo.entrypoints.web.app import create_app
from fahuo.services.settings import SettingsError, update_settings
from fahuo.services.shops import NewShop, add_shop


def _shop(app, shop_id="1001"):
    with app.uow() as uow:
        return add_shop(uow, NewShop(shop_id=shop_id, app_key="3409409348479354011",
                                     app_secret="s", gateway_url="http://127.0.0.1:1"))


def test_a_new_shop_confirms_at_print_and_keeps_that_choice_stored(fahuo):
    ref = _shop(fahuo)
    with fahuo.uow() as u:
        stored = u.conn.execute(m.shop_settings.select().where(
            m.shop_settings.c.shop_ref == ref)).first()
        assert stored is not None and stored.confirm_mode == "on_print"
        assert u.settings.get(ref)["confirm_mode"] == "on_print"
        # a shop whose settings were never saved (an older install) reads the default too
        u.conn.execute(m.shop_settings.delete().where(m.shop_settings.c.shop_ref == ref))
        assert u.settings.get(ref)["confirm_mode"] == "on_print"


def test_an_existing_shops_stored_choice_is_kept(fahuo):
    ref = _shop(fahuo)
    with fahuo.uow() as u:  # stored by an older version, whose default was on_waybill
        u.conn.execute(m.shop_settings.update().where(
            m.shop_settings.c.shop_ref == ref).values(confirm_mode="on_waybill"))
    cfg = update_settings(fahuo.uow, ref, {"sender_name": "王仓管"}, actor="t")
    assert cfg["confirm_mode"] == "on_waybill"
    assert any("虚假发货" in w for w in cfg["warnings"])


def test_on_waybill_is_warned_about_and_a_bad_mode_is_named_in_chinese(fahuo):
    ref = _shop(fahuo)
    assert update_settings(fahuo.uow, ref, {"confirm_mode": "on_scan"}, actor="t")[
        "warnings"] == []
    cfg = update_settings(fahuo.uow, ref, {"confirm_mode": "on_waybill"}, actor="t")
    assert cfg["confirm_mode"] == "on_waybill" and "虚假发货" in cfg["warnings"][0]
    with pytest.raises(SettingsError) as bad:
        update_settings(fahuo.uow, ref, {"confirm_mode": "now"}, actor="t")
    assert "打印后发货 (on_print)" in bad.value.problems["confirm_mode"]


def test_api_answers_with_the_warning(fahuo):
    ref = _shop(fahuo)
    with TestClient(create_app(fahuo, embedded_worker=False)) as c:
        got = c.get(f"/api/shops/{ref}/settings").json()
        assert got["confirm_mode"] == "on_print" and got["warnings"] == []
        put = c.put(f"/api/shops/{ref}/settings", json={"confirm_mode": "on_waybill"}).json()
        assert put["confirm_mode"] == "on_waybill" and "虚假发货" in put["warnings"][0]
        assert "虚假发货" in c.get(f"/api/shops/{ref}/settings").json()["warnings"][0]


def test_console_needs_the_risk_ticked_to_choose_on_waybill(fahuo):
    ref = _shop(fahuo)
    with TestClient(create_app(fahuo, embedded_worker=False)) as c:
        page = c.get(f"/shops/{ref}").text
        assert re.search(r'<option value="on_print" selected>打印后发货（默认）', page)
        assert "取号后发货（有虚假发货风险）" in page and 'id="on-waybill-warning"' not in page
        token = re.search(r'name="csrf_token" value="([^"]+)"', page)[1]
        refused = c.post(f"/shops/{ref}/settings", data={
            "csrf_token": token, "confirm_mode": "on_waybill"})
        assert "我了解虚假发货风险" in refused.text
        with fahuo.uow() as u:
            assert u.settings.get(ref)["confirm_mode"] == "on_print"
        saved = c.post(f"/shops/{ref}/settings", data={
            "csrf_token": token, "confirm_mode": "on_waybill", "accept_on_waybill_risk": "1"})
        assert "设置已保存" in saved.text and 'id="on-waybill-warning"' in saved.text
        with fahuo.uow() as u:
            assert u.settings.get(ref)["confirm_mode"] == "on_waybill"


def test_cli_setting_warns_on_the_terminal(fahuo):
    from typer.testing import CliRunner

    from fahuo.bootstrap import set_app
    from fahuo.entrypoints.cli import cli
    ref = _shop(fahuo)
    set_app(fahuo)
    try:
        r = CliRunner().invoke(cli, ["shop", "settings", "--shop", str(ref), "--set",
                                     "confirm_mode=on_waybill"])
        assert r.exit_code == 0, r.output
        assert "注意" in r.output and "虚假发货" in r.output
        quiet = CliRunner().invoke(cli, ["shop", "settings", "--shop", str(ref), "--set",
                                         "confirm_mode=on_print"])
        assert quiet.exit_code == 0 and "注意" not in quiet.output
    finally:
        set_app(None)
