"""Console: sign in and out, and the users page (admins manage users)."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from fahuo.entrypoints.web.console.paging import kept, refused
from fahuo.entrypoints.web.console.render import render
from fahuo.entrypoints.web.deps import FahuoDep, SignedIn, UowDep
from fahuo.entrypoints.web.middleware import COOKIE, SESSION_S, is_https
from fahuo.services import lists
from fahuo.services.lists import PER_PAGE, USER_ROLE, USER_STATE, ListFilterError, Paging
from fahuo.services.users import (
    UserError, add_user, change_user, end_session, sign_in, sign_out_everywhere,
    start_session,
)

router = APIRouter()


def _safe_next(target: str) -> str:
    # Only paths on this site: never bounce a signed-in user to another host.
    return target if target.startswith("/") and not target.startswith("//") else "/"


def client_ip(request: Request, trust_proxy: bool) -> str:
    if trust_proxy and (fwd := request.headers.get("x-forwarded-for")):
        return fwd.split(",")[0].strip()[:64]
    return request.client.host if request.client else ""


@router.get("/login")
def login_page(request: Request, next: str = "/", msg: str = "") -> HTMLResponse:
    return render(request, "login.html", {"next": _safe_next(next), "msg": msg})


@router.post("/login")
async def login_post(request: Request, fh: FahuoDep) -> Response:
    form = await request.form()
    target = _safe_next(str(form.get("next", "/")))
    # argon2 and the database run on a worker thread: the event loop keeps serving
    got = await run_in_threadpool(
        sign_in, fh.uow, str(form.get("username", "")), str(form.get("password", "")),
        ip=client_ip(request, fh.settings.trust_proxy_headers))
    if got.retry_after:
        wait = int(got.retry_after) + 1
        return render(request, "login.html",
                      {"next": target, "msg": f"登录失败次数过多，请 {wait} 秒后再试"},
                      status_code=429, headers={"Retry-After": str(wait)})
    if got.user is None:
        return RedirectResponse(f"/login?next={quote(target)}&msg=" + quote("用户名或密码错误"),
                                303)
    sid = await run_in_threadpool(start_session, fh.uow, got.user)
    resp = RedirectResponse(target, 303)
    resp.set_cookie(COOKIE, sid, max_age=SESSION_S, httponly=True, samesite="lax",
                    secure=is_https(request.scope, fh.settings.trust_proxy_headers))
    return resp


@router.post("/logout")
def logout(request: Request, uow: UowDep) -> Response:
    if sid := request.cookies.get(COOKIE):
        end_session(uow, sid)
    resp = RedirectResponse("/login", 303)
    resp.delete_cookie(COOKIE)
    return resp


@router.get("/users")
def users_page(request: Request, uow: UowDep, user: SignedIn, role: str = "",
               state: str = "", page: int = 1, per: int = PER_PAGE, msg: str = ""
               ) -> HTMLResponse:
    admin = bool(user and user.is_admin)
    try:
        found = (lists.users(uow, role=role, state=state, paging=Paging.of_page(page, per))
                 if admin else None)
    except ListFilterError as exc:
        return refused(request, exc)
    return render(request, "users.html", {
        "p": found, "msg": msg, "is_admin": admin, "role": role, "state": state,
        "params": kept(per, role=role, state=state), "ROLES": USER_ROLE, "STATES": USER_STATE})


@router.post("/users")
async def users_post(request: Request, uow: UowDep, user: SignedIn) -> Response:
    if user is None or not user.is_admin:
        raise HTTPException(403, "只有管理员可以管理用户")
    actor = user.username
    form = await request.form()
    action, name = str(form.get("action", "")), str(form.get("username", "")).strip()

    def act() -> str:  # on a worker thread: adding a user hashes its password
        try:
            if action == "add":
                add_user(uow, name, str(form.get("password", "")),
                         role=str(form.get("role", "operator")),
                         may_see_receiver=form.get("may_see_receiver") == "1", actor=actor)
                msg = f"已添加用户 {name}"
            elif action in ("grant", "revoke"):
                change_user(uow, name, actor=actor, may_see_receiver=action == "grant")
                msg = f"已更新 {name} 的明文收件人权限"
            elif action in ("disable", "enable"):
                change_user(uow, name, actor=actor, disabled=action == "disable")
                msg = f"已{'停用' if action == 'disable' else '启用'} {name}"
            elif action == "sign_out":
                n = sign_out_everywhere(uow, name, actor=actor)
                msg = f"已让 {name} 在所有设备退出登录（{n} 个会话）"
            else:
                msg = f"未知操作 {action}"
        except UserError as exc:
            msg = f"失败：{exc}"
        return msg

    msg = await run_in_threadpool(act)
    return RedirectResponse("/users?msg=" + quote(msg), 303)
