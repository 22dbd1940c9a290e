"""A previewed file waits for its 确认: once, for who uploaded it, encrypted, for 30 minutes."""
import os
import time

from fahuo.adapters.crypto import SecretBox
from fahuo.adapters.files.staged import StagedUploads

DATA = "订单号,快递公司,快递单号\n6900000000000000001,中通,78111111111111\n".encode()


def test_the_file_comes_back_once_and_only_to_who_previewed_it(tmp_path):
    kept = StagedUploads(tmp_path, SecretBox(os.urandom(32)))
    token = kept.put("单号.csv", DATA, actor="li")
    on_disk = next(tmp_path.glob("*.staged")).read_bytes()
    assert "78111111111111".encode() not in on_disk  # encrypted at rest
    assert kept.take(token, actor="wang") is None  # someone else's preview
    assert kept.take(token, actor="li") == ("单号.csv", DATA)
    assert kept.take(token, actor="li") is None  # used
    assert kept.take("../../etc/passwd", actor="li") is None


def test_a_file_older_than_the_keep_time_is_gone(tmp_path):
    kept = StagedUploads(tmp_path, SecretBox(os.urandom(32)), keep_s=60)
    old = kept.put("a.csv", DATA, actor="li")
    path = tmp_path / f"{old}.staged"
    past = time.time() - 61
    os.utime(path, (past, past))
    assert kept.sweep() == 1 and not path.exists()
    assert kept.take(old, actor="li") is None
