"""Douyin print component (抖音电商打印组件) messages: docs/doudian-open-platform.md §9.5, §9.6, §15.

fahuo cannot print Douyin e-waybills itself (§15.4): the packer's desktop runs the component on
``ws://localhost:13888`` (``wss://localhost:13999`` from HTTPS pages). This module builds what a
browser page / desktop agent sends to it and parses what comes back:

* :func:`shop_key_params` — the pre-signed ``logistics.getShopKey`` query string the component
  uses to fetch the decryption key (standard area ``params``, §15.2). It carries a live
  ``access_token``: build it per print batch, never cache it on the client.
* :class:`Document`, :func:`build_print_task`, :func:`split_tasks` — the ``print`` command.
* :func:`parse_component_message` — the component's ack / ``notifyPrintResult`` (§15.3).
* :func:`fetch_template_urls` — ``logistics.templateList`` (§9.6): ``templateURL`` per courier.

Pure functions (no I/O) except :func:`fetch_template_urls` and :func:`shop_key_params_for`,
which go through a ``ShopSession``-like object.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping, Protocol, Sequence
from urllib.parse import quote

from .client import AppCredentials
from .errors import UnexpectedResponse
from .signing import sign_request

__all__ = [
    "COMPONENT_WS_URL",
    "COMPONENT_WSS_URL",
    "SHOP_KEY_METHOD",
    "DEFAULT_PER_TASK",
    "Document",
    "DocumentStatus",
    "ComponentEvent",
    "TemplateInfo",
    "shop_key_params",
    "shop_key_params_for",
    "build_print_task",
    "split_tasks",
    "get_printers_message",
    "parse_component_message",
    "fetch_template_urls",
]

COMPONENT_WS_URL = "ws://localhost:13888"
COMPONENT_WSS_URL = "wss://localhost:13999"
SHOP_KEY_METHOD = "logistics.getShopKey"
PROTOCOL_VERSION = "1.0"
#: Documents per ``print`` task. Douyin's real limit is UNCONFIRMED (§15.4); 10 is what ERPs
#: use for Kuaishou. Callers may pass another value to :func:`split_tasks`.
DEFAULT_PER_TASK = 10


# ---------------------------------------------------------------------------- getShopKey params


def _q(value: str) -> str:
    # Percent-encode anything that is not URL-safe; a no-op for digits, hex signs, app keys
    # and the usual token alphabet, so the result matches §15.2 byte for byte.
    return quote(str(value), safe="")


def shop_key_params(creds: AppCredentials, access_token: str, *, timestamp: str) -> str:
    """Fully signed query string for ``logistics.getShopKey`` with ``param_json={}`` (§15.2).

    Shape (order as in the doc)::

        access_token=…&app_key=…&method=logistics.getShopKey&param_json={}&timestamp=…&v=2&sign=…&sign_method=hmac-sha256

    Signed like any gateway call (§2) with ``creds.sign_method``; ``timestamp`` is used verbatim
    in both the signature and the string (Unix seconds recommended; milliseconds also seen).
    ``param_json`` stays the literal ``{}``; other values are percent-encoded only if they hold
    URL-unsafe characters.
    """
    if not access_token:
        raise ValueError("shop_key_params needs an access_token")
    ts = str(timestamp).strip()
    if not ts:
        raise ValueError("shop_key_params needs a timestamp")
    param_json = "{}"
    sign = sign_request(creds.app_key, creds.app_secret, SHOP_KEY_METHOD, param_json, ts, creds.sign_method)
    return (
        f"access_token={_q(access_token)}"
        f"&app_key={_q(creds.app_key)}"
        f"&method={SHOP_KEY_METHOD}"
        f"&param_json={param_json}"
        f"&timestamp={_q(ts)}"
        f"&v=2"
        f"&sign={sign}"
        f"&sign_method={creds.sign_method}"
    )


def shop_key_params_for(session: Any) -> str:
    """:func:`shop_key_params` for a ``ShopSession``: a fresh token (``session.tokens()``) and
    the client's clock. ``timestamp_format="datetime"`` falls back to Unix seconds (the
    component is only known to be fed seconds or milliseconds, §15.2)."""
    client = session.client
    creds: AppCredentials = client.creds
    if creds.timestamp_format == "datetime":
        ts = str(int(client.clock()))
    else:
        ts = client.timestamp()
    return shop_key_params(creds, session.tokens().access_token, timestamp=ts)


# ---------------------------------------------------------------------------- print command


@dataclass(frozen=True)
class Document:
    """One waybill to print.

    ``encrypted_data`` / ``signature`` are ``waybillApply``'s ``print_data`` / ``sign``
    (:class:`~.shipping.PrintData`), ``template_url`` is ``templateList``'s ``template_url``.
    The custom area is sent when ``custom_template_url`` is given (``custom_data`` defaults to
    ``{}``). ``package_number`` (e.g. ``"1/3"``) goes to the standard area's ``config``.
    """

    document_id: str
    track_no: str
    encrypted_data: str
    signature: str
    template_url: str
    custom_data: dict[str, Any] | None = None
    custom_template_url: str | None = None
    package_number: str | None = None

    def __post_init__(self) -> None:
        for name in ("document_id", "encrypted_data", "signature", "template_url"):
            value = getattr(self, name)
            if not isinstance(value, str) or not value.strip():
                raise ValueError(f"Document.{name} must be a non-empty string, got {value!r}")
        if self.custom_data is not None and not self.custom_template_url:
            raise ValueError(
                f"Document {self.document_id}: custom_data given without custom_template_url"
            )

    @classmethod
    def from_print_data(
        cls, document_id: str, print_data: Any, template_url: str, **kw: Any
    ) -> "Document":
        """From a :class:`~.shipping.PrintData` (``track_no``, ``print_data``, ``sign``)."""
        return cls(document_id, print_data.track_no, print_data.print_data, print_data.sign,
                   template_url, **kw)

    def message(self, params: str) -> dict[str, Any]:
        config: dict[str, Any] = {}
        if self.package_number:
            config["packageNumber"] = self.package_number
        standard: dict[str, Any] = {
            "params": params,
            "encryptedData": self.encrypted_data,
            "signature": self.signature,
            "templateURL": self.template_url,
        }
        if config:
            standard["config"] = config
        contents = [standard]
        if self.custom_template_url:
            contents.append({"data": dict(self.custom_data or {}), "templateURL": self.custom_template_url})
        doc: dict[str, Any] = {"documentID": self.document_id, "copy": 1, "contents": contents}
        if self.track_no:
            doc["docNo"] = self.track_no
        return doc


def build_print_task(
    documents: Sequence[Document],
    *,
    printer: str,
    params: str,
    task_id: str,
    request_id: str,
    preview: bool = False,
    first_document_number: int = 1,
    total_document_count: int | None = None,
    preview_type: str = "pdf",
) -> dict[str, Any]:
    """The ``print`` message of §15.2 for ``documents`` (one task).

    ``params`` is :func:`shop_key_params` output. ``total_document_count`` defaults to the
    number of documents in this task (pass the batch total when a batch is split; see
    :func:`split_tasks`). ``previewType`` is only sent when ``preview`` is true.
    """
    docs = list(documents)
    if not docs:
        raise ValueError("a print task needs at least one document")
    if not isinstance(params, str) or "method=" + SHOP_KEY_METHOD not in params:
        raise ValueError("params must be the signed logistics.getShopKey query string (shop_key_params)")
    if not task_id or not request_id:
        raise ValueError("task_id and request_id are required")
    ids = [d.document_id for d in docs]
    if len(set(ids)) != len(ids):
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        raise ValueError(f"duplicate documentID in one task: {dupes}")
    if first_document_number < 1:
        raise ValueError("first_document_number must be >= 1")
    total = len(docs) if total_document_count is None else total_document_count
    if total < first_document_number - 1 + len(docs):
        raise ValueError(
            f"total_document_count {total} < first_document_number {first_document_number} "
            f"+ {len(docs)} documents - 1"
        )
    if preview_type not in ("pdf", "image"):
        raise ValueError("preview_type must be 'pdf' or 'image'")
    task: dict[str, Any] = {
        "taskID": str(task_id),
        "printer": printer or "",
        "preview": bool(preview),
        "firstDocumentNumber": first_document_number,
        "totalDocumentCount": total,
        "documents": [d.message(params) for d in docs],
    }
    if preview:
        task["previewType"] = preview_type
    return {"cmd": "print", "requestID": str(request_id), "version": PROTOCOL_VERSION, "task": task}


def split_tasks(
    documents: Sequence[Document],
    per_task: int = DEFAULT_PER_TASK,
    *,
    printer: str,
    params: str,
    task_id: str,
    request_id: str | None = None,
    preview: bool = False,
    preview_type: str = "pdf",
) -> list[dict[str, Any]]:
    """Slice a batch into ``print`` messages of at most ``per_task`` documents (§15.4).

    Task *i* (1-based) gets ``taskID = f"{task_id}-{i}"`` and ``requestID =
    f"{request_id or task_id}-{i}"``; ``firstDocumentNumber`` runs on across tasks and
    ``totalDocumentCount`` is the batch size, so the component numbers labels 1..N.
    """
    if per_task < 1:
        raise ValueError("per_task must be >= 1")
    docs = list(documents)
    if not docs:
        raise ValueError("nothing to print")
    ids = [d.document_id for d in docs]
    if len(set(ids)) != len(ids):
        raise ValueError("documentIDs must be unique within a batch")
    rid = request_id or task_id
    out = []
    for n, start in enumerate(range(0, len(docs), per_task), start=1):
        out.append(build_print_task(
            docs[start:start + per_task], printer=printer, params=params,
            task_id=f"{task_id}-{n}", request_id=f"{rid}-{n}", preview=preview,
            first_document_number=start + 1, total_document_count=len(docs),
            preview_type=preview_type))
    return out


def get_printers_message(request_id: str) -> dict[str, Any]:
    """``{"cmd":"getPrinters","requestID":…,"version":"1.0"}`` (§15.2)."""
    return {"cmd": "getPrinters", "requestID": str(request_id), "version": PROTOCOL_VERSION}


# ---------------------------------------------------------------------------- component replies


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


# ---------------------------------------------------------------------------- templates


class _Session(Protocol):
    def call(self, method: str, params: dict[str, Any] | None = None) -> Any: ...


@dataclass(frozen=True)
class TemplateInfo:
    template_code: str
    template_name: str
    template_url: str
    template_type: int  # 1 一联单, 2 二联单 (0 if absent)
    template_id: str = ""
    version: str = ""
    preview_url: str = ""  # the API spells it "perview_url"


def _int(v: Any) -> int:
    try:
        return int(str(v).strip())
    except (TypeError, ValueError):
        return 0


def fetch_template_urls(session: _Session) -> dict[str, list[TemplateInfo]]:
    """``logistics.templateList`` (§9.6) → ``{logistics_code: [TemplateInfo, …]}``.

    Templates without a ``template_url`` are dropped (unusable for the component).
    """
    data = session.call("logistics.templateList", {})
    if data is None:
        return {}
    if not isinstance(data, Mapping):
        raise UnexpectedResponse(f"templateList data is {type(data).__name__}, expected an object",
                                 method="logistics.templateList")
    out: dict[str, list[TemplateInfo]] = {}
    for group in data.get("template_data") or []:
        if not isinstance(group, Mapping):
            continue
        code = _str(group.get("logistics_code"))
        if not code:
            continue
        infos = out.setdefault(code, [])
        for t in _iter_dicts(group.get("template_infos")):
            url = _str(t.get("template_url"))
            if not url:
                continue
            infos.append(TemplateInfo(
                template_code=_str(t.get("template_code")), template_name=_str(t.get("template_name")),
                template_url=url, template_type=_int(t.get("template_type")),
                template_id=_str(t.get("template_id")), version=_str(t.get("version")),
                preview_url=_str(t.get("perview_url") or t.get("preview_url"))))
    return out


def _iter_dicts(v: Any) -> Iterable[Mapping[str, Any]]:
    return [x for x in (v or []) if isinstance(x, Mapping)] if isinstance(v, list) else []
