"""What the component sends back (§15.3): the ack, ``notifyPrintResult``, ``getPrinters``."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

@dataclass(frozen=True)
class DocumentStatus:
    document_id: str
    status: str  # "success" | "canceled" | "failed" (as sent)
    msg: str = ""
    track_no: str = ""
    detail: str = ""
    error_code: str = ""

    @property
    def ok(self) -> bool:
        return self.status == "success"


@dataclass(frozen=True)
class ComponentEvent:
    """One message from the component.

    ``kind``:

    * ``"ack"`` — ``{"cmd":"print", requestID, taskID, status, msg}``: ``status`` is
      ``success``/``failed``;
    * ``"result"`` — ``notifyPrintResult``: ``status`` is ``taskStatus``
      (``failed``/``rendered``/``printed``), per-document results in ``documents``;
    * ``"printers"`` — ``getPrinters`` reply (``printers``, ``default_printer``);
    * ``"other"`` — any other ``cmd`` (see ``raw``).
    """

    kind: str
    cmd: str
    request_id: str = ""
    task_id: str = ""
    status: str = ""
    msg: str = ""
    printer: str = ""
    documents: tuple[DocumentStatus, ...] = ()
    printers: tuple[str, ...] = ()
    default_printer: str = ""
    preview_url: str = ""
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def ok(self) -> bool:
        """Ack accepted, or task printed with every document ``success``."""
        if self.kind == "ack":
            return self.status == "success"
        if self.kind == "result":
            return self.status in ("printed", "rendered") and all(d.ok for d in self.documents)
        return False

    @property
    def failed_documents(self) -> tuple[DocumentStatus, ...]:
        return tuple(d for d in self.documents if not d.ok)


def _str(v: Any) -> str:
    return "" if v is None else str(v)


def parse_component_message(raw: str | bytes) -> ComponentEvent:
    """Parse one WebSocket text frame from the component (§15.3).

    Raises :class:`ValueError` for non-JSON, non-object JSON or a missing ``cmd``.
    """
    if isinstance(raw, (bytes, bytearray)):
        raw = bytes(raw).decode("utf-8", "replace")
    try:
        msg = json.loads(raw)
    except (TypeError, ValueError) as exc:
        shown = raw if len(raw) <= 200 else raw[:200] + "…"
        raise ValueError(f"print component sent malformed JSON: {exc}; message: {shown!r}") from exc
    if not isinstance(msg, dict):
        raise ValueError(f"print component message is not a JSON object: {type(msg).__name__}")
    cmd = msg.get("cmd")
    if not isinstance(cmd, str) or not cmd:
        raise ValueError(f"print component message has no 'cmd': {sorted(msg)}")
    common: dict[str, Any] = dict(cmd=cmd, request_id=_str(msg.get("requestID")), task_id=_str(msg.get("taskID")),
                  msg=_str(msg.get("msg")), printer=_str(msg.get("printer")), raw=msg)
    if cmd == "print":
        return ComponentEvent(kind="ack", status=_str(msg.get("status")), **common)
    if cmd == "notifyPrintResult":
        statuses = msg.get("printStatus") or []
        if not isinstance(statuses, list):
            raise ValueError("notifyPrintResult.printStatus is not a list")
        docs = tuple(
            DocumentStatus(
                document_id=_str(s.get("documentID")), status=_str(s.get("status")),
                msg=_str(s.get("msg")), track_no=_str(s.get("trackNo")),
                detail=_str(s.get("detail")), error_code=_str(s.get("errorcode")))
            for s in statuses if isinstance(s, dict))
        return ComponentEvent(kind="result", status=_str(msg.get("taskStatus")), documents=docs,
                              preview_url=_str(msg.get("previewURL")), **common)
    if cmd == "getPrinters":
        names = tuple(_str(p.get("name")) for p in msg.get("printers") or [] if isinstance(p, dict))
        return ComponentEvent(kind="printers", printers=names,
                              default_printer=_str(msg.get("defaultPrinter")),
                              status=_str(msg.get("status")), **common)
    return ComponentEvent(kind="other", status=_str(msg.get("status")), **common)
