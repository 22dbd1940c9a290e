"""API: who is signed in, and user management (admins only)."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Query
from fastapi import Path as PathParam
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field, StrictBool

from fahuo.entrypoints.web.api.paging import REFUSED, listed
from fahuo.entrypoints.web.deps import Actor, SignedIn, UowDep, admins_only
from fahuo.services import lists
from fahuo.services.lists import MAX_OFFSET, Paging
from fahuo.services.users import UserError, add_user, change_user, issue_token, sign_out_everywhere

router = APIRouter()
NAME = r"^[\w.\-@\u4e00-\u9fff]{2,64}$"
ADMINS_ONLY = ("只有管理员可以管理用户 (admins only; the first admin is created with "
               "`fahuo user add`)")


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


@router.get("/me")
def api_me(user: SignedIn) -> dict[str, Any]:
    """Who is signed in (null when the install has no users yet)."""
    return {"user": None if user is None else user.__dict__}


@router.get("/users", responses={403: {"description": "admins only"}, **REFUSED})
def api_users(uow: UowDep, user: SignedIn,
              role: Literal["admin", "operator"] | None = None,
              state: Literal["active", "disabled"] | None = None,
              limit: int = Query(100, ge=1, le=1000),
              offset: int = Query(0, ge=0, le=MAX_OFFSET)) -> Any:
    """Users by id: ``total`` matching, ``items`` from ``offset`` (admins only)."""
    return admins_only(user, ADMINS_ONLY) or listed(lambda: lists.users(
        uow, role=role, state=state, paging=Paging(limit=limit, offset=offset)))


@router.post("/users", status_code=201, responses={
    403: {"description": "admins only"}, 422: {"description": "what is wrong"}})
def api_add_user(uow: UowDep, user: SignedIn, actor: Actor, body: UserIn) -> Any:
    if (refused := admins_only(user, ADMINS_ONLY)) is not None:
        return refused
    try:
        return add_user(uow, body.username, body.password, role=body.role,
                        may_see_receiver=body.may_see_receiver, actor=actor).__dict__
    except UserError as exc:
        return JSONResponse({"message": str(exc)}, 422)


@router.post("/users/{username}", responses={
    403: {"description": "admins only"}, 422: {"description": "what is wrong"}})
def api_change_user(uow: UowDep, user: SignedIn, actor: Actor, body: UserChange,
                    username: str = PathParam(pattern=NAME)) -> Any:
    if (refused := admins_only(user, ADMINS_ONLY)) is not None:
        return refused
    try:
        return change_user(uow, username, actor=actor, **body.model_dump()).__dict__
    except UserError as exc:
        return JSONResponse({"message": str(exc)}, 422)


@router.post("/users/{username}/token", responses={
    403: {"description": "admins only"}, 422: {"description": "no such user"}})
def api_token(uow: UowDep, user: SignedIn, actor: Actor,
              username: str = PathParam(pattern=NAME)) -> Any:
    """A new API token for the user (shown once; the old one stops working)."""
    if (refused := admins_only(user, ADMINS_ONLY)) is not None:
        return refused
    try:
        return {"token": issue_token(uow, username, actor=actor)}
    except UserError as exc:
        return JSONResponse({"message": str(exc)}, 422)


@router.post("/users/{username}/sign-out", responses={
    403: {"description": "admins only"}, 422: {"description": "no such user"}})
def api_sign_out(uow: UowDep, user: SignedIn, actor: Actor,
                 username: str = PathParam(pattern=NAME)) -> Any:
    """Sign the user out everywhere: every console session ends (API tokens stay)."""
    if (refused := admins_only(user, ADMINS_ONLY)) is not None:
        return refused
    try:
        return {"ended": sign_out_everywhere(uow, username, actor=actor)}
    except UserError as exc:
        return JSONResponse({"message": str(exc)}, 422)
