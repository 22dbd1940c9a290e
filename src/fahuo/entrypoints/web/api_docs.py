"""`/docs`: Swagger UI from this server's own files, so it works offline and under the same
content-security policy as every other page (no CDN, no inline script).

The assets come from the pinned npm package `swagger-ui-dist`, copied into
``static/vendor/swagger-ui/`` by `make install`; the start-up code is ``static/api_docs.js``.
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

router = APIRouter(include_in_schema=False)

VENDOR = "/static/vendor/swagger-ui"
PAGE = f"""<!doctype html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<title>fahuo 发货 — API 文档</title>
<link rel="icon" type="image/png" href="{VENDOR}/favicon-32x32.png">
<link rel="stylesheet" href="{VENDOR}/swagger-ui.css">
</head>
<body>
<div id="swagger-ui" data-openapi-url="/openapi.json"></div>
<script src="{VENDOR}/swagger-ui-bundle.js"></script>
<script src="/static/api_docs.js"></script>
</body>
</html>
"""


@router.get("/docs", response_class=HTMLResponse)
def api_docs() -> HTMLResponse:
    return HTMLResponse(PAGE)
