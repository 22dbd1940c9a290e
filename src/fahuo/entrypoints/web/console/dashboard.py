"""Console: the overview page and the push inbox."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from fahuo.domain.names import INBOX_STATUS
from fahuo.entrypoints.web.console.paging import kept, refused
from fahuo.entrypoints.web.console.render import STATE_LABELS, render
from fahuo.entrypoints.web.deps import UowDep
from fahuo.services import lists, read_models
from fahuo.services.lists import PER_PAGE, ListFilterError, Paging
from fahuo.services.today import today

router = APIRouter()


@router.get("/")
def dashboard(request: Request, uow: UowDep) -> HTMLResponse:
    d, board_ = read_models.dashboard(uow), today(uow)
    return render(request, "dashboard.html", {"board": board_, "shops": d.shops,
        "urgent": d.urgent,
        "chart_labels": [STATE_LABELS.get(k, k) for k in board_.states],
        "chart_values": list(board_.states.values())})


@router.get("/board")
def board(request: Request, uow: UowDep) -> HTMLResponse:
    """The 今天 board alone, for its own refresh."""
    return render(request, "_today.html", {"board": today(uow)})


@router.get("/inbox")
def inbox_page(request: Request, uow: UowDep, status: str = "", page: int = 1,
               per: int = PER_PAGE) -> HTMLResponse:
    try:
        found = lists.inbox(uow, status=status, paging=Paging.of_page(page, per))
    except ListFilterError as exc:
        return refused(request, exc)
    return render(request, "inbox.html", {"p": found, "status": status,
                                          "params": kept(per, status=status),
                                          "STATUSES": INBOX_STATUS})
