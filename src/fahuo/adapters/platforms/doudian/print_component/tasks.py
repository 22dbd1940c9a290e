"""The component's ``print`` and ``getPrinters`` commands (§15.2), batches split into tasks."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

from .shop_key import SHOP_KEY_METHOD

COMPONENT_WS_URL = "ws://localhost:13888"
COMPONENT_WSS_URL = "wss://localhost:13999"
PROTOCOL_VERSION = "1.0"
#: Documents per ``print`` task. Douyin's real limit is UNCONFIRMED (§15.4); 10 is what ERPs
#: use for Kuaishou. Callers may pass another value to :func:`split_tasks`.
DEFAULT_PER_TASK = 10


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
