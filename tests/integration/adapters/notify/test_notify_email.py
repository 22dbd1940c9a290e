"""E-mail channel against a local fake SMTP server (plain, STARTTLS + AUTH, refusals)."""

from __future__ import annotations

import email
import email.policy

import pytest

from fahuo.adapters.notify.base import Alert, NotifyError
from fahuo.adapters.notify.email import EmailChannel

ALERT = Alert(kind="stalled", title="3 个包裹停滞 / 3 parcels stalled",
              lines=["SF1 <上海>", "SF2", "SF3"], count=40, link="http://console.local/x?a=1&b=2")


def parse(data: bytes):
    return email.message_from_bytes(data, policy=email.policy.default)


def test_plain_smtp_subject_recipients_body(smtp_factory):
    srv = smtp_factory()
    EmailChannel("127.0.0.1", srv.port, sender="fahuo@shop.example",
                 to=["ops@shop.example", "boss@shop.example"], starttls=False).send(ALERT)
    [m] = srv.messages
    assert m.mail_from == "fahuo@shop.example"
    assert m.rcpt_to == ["ops@shop.example", "boss@shop.example"]
    msg = parse(m.data)
    assert msg["Subject"] == ALERT.title
    assert msg["To"] == "ops@shop.example, boss@shop.example"
    text = msg.get_body(("plain",)).get_content()
    html = msg.get_body(("html",)).get_content()
    assert "- SF1 <上海>" in text and "- … and 37 more" in text and ALERT.link in text
    assert "<li>SF1 &lt;上海&gt;</li>" in html and "<li>… and 37 more</li>" in html
    assert 'href="http://console.local/x?a=1&amp;b=2"' in html


def test_starttls_and_login(smtp_factory, tls_pair):
    server_ctx, client_ctx = tls_pair
    srv = smtp_factory(tls_ctx=server_ctx, users={"fahuo": "s3cret-pw"})
    EmailChannel("127.0.0.1", srv.port, sender="fahuo@shop.example", to=["ops@shop.example"],
                 starttls=True, user="fahuo", password="s3cret-pw",
                 ssl_context=client_ctx).send(ALERT)
    [m] = srv.messages
    assert m.tls and m.auth == ("fahuo", "s3cret-pw")


def test_bad_password_raises_without_leaking_it(smtp_factory, tls_pair):
    server_ctx, client_ctx = tls_pair
    srv = smtp_factory(tls_ctx=server_ctx, users={"fahuo": "s3cret-pw"})
    ch = EmailChannel("127.0.0.1", srv.port, sender="fahuo@shop.example", to=["ops@shop.example"],
                      user="fahuo", password="wrong-pw", ssl_context=client_ctx)
    with pytest.raises(NotifyError) as ei:
        ch.send(ALERT)
    assert ei.value.code == 535 and "authentication failed" in str(ei.value)
    assert "wrong-pw" not in str(ei.value) and "wrong-pw" not in repr(ch)
    assert srv.messages == []


def test_partly_refused_recipients(smtp_factory):
    srv = smtp_factory(refuse={"gone@shop.example"})
    ch = EmailChannel("127.0.0.1", srv.port, sender="fahuo@shop.example",
                      to=["ops@shop.example", "gone@shop.example"], starttls=False)
    with pytest.raises(NotifyError, match="gone@shop.example: 550"):
        ch.send(ALERT)
    assert [m.rcpt_to for m in srv.messages] == [["ops@shop.example"]]


def test_all_refused(smtp_factory):
    srv = smtp_factory(refuse={"gone@shop.example"})
    ch = EmailChannel("127.0.0.1", srv.port, sender="fahuo@shop.example",
                      to=["gone@shop.example"], starttls=False)
    with pytest.raises(NotifyError, match="User unknown"):
        ch.send(ALERT)


def test_unreachable_server_is_retryable():
    import socket
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    ch = EmailChannel("127.0.0.1", port, sender="a@b.c", to=["d@e.f"], starttls=False, timeout=2)
    with pytest.raises(NotifyError) as ei:
        ch.send(ALERT)
    assert ei.value.retryable
