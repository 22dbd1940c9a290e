"""Local fake receivers for the alert channels, on real 127.0.0.1 sockets.

One Starlette app plays DingTalk, Feishu, WeCom and a generic webhook receiver, each checking
the payload shape and recomputing the signature exactly as the real service documents it,
answering with the real services' success and error bodies. A tiny socket SMTP server (with
STARTTLS and AUTH) records what it is given.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import ipaddress
import json
import socket
import ssl
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import ClassVar
from pathlib import Path

import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

DING_TOKEN = "ding-token-7f3a9c"
DING_SECRET = "SEC4b0c1d2e3f4a5b6c7d8e9f00112233445566778899aabbccddeeff00112233"
FEISHU_HOOK = "2f3e4d5c-feishu-hook"
FEISHU_SECRET = "feishuSecretQ1w2E3r4"
WECOM_KEY = "wecom-key-693a91f6-7xxx"
HOOK_SECRET = "whsec_8d7c6b5a"


@dataclass
class Receivers:
    DING_TOKEN: ClassVar[str] = DING_TOKEN
    DING_SECRET: ClassVar[str] = DING_SECRET
    FEISHU_HOOK: ClassVar[str] = FEISHU_HOOK
    FEISHU_SECRET: ClassVar[str] = FEISHU_SECRET
    WECOM_KEY: ClassVar[str] = WECOM_KEY
    HOOK_SECRET: ClassVar[str] = HOOK_SECRET
    ding: list[dict] = field(default_factory=list)
    feishu: list[dict] = field(default_factory=list)
    wecom: list[dict] = field(default_factory=list)
    hook: list[dict] = field(default_factory=list)
    hook_script: deque = field(default_factory=deque)  # statuses to answer, then 200
    ding_secret: str | None = DING_SECRET
    feishu_secret: str | None = FEISHU_SECRET
    base_url: str = ""

    def reset(self) -> None:
        for x in (self.ding, self.feishu, self.wecom, self.hook, self.hook_script):
            x.clear()
        self.ding_secret, self.feishu_secret = DING_SECRET, FEISHU_SECRET


def _within_hour(ts_s: float) -> bool:
    return abs(time.time() - ts_s) <= 3600


def make_app(r: Receivers) -> Starlette:
    async def dingtalk(request: Request) -> Response:
        q = request.query_params
        if q.get("access_token") != DING_TOKEN:
            return JSONResponse({"errcode": 300001, "errmsg": "token is not exist"})
        if r.ding_secret:
            ts, sign = q.get("timestamp", ""), q.get("sign", "")  # query already URL-decoded
            want = base64.b64encode(hmac.new(r.ding_secret.encode("utf-8"),
                                             f"{ts}\n{r.ding_secret}".encode("utf-8"),
                                             digestmod=hashlib.sha256).digest()).decode()
            if not ts.isdigit() or not _within_hour(int(ts) / 1000) or not hmac.compare_digest(
                    sign, want):
                return JSONResponse({"errcode": 310000,
                                     "errmsg": "sign not match, more: [https://ding-doc.dingtalk.com/doc#/serverapi2/qf2nxq]"})
        try:
            body = json.loads(await request.body())
            assert body["msgtype"] == "markdown"
            md = body["markdown"]
            assert isinstance(md["title"], str) and md["title"]
            assert isinstance(md["text"], str) and md["text"]
            assert set(body) == {"msgtype", "markdown"} and set(md) == {"title", "text"}
        except (ValueError, KeyError, AssertionError, TypeError):
            return JSONResponse({"errcode": 40035, "errmsg": "缺少参数 json"})
        r.ding.append({"body": body, "query": dict(q)})
        return JSONResponse({"errcode": 0, "errmsg": "ok"})

    async def feishu(request: Request) -> Response:
        if request.path_params["hook"] != FEISHU_HOOK:
            return JSONResponse({"code": 19001, "msg": "param invalid: incoming webhook access token invalid", "data": {}})
        try:
            body = json.loads(await request.body())
        except ValueError:
            return JSONResponse({"code": 9499, "msg": "Bad Request", "data": {}}, status_code=400)
        if r.feishu_secret:
            ts, sign = body.get("timestamp", ""), body.get("sign", "")
            string_to_sign = f"{ts}\n{r.feishu_secret}"
            want = base64.b64encode(hmac.new(string_to_sign.encode("utf-8"),
                                             digestmod=hashlib.sha256).digest()).decode("utf-8")
            if not isinstance(ts, str) or not ts.isdigit() or not _within_hour(int(ts)) \
                    or not hmac.compare_digest(str(sign), want):
                return JSONResponse({"code": 19021, "msg": "sign match fail or timestamp is not within one hour from current time", "data": {}})
        try:
            assert body["msg_type"] == "post"
            zh = body["content"]["post"]["zh_cn"]
            assert isinstance(zh["title"], str) and zh["title"]
            for row in zh["content"]:
                assert isinstance(row, list)
                for el in row:
                    assert el["tag"] in ("text", "a", "at", "img")
                    if el["tag"] == "a":
                        assert el["href"].startswith("http")
            assert len(await request.body()) <= 20 * 1024
        except (KeyError, AssertionError, TypeError):
            return JSONResponse({"code": 9499, "msg": "Bad Request", "data": {}}, status_code=400)
        r.feishu.append(body)
        return JSONResponse({"code": 0, "msg": "success", "data": {}})

    async def wecom(request: Request) -> Response:
        if request.query_params.get("key") != WECOM_KEY:
            return JSONResponse({"errcode": 93000, "errmsg": "invalid webhook url, hint: [1700000000_1_abc], from ip: 127.0.0.1"})
        try:
            body = json.loads(await request.body())
            assert body["msgtype"] == "markdown"
            content = body["markdown"]["content"]
            assert isinstance(content, str) and content
        except (ValueError, KeyError, AssertionError, TypeError):
            return JSONResponse({"errcode": 40008, "errmsg": "invalid message type"})
        if len(content.encode("utf-8")) > 4096:
            return JSONResponse({"errcode": 40058, "errmsg": "markdown.content exceed max length 4096"})
        r.wecom.append(body)
        return JSONResponse({"errcode": 0, "errmsg": "ok"})

    async def hook(request: Request) -> Response:
        raw = await request.body()
        ts = request.headers.get("x-fahuo-timestamp", "")
        sig = request.headers.get("x-fahuo-signature", "")
        want = "sha256=" + hmac.new(HOOK_SECRET.encode(), ts.encode() + b"." + raw,
                                    hashlib.sha256).hexdigest()
        ok = ts.isdigit() and abs(time.time() - int(ts)) < 300 and hmac.compare_digest(sig, want)
        r.hook.append({"raw": raw, "ts": ts, "sig_ok": ok,
                       "delivery": request.headers.get("x-fahuo-delivery"),
                       "ctype": request.headers.get("content-type")})
        if not ok:
            return JSONResponse({"error": "bad signature"}, status_code=401)
        if r.hook_script:
            status = r.hook_script.popleft()
            return JSONResponse({"error": f"scripted {status}"}, status_code=status)
        return JSONResponse({"ok": True})

    return Starlette(routes=[
        Route("/robot/send", dingtalk, methods=["POST"]),
        Route("/open-apis/bot/v2/hook/{hook}", feishu, methods=["POST"]),
        Route("/cgi-bin/webhook/send", wecom, methods=["POST"]),
        Route("/hook", hook, methods=["POST"]),
    ])


@pytest.fixture(scope="session")
def _receivers_server():
    r = Receivers()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(make_app(r), log_level="warning", lifespan="off"))
    t = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    t.start()
    deadline = time.time() + 10
    while not server.started:
        if time.time() > deadline:
            raise RuntimeError("fake receivers did not start")
        time.sleep(0.01)
    r.base_url = f"http://127.0.0.1:{port}"
    yield r
    server.should_exit = True
    t.join(5)


@pytest.fixture
def receivers(_receivers_server) -> Receivers:
    _receivers_server.reset()
    return _receivers_server


# ------------------------------------------------------------------------------------ SMTP


@dataclass
class SmtpMessage:
    mail_from: str
    rcpt_to: list[str]
    data: bytes
    tls: bool
    auth: tuple[str, str] | None


class FakeSmtp:
    """Just enough ESMTP: EHLO/HELO, STARTTLS, AUTH PLAIN/LOGIN, MAIL, RCPT, DATA, RSET, QUIT."""

    def __init__(self, tls_ctx: ssl.SSLContext | None, users: dict[str, str],
                 refuse: set[str] | None = None) -> None:
        self.tls_ctx, self.users, self.refuse = tls_ctx, users, refuse or set()
        self.messages: list[SmtpMessage] = []
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]
        self._stop = False
        threading.Thread(target=self._serve, daemon=True).start()

    def close(self) -> None:
        self._stop = True
        self.sock.close()

    def _serve(self) -> None:
        while not self._stop:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._session, args=(conn,), daemon=True).start()

    def _session(self, conn: socket.socket) -> None:
        tls, auth, mail_from, rcpts = False, None, None, []
        f = conn.makefile("rb")

        def say(line: str) -> None:
            conn.sendall(line.encode() + b"\r\n")

        def read() -> str:
            return f.readline().decode().rstrip("\r\n")
        try:
            say("220 fake.smtp ESMTP ready")
            while True:
                line = read()
                if not line and f.closed:
                    return
                verb, _, arg = line.partition(" ")
                verb = verb.upper()
                if verb in ("EHLO", "HELO"):
                    feats = ["fake.smtp", "8BITMIME"]
                    if self.tls_ctx and not tls:
                        feats.append("STARTTLS")
                    if self.users and (tls or not self.tls_ctx):
                        feats.append("AUTH PLAIN LOGIN")
                    for i, x in enumerate(feats):
                        say(("250 " if i == len(feats) - 1 else "250-") + x)
                elif verb == "STARTTLS" and self.tls_ctx and not tls:
                    say("220 go ahead")
                    conn = self.tls_ctx.wrap_socket(conn, server_side=True)
                    f = conn.makefile("rb")
                    tls = True
                elif verb == "AUTH":
                    mech, _, initial = arg.partition(" ")
                    if mech.upper() == "PLAIN":
                        if not initial:
                            say("334 ")
                            initial = read()
                        _, user, pw = base64.b64decode(initial).decode().split("\0")
                    else:
                        say("334 " + base64.b64encode(b"Username:").decode())
                        user = base64.b64decode(read()).decode()
                        say("334 " + base64.b64encode(b"Password:").decode())
                        pw = base64.b64decode(read()).decode()
                    if self.users.get(user) == pw:
                        auth = (user, pw)
                        say("235 2.7.0 Authentication successful")
                    else:
                        say("535 5.7.8 Error: authentication failed")
                elif verb == "MAIL":
                    if self.users and not auth:
                        say("530 5.7.0 Authentication required")
                        continue
                    mail_from, rcpts = arg.split(":", 1)[1].split()[0].strip("<>"), []
                    say("250 2.1.0 Ok")
                elif verb == "RCPT":
                    addr = arg.split(":", 1)[1].strip().strip("<>")
                    if addr in self.refuse:
                        say("550 5.1.1 <%s>: Recipient address rejected: User unknown" % addr)
                    else:
                        rcpts.append(addr)
                        say("250 2.1.5 Ok")
                elif verb == "DATA":
                    if not rcpts:
                        say("554 5.5.1 Error: no valid recipients")
                        continue
                    say("354 End data with <CR><LF>.<CR><LF>")
                    buf = []
                    while True:
                        ln = f.readline()
                        if ln in (b".\r\n", b".\n", b""):
                            break
                        buf.append(ln[1:] if ln.startswith(b"..") else ln)
                    self.messages.append(SmtpMessage(mail_from, rcpts, b"".join(buf), tls, auth))
                    say("250 2.0.0 Ok: queued")
                elif verb == "RSET":
                    mail_from, rcpts = None, []
                    say("250 Ok")
                elif verb == "NOOP":
                    say("250 Ok")
                elif verb == "QUIT":
                    say("221 Bye")
                    return
                elif not line:
                    return
                else:
                    say("502 5.5.2 Error: command not recognized")
        except (OSError, ValueError):
            return
        finally:
            conn.close()


def _self_signed(tmp: Path) -> tuple[Path, Path]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.now(dt.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([
                x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cp, kp = tmp / "cert.pem", tmp / "key.pem"
    cp.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    kp.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                     serialization.PrivateFormat.PKCS8,
                                     serialization.NoEncryption()))
    return cp, kp


@pytest.fixture(scope="session")
def tls_pair(tmp_path_factory) -> tuple[ssl.SSLContext, ssl.SSLContext]:
    """(server context, client context trusting the server's self-signed cert)."""
    cp, kp = _self_signed(tmp_path_factory.mktemp("tls"))
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.load_cert_chain(cp, kp)
    client = ssl.create_default_context(cafile=str(cp))
    return server, client


@pytest.fixture
def smtp_factory():
    servers: list[FakeSmtp] = []

    def make(**kw) -> FakeSmtp:
        s = FakeSmtp(kw.pop("tls_ctx", None), kw.pop("users", {}), kw.pop("refuse", None))
        servers.append(s)
        return s
    yield make
    for s in servers:
        s.close()
