"""E-mail over SMTP: one message per alert, plain text plus a simple HTML part.

Subject is the alert title. Security: ``starttls=True`` upgrades a plain connection (port 587,
the default); ``use_ssl=True`` speaks TLS from the first byte (port 465, what QQ Mail / 163 /
Aliyun enterprise mail usually offer); both off is plain SMTP (a local relay). Login happens
only when ``user`` is set. Any SMTP refusal — including some recipients refused while others
accepted — raises :class:`NotifyError` with the server's code and words; the password never
appears in it.
"""

from __future__ import annotations

import html
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

import structlog

from fahuo.adapters.notify.base import Alert, NotifyError, redact, render_lines
from fahuo.domain.clock import shop_now

log = structlog.get_logger(__name__)


def build_message(alert: Alert, sender: str, to: list[str]) -> EmailMessage:
    msg = EmailMessage()
    msg["Subject"] = alert.title
    msg["From"] = sender
    msg["To"] = ", ".join(to)
    msg["Date"] = format_datetime(shop_now())  # +0800 whatever the server's TZ
    msg["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or None)
    lines = render_lines(alert)
    text = [alert.title, ""] + [f"- {x}" for x in lines]
    if alert.link:
        text += ["", alert.link]
    msg.set_content("\n".join(text) + "\n")
    items = "".join(f"<li>{html.escape(x)}</li>" for x in lines)
    link = (f'<p><a href="{html.escape(alert.link, quote=True)}">查看 / Open</a></p>'
            if alert.link else "")
    msg.add_alternative(
        f"<html><body><h3>{html.escape(alert.title)}</h3><ul>{items}</ul>{link}</body></html>",
        subtype="html")
    return msg


class EmailChannel:
    name = "email"

    def __init__(self, host: str, port: int = 587, *, sender: str, to: list[str],
                 starttls: bool = True, use_ssl: bool = False, user: str | None = None,
                 password: str | None = None, timeout: float = 20.0,
                 ssl_context: ssl.SSLContext | None = None) -> None:
        if not host:
            raise ValueError("邮件：缺少发信服务器 host（email host is required）")
        if not sender:
            raise ValueError("邮件：缺少发件人 from（email sender is required）")
        if not to or not all(isinstance(a, str) and "@" in a for a in to):
            raise ValueError("邮件：收件人 to 至少填一个地址（email to is empty）")
        if starttls and use_ssl:
            raise ValueError("邮件：starttls 与 use_ssl 只能选一个（choose starttls or use_ssl）")
        self.host, self.port = host, port
        self.sender, self.to = sender, list(to)
        self.starttls, self.use_ssl = starttls, use_ssl
        self.user = user or None
        self._password = password or ""
        self.timeout = timeout
        self._ssl_context = ssl_context

    def __repr__(self) -> str:
        return (f"EmailChannel(host={self.host!r}, port={self.port}, to={self.to!r}, "
                f"starttls={self.starttls}, use_ssl={self.use_ssl})")

    def send(self, alert: Alert) -> None:
        msg = build_message(alert, self.sender, self.to)
        ctx = self._ssl_context or ssl.create_default_context()
        secrets = [self._password]
        try:
            if self.use_ssl:
                smtp: smtplib.SMTP = smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout,
                                                      context=ctx)
            else:
                smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
            with smtp:
                if self.starttls:
                    smtp.starttls(context=ctx)
                if self.user:
                    smtp.login(self.user, self._password)
                refused = smtp.send_message(msg, from_addr=self.sender, to_addrs=self.to)
        except smtplib.SMTPRecipientsRefused as exc:
            raise NotifyError(self.name, redact(_refused(exc.recipients), secrets)) from None
        except smtplib.SMTPResponseException as exc:
            words = exc.smtp_error.decode(errors="replace") if isinstance(
                exc.smtp_error, bytes) else str(exc.smtp_error)
            raise NotifyError(self.name, redact(words, secrets), code=exc.smtp_code,
                              retryable=400 <= exc.smtp_code < 500) from None
        except (smtplib.SMTPException, OSError) as exc:
            raise NotifyError(self.name, redact(f"{type(exc).__name__}: {exc}", secrets),
                              retryable=True) from None
        if refused:
            log.warning("notify.partial", channel=self.name, kind=alert.kind,
                        refused=sorted(refused))
            raise NotifyError(self.name, "sent, but refused for " + _refused(refused))
        log.info("notify.sent", channel=self.name, kind=alert.kind, count=alert.count)


def _refused(recipients: dict) -> str:
    return "; ".join(
        f"{addr}: {code} {msg.decode(errors='replace') if isinstance(msg, bytes) else msg}"
        for addr, (code, msg) in sorted(recipients.items()))
