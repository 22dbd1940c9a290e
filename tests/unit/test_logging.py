"""Logs never carry buyers' data or secrets: by key name at any depth, and phone numbers
anywhere in text (architecture: "structured logs with PII kept out")."""

import io

import structlog

from fahuo.bootstrap import configure_logging


def _logged(fn) -> str:
    buf = io.StringIO()
    configure_logging("DEBUG", stream=buf)
    try:
        fn(structlog.get_logger("fahuo.test"))
    finally:
        configure_logging("INFO")
    return buf.getvalue()


LEAKS = ("王小明", "李雷", "13912345678", "18600000000", "18612345678", "13700001111",
         "0571-88886666", "文一西路969号", "tok-abc123", "s3cret", "hunter2", "code-xyz",
         "留言电话", "##E1ZmFr")


def test_pii_keys_at_any_depth_and_phones_in_text_are_redacted():
    def emit(log):
        log.info("buyer 13912345678 called", order_id="6919999999999999222",
                 track_no="78" + "1" * 12, post_receiver="王小明",
                 nested=[{"receiver_msg": {"name": "李雷", "tel": "18600000000"}},
                         ({"post_addr": {"detail": "文一西路969号"}},)],
                 access_token="tok-abc123", app_secret="s3cret", password="hunter2",
                 encrypt_post_receiver="##E1ZmFrZWNpcGhlcg==#1##",
                 buyer_words="留言电话", error="收件人电话18612345678不正确，座机0571-88886666",
                 url="http://127.0.0.1/cb?code=code-xyz&state=1")
        try:
            raise ValueError("phone 13700001111")
        except ValueError:
            log.exception("failed", shop_ref=1)
    out = _logged(emit)
    for s in LEAKS:
        assert s not in out, (s, out)
    # what people need to find the case stays
    for s in ("6919999999999999222", "78" + "1" * 12, "139****5678", "shop_ref", "ValueError",
              "state=1"):
        assert s in out, (s, out)


def test_level_still_filters():
    out = _logged(lambda log: log.debug("dbg-line"))
    assert "dbg-line" in out
    buf = io.StringIO()
    configure_logging("WARNING", stream=buf)
    try:
        structlog.get_logger("t").info("info-line")
    finally:
        configure_logging("INFO")
    assert "info-line" not in buf.getvalue()
