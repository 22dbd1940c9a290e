"""Sign-in pages and user management (admins only)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal
from urllib.parse import quote

from fastapi import APIRouter, FastAPI, HTTPException, Request
from fastapi import Path as PathParam
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from pydantic import BaseModel, Field, StrictBool
from starlette.concurrency import run_in_threadpool

from fahuo.bootstrap import Fahuo
from fahuo.entrypoints.web.auth import COOKIE, SESSION_S, current_user, is_https
from fahuo.services.users import (
    UserError, add_user, change_user, end_session, issue_token, list_users, sign_in,
    sign_out_everywhere, start_session,
)

NAME = r"^[\w.\-@\u4e00-\u9fff]{2,64}$"


class UserIn(BaseModel):
    username: str = Field(pattern=NAME)
    password: str = Field(min_length=8, max_length=256)
    role: Literal["admin", "operator"] = "operator"
    may_see_receiver: StrictBool = False


class UserChange(BaseModel):
    password: str | None = Field(None, min_length=8, max_length=256)
    role: Literal["admin", "operator"] | None = None
    may_see_receiver: StrictBool | None = None
    disabled: StrictBool | None = None


def _safe_next(target: str) -> str:
    # Only paths on this site: never bounce a signed-in user to another host.
    return target if target.startswith("/") and not target.startswith("//") else "/"


def client_ip(request: Request, trust_proxy: bool) -> str:
    if trust_proxy and (fwd := request.headers.get("x-forwarded-for")):
        return fwd.split(",")[0].strip()[:64]
    return request.client.host if request.client else ""


def register(web: FastAPI, api: APIRouter, c: Callable[[], Fahuo],
             templates: Jinja2Templates) -> None:

    def _actor(request: Request) -> str:  # only after admin_only let the request through
        user = current_user(request)
        assert user is not None
        return user.username

    def admin_only(request: Request) -> Any:
        user = current_user(request)
        if user is None or not user.is_admin:
            return JSONResponse({"message": "只有管理员可以管理用户 (admins only; the first "
                                            "admin is created with `fahuo user add`)"}, 403)
        return None

    # ---- API --------------------------------------------------------------------------
    @api.get("/me")
    def api_me(request: Request) -> dict[str, Any]:
        """Who is signed in (null when the install has no users yet)."""
        user = current_user(request)
        return {"user": None if user is None else user.__dict__}

    @api.get("/users", responses={403: {"description": "admins only"}})
    def api_users(request: Request) -> Any:
        return admin_only(request) or list_users(c().uow)

    @api.post("/users", status_code=201, responses={
        403: {"description": "admins only"}, 422: {"description": "what is wrong"}})
    def api_add_user(request: Request, body: UserIn) -> Any:
        if (refused := admin_only(request)) is not None:
            return refused
        try:
            return add_user(c().uow, body.username, body.password, role=body.role,
                            may_see_receiver=body.may_see_receiver,
                            actor=_actor(request)).__dict__
        except UserError as exc:
            return JSONResponse({"message": str(exc)}, 422)

    @api.post("/users/{username}", responses={
        403: {"description": "admins only"}, 422: {"description": "what is wrong"}})
    def api_change_user(request: Request, body: UserChange,
                        username: str = PathParam(pattern=NAME)) -> Any:
        if (refused := admin_only(request)) is not None:
            return refused
        try:
            return change_user(c().uow, username, actor=_actor(request),
                               **body.model_dump()).__dict__
        except UserError as exc:
            return JSONResponse({"message": str(exc)}, 422)

    @api.post("/users/{username}/token", responses={
        403: {"description": "admins only"}, 422: {"description": "no such user"}})
    def api_token(request: Request, username: str = PathParam(pattern=NAME)) -> Any:
        """A new API token for the user (shown once; the old one stops working)."""
        if (refused := admin_only(request)) is not None:
            return refused
        try:
            return {"token": issue_token(c().uow, username, actor=_actor(request))}
        except UserError as exc:
            return JSONResponse({"message": str(exc)}, 422)

    @api.post("/users/{username}/sign-out", responses={
        403: {"description": "admins only"}, 422: {"description": "no such user"}})
    def api_sign_out(request: Request, username: str = PathParam(pattern=NAME)) -> Any:
        """Sign the user out everywhere: every console session ends (API tokens stay)."""
        if (refused := admin_only(request)) is not None:
            return refused
        try:
            return {"ended": sign_out_everywhere(c().uow, username,
                                                 actor=_actor(request))}
        except UserError as exc:
            return JSONResponse({"message": str(exc)}, 422)

    # ---- console ----------------------------------------------------------------------
    @web.get("/login", response_class=HTMLResponse, include_in_schema=False)
    def login_page(request: Request, next: str = "/", msg: str = "") -> HTMLResponse:
        return templates.TemplateResponse(request, "login.html",
                                          {"next": _safe_next(next), "msg": msg})

    @web.post("/login", include_in_schema=False)
    async def login_post(request: Request) -> Response:
        fh = c()
        form = await request.form()
        target = _safe_next(str(form.get("next", "/")))
        # argon2 and the database run on a worker thread: the event loop keeps serving
        got = await run_in_threadpool(
            sign_in, fh.uow, str(form.get("username", "")), str(form.get("password", "")),
            ip=client_ip(request, fh.settings.trust_proxy_headers))
        if got.retry_after:
            wait = int(got.retry_after) + 1
            return templates.TemplateResponse(
                request, "login.html", {"next": target,
                                        "msg": f"登录失败次数过多，请 {wait} 秒后再试"},
                status_code=429, headers={"Retry-After": str(wait)})
        if got.user is None:
            return RedirectResponse(f"/login?next={quote(target)}&msg="
                                    + quote("用户名或密码错误"), 303)
        sid = await run_in_threadpool(start_session, fh.uow, got.user)
        resp = RedirectResponse(target, 303)
        resp.set_cookie(COOKIE, sid, max_age=SESSION_S, httponly=True, samesite="lax",
                        secure=is_https(request.scope, fh.settings.trust_proxy_headers))
        return resp

    @web.post("/logout", include_in_schema=False)
    def logout(request: Request) -> Response:
        if sid := request.cookies.get(COOKIE):
            end_session(c().uow, sid)
        resp = RedirectResponse("/login", 303)
        resp.delete_cookie(COOKIE)
        return resp

    @web.get("/users", response_class=HTMLResponse, include_in_schema=False)
    def users_page(request: Request, msg: str = "") -> HTMLResponse:
        user = current_user(request)
        rows = list_users(c().uow) if user and user.is_admin else []
        return templates.TemplateResponse(request, "users.html", {
            "rows": rows, "msg": msg, "is_admin": bool(user and user.is_admin)})

    @web.post("/users", include_in_schema=False)
    async def users_post(request: Request) -> Response:
        user = current_user(request)
        if user is None or not user.is_admin:
            raise HTTPException(403, "admins only")
        form = await request.form()
        action, name = str(form.get("action", "")), str(form.get("username", "")).strip()

        def act() -> str:  # on a worker thread: adding a user hashes its password
            try:
                if action == "add":
                    add_user(c().uow, name, str(form.get("password", "")),
                             role=str(form.get("role", "operator")),
                             may_see_receiver=form.get("may_see_receiver") == "1",
                             actor=user.username)
                    msg = f"已添加用户 {name}"
                elif action in ("grant", "revoke"):
                    change_user(c().uow, name, actor=user.username,
                                may_see_receiver=action == "grant")
                    msg = f"已更新 {name} 的明文收件人权限"
                elif action in ("disable", "enable"):
                    change_user(c().uow, name, actor=user.username, disabled=action == "disable")
                    msg = f"已{'停用' if action == 'disable' else '启用'} {name}"
                elif action == "sign_out":
                    n = sign_out_everywhere(c().uow, name, actor=user.username)
                    msg = f"已让 {name} 在所有设备退出登录（{n} 个会话）"
                else:
                    msg = f"未知操作 {action}"
            except UserError as exc:
                msg = f"失败：{exc}"
            return msg

        msg = await run_in_threadpool(act)
        return RedirectResponse("/users?msg=" + quote(msg), 303)
