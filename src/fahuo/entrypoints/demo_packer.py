"""The demo's packing station: prints what waits, as a packer at the desk would.

Platform e-waybills go through the real print path: the print component's tasks are built
(``component_tasks``: print data from the sandbox's ``waybillApply``, templates, the signed
``getShopKey`` params) and a local stand-in of the Douyin print component answers each task
the way the component reports a print (``notifyPrintResult``), which fahuo records like any
other. Self-drawn labels are drawn as PDF. With the default 打印后发货 the next pipeline pass
then confirms the printed parcels. Demo only: a real install has a person and a printer.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import structlog

from fahuo.services.print_component import component_tasks, record_component_result
from fahuo.services.print_jobs import Selection, print_selection
from fahuo.services.printing import NothingToPrint

log = structlog.get_logger(__name__)
PACKER = "演示打包台"
PRINTER = "演示打印机"


@dataclass(frozen=True)
class Packed:
    component: int = 0  # platform e-waybills the stand-in component printed
    drawn: int = 0  # self-drawn labels drawn as PDF
    failed: int = 0


def component_answer(task: dict[str, Any], printer: str = PRINTER) -> str:
    """What the Douyin print component sends once a task has printed (§15.3)."""
    t = task["task"]
    return json.dumps({"cmd": "notifyPrintResult", "printer": printer, "taskID": t["taskID"],
                       "taskStatus": "printed",
                       "printStatus": [{"documentID": d["documentID"], "status": "success",
                                        "msg": "", "trackNo": d.get("docNo", "")}
                                       for d in t["documents"]]}, ensure_ascii=False)


def pack_waiting(app: Any, *, actor: str = PACKER) -> Packed:
    """Print every label waiting; platform waybills through the stand-in component."""
    try:
        plan = print_selection(app.uow, app.platform_for, Selection(), fmt="pdf", actor=actor,
                               printer=PRINTER, out_dir=app.settings.data_dir / "prints")
    except NothingToPrint:
        return Packed()
    printed = failed = 0
    if plan.platform:
        got = component_tasks(app.uow, app.platform_for, plan.platform, printer=PRINTER)
        failed = len(got["problems"])
        for task in got["tasks"]:
            res = record_component_result(app.uow, component_answer(task), actor=actor)
            printed += len(res["printed"])
            failed += len(res["failed"])
    return Packed(component=printed, drawn=plan.result.packs if plan.result else 0,
                  failed=failed)
