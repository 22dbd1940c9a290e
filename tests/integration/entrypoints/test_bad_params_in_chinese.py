"""A bad URL parameter: a Chinese error page naming the field on the console, a JSON 422
naming the field (FastAPI's detail list kept, a Chinese message added) on the API."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from support import make_fahuo

from fahuo.entrypoints.web.app import create_app


@pytest.fixture
def client(tmp_path):
    app = make_fahuo(tmp_path)
    app.migrate()
    with TestClient(create_app(app, embedded_worker=False)) as c:
        yield c
    app.close()


@pytest.mark.parametrize("path, field, why", [
    ("/deadlines?within_h=abc", "within_h", "应为整数"),
    ("/ship/jobs/abc", "job_id", "应为整数"),
])
def test_a_console_page_with_a_bad_parameter_says_which_in_chinese(client, path, field, why):
    r = client.get(path)
    assert r.status_code == 422
    assert r.headers["content-type"].startswith("text/html")
    assert "出错了" in r.text and field in r.text and why in r.text, r.text[-800:]
    assert "abc" in r.text  # what was sent
    assert '"detail"' not in r.text and "Input should be" not in r.text  # no raw JSON


def test_the_api_answers_json_naming_the_field(client):
    r = client.get("/api/orders?limit=abc&state=nonsense")
    assert r.status_code == 422
    body = r.json()
    assert {e["loc"][-1] for e in body["detail"]} == {"limit", "state"}  # schema unchanged
    assert set(body["fields"]) == {"limit", "state"}
    assert "limit" in body["message"] and "应为整数" in body["message"]
    assert "state" in body["message"] and "应为以下之一" in body["message"]


def test_a_missing_console_page_is_a_chinese_page_and_the_api_keeps_its_json(client):
    r = client.get("/no-such-page")
    assert r.status_code == 404 and "页面不存在" in r.text
    r = client.get("/api/no-such-thing")
    assert r.status_code == 404 and r.json() == {"detail": "Not Found"}
