"""A print the Douyin print component reports is recorded on either database (the batch's
format, "component", once overflowed PostgreSQL's column: every component print failed)."""
from __future__ import annotations

import json

import pytest
from support import labelled_pack

from fahuo.services.print_component import DOC_PREFIX, record_component_result


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def app(request, tmp_path):
    from support import make_fahuo
    url = None if request.param == "sqlite" else request.getfixturevalue("pg_url")
    a = make_fahuo(tmp_path, url)
    yield a
    a.close()


def test_a_component_print_is_recorded_and_the_parcel_is_printed(app, make_order):
    _, pid = labelled_pack(app, make_order, "6910000000000000301", "78000000003010")
    raw = json.dumps({"cmd": "notifyPrintResult", "printer": "ZTO-76", "taskID": "t-1",
                      "taskStatus": "printed", "printStatus": [
                          {"documentID": f"{DOC_PREFIX}{pid}", "status": "success", "msg": "",
                           "trackNo": "78000000003010"}]})
    got = record_component_result(app.uow, raw, actor="packer")
    assert got["printed"] == [pid]
    with app.uow(readonly=True) as u:
        assert u.pipeline.pack_states([pid])[pid] == "printed"
        assert u.prints.printed_before([pid], "labels")  # the batch is on record
