"""SIGKILL the sync process at random points, again and again: nothing lost, nothing doubled."""

import os
import random
import signal
import sqlite3
import subprocess
import sys
import time

from support import connect_sandbox_shop, make_fahuo


def _run_sync(env, *, kill_after: float | None):
    proc = subprocess.Popen([sys.executable, "-m", "fahuo.entrypoints.cli", "sync", "--quiet"],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if kill_after is None:
        out, err = proc.communicate(timeout=240)
        return proc.returncode, out.decode() + err.decode()
    time.sleep(kill_after)
    proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=30)
    return proc.returncode, ""


def test_sync_killed_at_random_points_ends_with_exactly_the_platform_orders(tmp_path, sandbox):
    app = make_fahuo(tmp_path, sync_lag_s=1, sync_initial_days=3)
    # fahuo paces itself at 25 calls/s here, so a pass takes seconds and kills land mid-way.
    ref, creds = connect_sandbox_shop(app, sandbox, qps=1000, fahuo_qps=25)
    shop_id = creds["shop_id"]
    sandbox.generate(shop_id, 8000, seed=11, spread_seconds=2 * 86400)
    env = {**os.environ, "FAHUO_DATA_DIR": str(app.settings.data_dir),
           "FAHUO_SECRET_KEY": app.settings.secret_key, "FAHUO_SYNC_LAG_S": "1",
           "FAHUO_SYNC_INITIAL_DAYS": "3", "FAHUO_LOG_LEVEL": "WARNING"}
    app.close()
    rnd = random.Random(20261127)
    kills = 0
    for round_no in range(12):
        # The platform moves on meanwhile: new orders and changes to old ones.
        sandbox.generate(shop_id, 1000, seed=100 + round_no, spread_seconds=20)
        sandbox.mutate(shop_id, 100, seed=round_no)
        code, _ = _run_sync(env, kill_after=rnd.uniform(0.7, 2.5))
        kills += code == -signal.SIGKILL
    assert kills >= 10  # really killed, not finished early
    time.sleep(1.1)
    code, output = _run_sync(env, kill_after=None)
    assert code == 0, output

    db = sqlite3.connect(app.settings.sqlite_path)
    assert db.execute("pragma integrity_check").fetchone()[0] == "ok"
    stored = dict(db.execute("select order_id, update_time from orders where shop_ref = ?",
                             (ref,)).fetchall())
    assert stored == sandbox.index(shop_id)  # none missing, none stale
    n, distinct = db.execute("select count(*), count(distinct order_id) from orders").fetchone()
    assert n == distinct == 8000 + 12 * 1000
    orphans = db.execute("select count(*) from sub_orders s left join orders o "
                         "on o.order_id = s.order_id where o.order_id is null").fetchone()[0]
    assert orphans == 0
