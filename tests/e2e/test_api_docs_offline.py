"""`/docs` works offline: Swagger UI from this server's own files, under the console's CSP."""

from __future__ import annotations

import os
import re
import shutil

import httpx
import pytest

from support import make_fahuo, need_service, serve_in_thread

from fahuo.entrypoints.web.app import create_app
from fahuo.entrypoints.web.middleware import CSP

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


@pytest.fixture
def served(tmp_path):
    app = make_fahuo(tmp_path)
    with serve_in_thread(create_app(app, embedded_worker=False)) as url:
        yield url
    app.close()


def test_docs_references_only_local_assets_and_they_are_served(served):
    r = httpx.get(f"{served}/docs")
    assert r.status_code == 200
    assert r.headers["content-security-policy"] == CSP  # no CDN, no inline-script exception
    assert "cdn" not in r.headers["content-security-policy"]
    assert "unsafe-inline" not in r.headers["content-security-policy"]
    html = r.text
    refs = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert any(x.endswith("swagger-ui-bundle.js") for x in refs), refs
    assert any(x.endswith("swagger-ui.css") for x in refs), refs
    assert [x for x in refs if not x.startswith("/")] == []  # nothing from another host
    assert "<script>" not in html and not re.search(r"<script(?![^>]*\bsrc=)", html)
    for ref in refs:
        got = httpx.get(f"{served}{ref}")
        assert got.status_code == 200, (ref, got.status_code)
        assert len(got.content) > 100, ref
    assert httpx.get(f"{served}/redoc").status_code == 404  # ReDoc needs a CDN: not offered


def test_swagger_ui_draws_the_api_in_chromium_with_nothing_refused_or_fetched_elsewhere(served):
    if not os.path.exists(CHROMIUM):
        need_service("chromium", "Debian's chromium is not installed")
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        page = b.new_page()
        problems: list[str] = []
        elsewhere: list[str] = []
        page.on("console", lambda m: m.type == "error" and problems.append(m.text))
        page.on("pageerror", lambda e: problems.append(str(e)))
        page.on("request", lambda rq: rq.url.startswith(("http://", "https://"))
                and not rq.url.startswith(served) and elsewhere.append(rq.url))
        page.goto(f"{served}/docs")
        page.wait_for_selector(".opblock-tag", timeout=15000)  # one section per API area
        assert page.locator(".opblock").count() > 20
        assert "fahuo" in page.locator(".info .title").inner_text()
        b.close()
    assert problems == [] and elsewhere == [], (problems, elsewhere)
