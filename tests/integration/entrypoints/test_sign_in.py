"""Once the install has users, strangers see only the sign-in page, the API wants a token,
webhooks still work, and plain receivers print only for people allowed to see them."""

from __future__ import annotations

import os
import re

import fitz
import pytest
from fastapi.testclient import TestClient

from fahuo.adapters.labels.pdf import find_font
from fahuo.entrypoints.web.app import create_app
from fahuo.services.settings import update_settings
from fahuo.services.users import UserError, add_user, change_user, issue_token


def _client(fahuo) -> TestClient:
    return TestClient(create_app(fahuo, embedded_worker=False), follow_redirects=False)


def csrf(client, page="/") -> str:
    """The CSRF token a console page hands the browser (as the page's JavaScript reads it)."""
    return re.search(r'name="csrf-token" content="([0-9a-f]+)"', client.get(page).text)[1]


def _login(client, name, password):
    return client.post("/login", data={"username": name, "password": password, "next": "/ship"})


def test_without_users_the_console_is_open_and_nobody_is_signed_in(fahuo):
    c = _client(fahuo)
    assert c.get("/").status_code == 200
    assert c.get("/api/me").json() == {"user": None}
    # and nobody can make themselves admin through the open API
    r = c.post("/api/users", json={"username": "mallory", "password": "12345678"})
    assert r.status_code == 403


def test_with_users_strangers_are_sent_to_sign_in(fahuo):
    add_user(fahuo.uow, "boss", "correct horse", actor="t")
    c = _client(fahuo)
    r = c.get("/orders?state=held")
    assert r.status_code == 303 and r.headers["location"] == "/login?next=/orders%3Fstate%3Dheld"
    assert c.get("/api/orders").status_code == 401
    assert c.get("/healthz").status_code == 200
    assert c.get("/login").status_code == 200
    # the platform's pushes are not asked to sign in (they are checked by signature instead)
    assert c.post("/webhooks/doudian", content=b"{}").status_code in (401, 403)
    bad = _login(c, "boss", "wrong horse")
    assert bad.status_code == 303 and "/login" in bad.headers["location"]
    assert c.get("/").status_code == 303
    good = _login(c, "boss", "correct horse")
    assert good.status_code == 303 and good.headers["location"] == "/ship"
    page = c.get("/")
    assert page.status_code == 200 and "boss" in page.text
    assert c.get("/api/me").json()["user"]["username"] == "boss"
    # a made-up session id is refused; the database holds only the real one's digest
    value = c.cookies.get("fahuo_session")
    with fahuo.uow() as uow:
        stored = [r[0] for r in uow.conn.exec_driver_sql("SELECT id_hash FROM sessions")]
    assert value not in stored and len(stored) == 1
    forged = TestClient(create_app(fahuo, embedded_worker=False), follow_redirects=False)
    forged.cookies.set("fahuo_session", value[:-2] + ("aa" if value[-2:] != "aa" else "bb"))
    assert forged.get("/").status_code == 303


def test_api_tokens_and_admin_only_user_management(fahuo):
    add_user(fahuo.uow, "boss", "correct horse", actor="t")
    add_user(fahuo.uow, "packer", "packer pass", actor="t")  # operator
    c = _client(fahuo)
    boss, packer = issue_token(fahuo.uow, "boss", actor="t"), issue_token(fahuo.uow, "packer",
                                                                          actor="t")
    assert c.get("/api/orders", headers={"Authorization": "Bearer nope"}).status_code == 401
    assert c.get("/api/orders", headers={"Authorization": f"Bearer {packer}"}).status_code == 200
    r = c.post("/api/users", json={"username": "new1", "password": "12345678"},
               headers={"Authorization": f"Bearer {packer}"})
    assert r.status_code == 403
    r = c.post("/api/users", json={"username": "new1", "password": "12345678"},
               headers={"Authorization": f"Bearer {boss}"})
    assert r.status_code == 201 and r.json()["role"] == "operator"
    # a new token replaces the old one
    issue_token(fahuo.uow, "packer", actor="t")
    assert c.get("/api/orders", headers={"Authorization": f"Bearer {packer}"}).status_code == 401
    with pytest.raises(UserError, match="最后一个管理员"):
        change_user(fahuo.uow, "boss", actor="t", role="operator")
    change_user(fahuo.uow, "new1", actor="t", disabled=True)
    assert _login(c, "new1", "12345678").headers["location"].startswith("/login")


def _text(pdf: bytes) -> str:
    return "".join(p.get_text() for p in fitz.open(stream=pdf, filetype="pdf"))


@pytest.mark.skipif(not find_font().embedded and not os.environ.get("CI"),
                    reason="no embeddable CJK font on this machine")
def test_plain_receiver_prints_only_for_someone_allowed_to_see_it(fahuo, sandbox):
    from labels_support import own_account_packs, plain_receivers
    ref, _, [pack] = own_account_packs(fahuo, sandbox, 1, seed=121)
    pid, oid = pack["id"], pack["main_order_id"]
    name = plain_receivers(fahuo, ref, [oid])[oid].name
    update_settings(fahuo.uow, ref, {"label_receiver": "plain"}, actor="t")
    add_user(fahuo.uow, "boss", "correct horse", actor="t")
    add_user(fahuo.uow, "packer", "packer pass", actor="t")
    c = _client(fahuo)
    _login(c, "packer", "packer pass")
    c.headers["X-CSRF-Token"] = csrf(c)  # as the console's own pages send it
    r = c.post("/api/print/labels", json={"pack_ids": [pid]})
    assert r.status_code == 200 and name not in _text(r.content)
    change_user(fahuo.uow, "packer", actor="boss", may_see_receiver=True)
    r = c.post("/api/print/labels", json={"pack_ids": [pid], "reason": "换明文"})
    assert r.status_code == 200 and name in _text(r.content)
    with fahuo.uow() as uow:
        who = {b["created_by"] for b in uow.prints.batches(limit=10)}
    assert who == {"packer"}


def test_sign_in_works_with_the_install_key_file(tmp_path):
    # The default install keeps its key in data_dir/secret.key, not in FAHUO_SECRET_KEY.
    from fahuo.bootstrap import Fahuo
    from fahuo.config import Settings
    app = Fahuo(Settings(data_dir=tmp_path / "data"))
    app.migrate()
    try:
        add_user(app.uow, "boss", "correct horse", actor="t")
        c = _client(app)
        assert _login(c, "boss", "correct horse").headers["location"] == "/ship"
        assert c.get("/").status_code == 200
    finally:
        app.close()
