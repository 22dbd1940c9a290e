"""Platform waybills printed by the Douyin print component on the packer's computer.

fahuo never draws the standard area of a platform waybill: it builds the component's `print`
tasks (encrypted print data, signature, template URL, the pre-signed getShopKey params) and the
console page hands them to the component over its local WebSocket. What the component reports
back (`notifyPrintResult`) is recorded here and moves the packs to printed.
"""

from __future__ import annotations

import time
import uuid
import weakref
from collections import Counter
from collections.abc import Sequence
from typing import Any

from fahuo.adapters.platforms.doudian.print_component import (
    Document, fetch_template_urls, parse_component_message, shop_key_params_for, split_tasks,
)
from fahuo.domain.names import PRINT_TASK_STATUS
from fahuo.services.ports import PlatformFactory, UowFactory
from fahuo.services.print_data import print_data
from fahuo.services.printing import record_printed

DOC_PREFIX = "fahuo-pack-"
TASK_SUBJECT = "print_task"  # the audit entries that keep each task's outcome
# Per shop session (two installs in one process never share): (courier, two_part) → (until, url).
_TEMPLATES: "weakref.WeakKeyDictionary[Any, dict[tuple[str, bool], tuple[float, str]]]" = (
    weakref.WeakKeyDictionary())
TEMPLATE_CACHE_S = 3600


class ComponentTaskError(ValueError):
    """The request as a whole is refused (message for the merchant, Chinese first)."""


def component_tasks(uow_factory: UowFactory, platform_for: PlatformFactory,
                    pack_ids: Sequence[int], *, printer: str, per_task: int = 10,
                    two_part: bool = True) -> dict[str, Any]:
    """The component's print tasks for these packs; packs that cannot print say why."""
    twice = sorted(pid for pid, n in Counter(pack_ids).items() if n > 1)
    if twice:  # one label per pack per batch: the component needs unique document ids
        raise ComponentTaskError(
            f"包裹 {'、'.join(map(str, twice[:20]))} 重复出现，同一批次每个包裹只能打印一张面单"
            " (duplicate pack ids)")
    batch = print_data(uow_factory, platform_for, pack_ids)
    problems = {str(k): v for k, v in batch.problems.items()}
    with uow_factory(readonly=True) as u:
        packs = {p["id"]: p for p in u.pipeline.packs_by_ids([d["pack_id"]
                                                              for d in batch.documents])}
        shops = {s.id: s for s in u.shops.list()}
    by_shop: dict[int, list[dict]] = {}
    for d in batch.documents:
        by_shop.setdefault(packs[d["pack_id"]]["shop_ref"], []).append(d)
    tasks: list[dict] = []
    for shop_ref, docs in by_shop.items():
        session = platform_for(shops[shop_ref]).session
        params = shop_key_params_for(session)  # a live token: made per batch, never stored
        documents = []
        for d in docs:
            url = _template_url(session, shop_ref, d["courier_code"], two_part)
            if url is None:
                problems[str(d["pack_id"])] = f"{d['courier_code']} 没有电子面单模板 (no template)"
                continue
            documents.append(Document(
                document_id=f"{DOC_PREFIX}{d['pack_id']}", track_no=d["track_no"],
                encrypted_data=d["encrypted_data"], signature=d["signature"],
                template_url=url, package_number=d["pack_no"] if d["pack_no"] != "1/1"
                else None))
        if documents:
            tasks += split_tasks(documents, per_task, printer=printer, params=params,
                                 task_id=f"fahuo-{uuid.uuid4().hex[:12]}")
    return {"tasks": tasks, "problems": problems}


def _template_url(session: Any, shop_ref: int, courier: str, two_part: bool) -> str | None:
    now = time.time()
    cache = _TEMPLATES.setdefault(session, {})
    hit = cache.get((courier, two_part))
    if hit and hit[0] > now:
        return hit[1]
    for code, infos in fetch_template_urls(session).items():
        want = [t for t in infos if (t.template_type == 2) == two_part] or infos
        if want:
            cache[(code, two_part)] = (now + TEMPLATE_CACHE_S, want[0].template_url)
    got = cache.get((courier, two_part))
    return got[1] if got else None


def record_component_result(uow_factory: UowFactory, raw: str | bytes, *, actor: str,
                            printer: str = "", reason: str = "") -> dict[str, Any]:
    """A message from the component. A `notifyPrintResult` records the documents printed
    (a pack printed before counts as a reprint, with ``reason``) and, like a refused task,
    keeps the task's outcome per document for the print-component page."""
    event = parse_component_message(raw)
    if event.kind == "ack" and event.status not in ("", "success"):
        with uow_factory() as u:  # the component refused the task as a whole
            u.audit.add(actor=actor, action="print.component", subject_type=TASK_SUBJECT,
                        subject_id=event.task_id[:64], detail={
                            "task_id": event.task_id, "status": "refused",
                            "msg": event.msg, "printer": event.printer or printer,
                            "printed": [], "failed": {}})
        return {"printed": [], "failed": {}, "ignored": None, "refused": event.msg}
    if event.kind != "result":
        return {"printed": [], "failed": {}, "ignored": event.kind}
    printed, failed = [], {}
    for doc in event.documents:
        if not doc.document_id.startswith(DOC_PREFIX):
            continue
        pid = int(doc.document_id[len(DOC_PREFIX):])
        if doc.ok and event.status in ("printed", "rendered"):
            printed.append(pid)
        else:
            failed[str(pid)] = doc.msg or doc.status or event.status
    with uow_factory() as u:
        if printed:
            packs = u.pipeline.packs_by_ids(printed)
            before = u.prints.printed_before(printed, "labels")
            lines = u.pipeline.lines(printed)
            record_printed(
                u, [p["id"] for p in packs],
                sorted({ln["order_id"] for ls in lines.values() for ln in ls}),
                records_reprint=bool(before), kind="labels",
                format="component", size="", order_by="deadline",
                selection_key=f"component:{event.task_id}", fingerprint=event.task_id or "",
                file_name="", printer=event.printer or printer,
                reprint_of=min(before.values()) if before else None,
                reason=(reason.strip() or "打印组件补打") if before else reason.strip(),
                created_by=actor)
        u.audit.add(actor=actor, action="print.component", subject_type=TASK_SUBJECT,
                    subject_id=event.task_id[:64], detail={
                        "task_id": event.task_id, "status": event.status, "msg": event.msg,
                        "printer": event.printer or printer, "printed": printed,
                        "failed": failed})
    return {"printed": printed, "failed": failed, "ignored": None}


TASK_STATUS_ZH = PRINT_TASK_STATUS


def component_results(uow_factory: UowFactory, limit: int = 30) -> list[dict[str, Any]]:
    """The latest tasks as the component reported them, newest first: per task its status
    (in Chinese), the packs printed and each failed pack with the component's words."""
    with uow_factory(readonly=True) as u:
        rows = u.prints.component_results(TASK_SUBJECT, limit)
    for r in rows:
        r["status_zh"] = TASK_STATUS_ZH.get(r["status"], r["status"] or "未知")
        r["ok"] = not r["failed"] and r["status"] in ("printed", "rendered")
    return rows
