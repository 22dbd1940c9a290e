"""Every machine of an install shares FAHUO_SECRET_KEY: one with another key refuses to
start, saying so, instead of failing to decrypt later."""

import base64
import os

import pytest

from fahuo.bootstrap import Fahuo, InstallKeyMismatch
from fahuo.config import Settings


def _key() -> str:
    return base64.b64encode(os.urandom(32)).decode()


def test_a_second_key_is_refused_with_a_clear_message(tmp_path):
    url = f"sqlite:///{tmp_path / 'shared.db'}"
    a, b = _key(), _key()
    first = Fahuo(Settings(data_dir=tmp_path / "m1", database_url=url, secret_key=a))
    first.migrate()
    first.migrate()  # the same key again: fine
    first.close()
    other = Fahuo(Settings(data_dir=tmp_path / "m2", database_url=url, secret_key=b))
    with pytest.raises(InstallKeyMismatch) as err:
        other.migrate()
    other.close()
    text = str(err.value)
    assert "FAHUO_SECRET_KEY" in text and "密钥" in text and "every machine" in text
    with first.engine.connect() as c:
        stored = " ".join(str(v) for row in c.exec_driver_sql("select * from install_meta")
                          for v in row)
    assert a not in stored and base64.b64decode(a).hex() not in stored
    again = Fahuo(Settings(data_dir=tmp_path / "m3", database_url=url, secret_key=a))
    again.migrate()
    again.close()


def test_readme_says_every_machine_shares_the_key():
    readme = (os.path.dirname(__file__) + "/../../../README.md")
    line = [ln for ln in open(readme, encoding="utf-8") if "Scale out" in ln][0]
    assert "FAHUO_SECRET_KEY" in line
