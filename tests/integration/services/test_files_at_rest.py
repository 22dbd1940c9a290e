"""The data folder and every file fahuo writes there are for its own user only; a label
with receiver text in plain (every self-drawn label: its address is whole) does not stay on
disk."""

import os
import re
import stat
import time

import pytest
from fastapi.testclient import TestClient

from labels_support import own_account_packs

from fahuo.bootstrap import Fahuo
from fahuo.config import Settings
from fahuo.services.printing import forget_plain_labels, print_documents, print_labels
from fahuo.services.settings import update_settings
from fahuo.services.users import add_user


def _mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def _loose(root) -> dict[str, str]:
    """Everything under root (root included) that its group or others may open."""
    found = {}
    for dirpath, _dirs, files in os.walk(root):
        for p in [dirpath] + [os.path.join(dirpath, f) for f in files]:
            if _mode(p) & 0o077:
                found[os.path.relpath(p, root)] = oct(_mode(p))
    return found


@pytest.fixture
def fresh(tmp_path):
    """A fresh install with the defaults: key file, SQLite database and queue in data_dir."""
    old = os.umask(0o022)  # the usual umask: files come out 0644 unless fahuo says otherwise
    app = Fahuo(Settings(data_dir=tmp_path / "data"))
    yield app
    app.close()
    os.umask(old)


def _a_queue(settings):
    from fahuo.entrypoints.worker import make_huey
    h = make_huey(settings)
    h.storage.enqueue(b"a task", 0)
    assert h.storage.queue_size() == 1
    return h


def _pack(app, sandbox, seed):
    ref, _, [pack] = own_account_packs(app, sandbox, 1, seed=seed)
    return ref, pack["id"]


def test_fresh_install_init_migrate_queue_and_plain_print_are_private(fresh, sandbox):
    app = fresh
    app.migrate()
    app.box  # noqa: B018 - `fahuo init` creates the key file like this
    _a_queue(app.settings)
    ref, pid = _pack(app, sandbox, 101)
    update_settings(app.uow, ref, {"label_receiver": "plain"}, actor="t")
    r = print_labels(app.uow, app.platform_for, [pid], actor="t",
                     out_dir=app.settings.data_dir / "prints", may_see_receiver=True)
    data = app.settings.data_dir
    names = {p.name for p in data.iterdir()}
    assert {"fahuo.db", "fahuo.db-wal", "queue.db", "secret.key", "prints"} <= names, names
    assert r.path.exists() and r.path.parent == data / "prints"
    assert _mode(data) == 0o700 and _mode(data / "prints") == 0o700
    assert _loose(data) == {}


def test_an_older_install_is_made_private_at_start(tmp_path):
    old = os.umask(0o022)
    try:
        data = tmp_path / "data"
        app = Fahuo(Settings(data_dir=data))
        app.migrate()
        app.box  # noqa: B018
        _a_queue(app.settings)
        app.close()
        # as an install from before this fix left it
        os.chmod(data, 0o755)
        for p in data.iterdir():
            os.chmod(p, 0o644)
        assert _loose(data)
        again = Fahuo(Settings(data_dir=data))
        again.migrate()
        again.close()
        assert _loose(data) == {}
    finally:
        os.umask(old)


def _client(app) -> TestClient:
    from fahuo.entrypoints.web.app import create_app
    return TestClient(create_app(app, embedded_worker=False), follow_redirects=False)


def test_a_label_is_deleted_once_downloaded_plain_contact_or_masked(fahuo, sandbox):
    ref, pid = _pack(fahuo, sandbox, 102)
    add_user(fahuo.uow, "boss", "correct horse", may_see_receiver=True, actor="t")
    c = _client(fahuo)
    c.post("/login", data={"username": "boss", "password": "correct horse", "next": "/ship"})
    c.headers["X-CSRF-Token"] = re.search(  # as the console's own pages send it
        r'name="csrf-token" content="([0-9a-f]+)"', c.get("/").text)[1]
    prints = fahuo.settings.data_dir / "prints"
    masked = c.post("/api/print/labels", json={"pack_ids": [pid]})
    assert masked.status_code == 200, masked.text
    # name and phone masked, but the address is whole: the file goes once handed out
    assert list(prints.iterdir()) == []
    again = c.post("/api/print/labels", json={"pack_ids": [pid]})
    assert again.status_code == 409 and "补打" in again.json()["message"]  # no copy kept
    update_settings(fahuo.uow, ref, {"label_receiver": "plain"}, actor="t")
    plain = c.post("/api/print/labels", json={"pack_ids": [pid], "reason": "明文"})
    assert plain.status_code == 200 and plain.content[:4] == b"%PDF"
    assert plain.content != masked.content
    assert list(prints.iterdir()) == []
    # the console's print button hands it out the same way
    page = c.post("/print", data={"batch": plain.headers["X-Fahuo-Batch"], "reason": "再打"})
    assert page.status_code == 200 and page.content[:4] == b"%PDF"
    assert list(prints.iterdir()) == []


def test_plain_label_is_deleted_after_its_keep_time(fahuo, sandbox, tmp_path):
    ref, pid = _pack(fahuo, sandbox, 103)
    out = tmp_path / "p"
    picks = print_documents(fahuo.uow, "picklist", [pid], actor="t", out_dir=out)
    update_settings(fahuo.uow, ref, {"label_receiver": "plain"}, actor="t")
    plain = print_labels(fahuo.uow, fahuo.platform_for, [pid], actor="t", out_dir=out,
                         may_see_receiver=True, plain_keep_s=0.5)
    assert plain.path.exists() and plain.plain
    deadline = time.monotonic() + 10
    while plain.path.exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not plain.path.exists()  # the process that wrote it deleted it in time
    assert picks.path.exists()  # a pick list carries no receiver: it stays


def test_sweep_deletes_only_label_files_older_than_the_keep_time(fahuo, sandbox, tmp_path):
    ref, pid = _pack(fahuo, sandbox, 104)
    out = tmp_path / "p"
    picks = print_documents(fahuo.uow, "picklist", [pid], actor="t", out_dir=out)
    label = print_labels(fahuo.uow, fahuo.platform_for, [pid], actor="t", out_dir=out)
    made = label.path.stat().st_mtime
    assert forget_plain_labels(out, 3600, now=made + 3599) == 0 and label.path.exists()
    assert forget_plain_labels(out, 3600, now=made + 3601) == 1
    assert not label.path.exists() and picks.path.exists()
    os.utime(picks.path, (made - 86400, made - 86400))
    assert forget_plain_labels(out, 3600, now=made + 3601) == 0 and picks.path.exists()


def test_a_start_sweeps_plain_labels_left_behind(tmp_path, sandbox):
    from support import make_fahuo
    app = make_fahuo(tmp_path, plain_label_keep_s=60)
    try:
        ref, pid = _pack(app, sandbox, 105)
        out = app.settings.data_dir / "prints"
        r = print_labels(app.uow, app.platform_for, [pid], actor="cli", out_dir=out)
        past = time.time() - 61
        os.utime(r.path, (past, past))  # written by a CLI run that ended long ago
        app.migrate()  # what every command, `fahuo serve` and `fahuo worker` do at start
        assert not r.path.exists()
    finally:
        app.close()
