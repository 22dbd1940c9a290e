"""The urllib3 wire under the Doudian client, against a real local HTTP server: what goes out
(path, signed query, body, headers), gzip answers, the gateway's log id, HTTP errors, dead
hosts, and proxies from the environment."""

from __future__ import annotations

import gzip
import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest

from fahuo.adapters.platforms.doudian.client import AppCredentials, DoudianClient, RetryPolicy
from fahuo.adapters.platforms.doudian.errors import TransportError
from fahuo.adapters.platforms.doudian.wire import Urllib3Wire


class Gateway(BaseHTTPRequestHandler):
    seen: list[dict] = []
    status = 200

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).seen.append({"path": self.path, "body": body, "headers": dict(self.headers)})
        payload = json.dumps({"code": 10000, "msg": "success", "sub_code": "", "sub_msg": "",
                              "log_id": "L1", "data": {"echo": json.loads(body)}}).encode()
        if type(self).status != 200:
            payload = b"bad gateway"
        zipped = "gzip" in self.headers.get("Accept-Encoding", "")
        out = gzip.compress(payload) if zipped else payload
        self.send_response(type(self).status)
        self.send_header("Content-Type", "application/json")
        self.send_header("x-tt-logid", "20261127000000ABC")
        if zipped:
            self.send_header("Content-Encoding", "gzip")
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)

    def log_message(self, *a) -> None:
        pass


@pytest.fixture
def server():
    Gateway.seen, Gateway.status = [], 200
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Gateway)
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    yield f"http://127.0.0.1:{srv.server_address[1]}"
    srv.shutdown()
    srv.server_close()


def _client(url: str, wire: Urllib3Wire, attempts: int = 1) -> DoudianClient:
    return DoudianClient(AppCredentials("app1", "secret1", gateway_url=url), http=wire,
                         retry=RetryPolicy(max_attempts=attempts, initial_wait=0, max_wait=0),
                         clock=lambda: 1_700_000_000)


def test_a_signed_call_goes_out_and_its_gzipped_answer_comes_back(server, monkeypatch):
    monkeypatch.delenv("HTTP_PROXY", raising=False)
    monkeypatch.delenv("http_proxy", raising=False)
    wire = Urllib3Wire()
    data = _client(server, wire).call("order.orderDetail", {"shop_order_id": "123 4"}, "tok-1")
    assert data == {"echo": {"shop_order_id": "123 4"}}
    (req,) = Gateway.seen
    parts = urlsplit(req["path"])
    assert parts.path == "/order/orderDetail"
    q = parse_qs(parts.query)
    assert q["app_key"] == ["app1"] and q["method"] == ["order.orderDetail"]
    assert q["access_token"] == ["tok-1"] and q["timestamp"] == ["1700000000"]
    assert q["v"] == ["2"] and q["sign_method"] == ["hmac-sha256"] and len(q["sign"][0]) == 64
    assert req["body"] == b'{"shop_order_id":"123 4"}'
    assert req["headers"]["Content-Type"] == "application/json"
    assert "gzip" in req["headers"]["Accept-Encoding"]
    wire.close()


def test_an_http_error_is_a_transport_error_with_the_gateway_log_id(server):
    Gateway.status = 502
    with pytest.raises(TransportError) as e:
        _client(server, Urllib3Wire()).call("order.orderDetail", {"shop_order_id": "1"}, "t")
    assert e.value.http_status == 502 and e.value.log_id == "20261127000000ABC"
    assert "bad gateway" in str(e.value)


def test_a_dead_host_is_a_transport_error_retried_then_raised():
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(TransportError) as e:
        _client(f"http://127.0.0.1:{port}", Urllib3Wire(), attempts=3).call(
            "order.orderDetail", {"shop_order_id": "1"}, "t")
    assert "Connection" in str(e.value) or "refused" in str(e.value).lower()


def test_the_proxy_in_the_environment_is_used_unless_the_host_is_exempt(server, monkeypatch):
    # The "proxy" is our server too: a proxied request arrives with the absolute URL.
    monkeypatch.setenv("http_proxy", server)
    monkeypatch.setenv("no_proxy", "exempt.example")
    wire = Urllib3Wire()
    _client("http://gateway.example", wire).call("order.orderDetail", {"a": 1}, "t")
    assert Gateway.seen[-1]["path"].startswith("http://gateway.example/order/orderDetail?")
    assert wire._manager("http://exempt.example/x") is wire._direct
    wire.close()


def test_proxy_credentials_in_the_url_are_sent_to_the_proxy(server, monkeypatch):
    # HTTPS_PROXY=http://user:pass@host is the usual way to name an authenticated proxy.
    base = server.replace("http://", "")
    monkeypatch.delenv("http_proxy", raising=False)
    monkeypatch.delenv("HTTP_PROXY", raising=False)
    monkeypatch.setenv("all_proxy", f"http://ali%40ce:s3cret@{base}")
    monkeypatch.setenv("no_proxy", "")
    wire = Urllib3Wire()
    _client("http://gateway.example", wire).call("order.orderDetail", {"a": 1}, "t")
    req = Gateway.seen[-1]
    assert req["path"].startswith("http://gateway.example/order/orderDetail?")
    import base64
    headers = {k.lower(): v for k, v in req["headers"].items()}
    assert headers["proxy-authorization"] == (
        "Basic " + base64.b64encode(b"ali@ce:s3cret").decode())
    wire.close()
