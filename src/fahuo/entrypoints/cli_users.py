"""`fahuo user`: console users and API tokens."""

from __future__ import annotations

from typing import Optional

import typer
from rich.table import Table

from fahuo.entrypoints.cli_common import _app, _fail, _t, out, who


def _role(code: str) -> str:
    from fahuo.services.users import ROLE_NAMES
    return f"{ROLE_NAMES.get(code, code)} ({code})"


user_cli = typer.Typer(help="Console users (the first one turns sign-in on).",
                       no_args_is_help=True)


@user_cli.command("add")
def user_add(username: str,
             role: str = typer.Option("operator", help="admin or operator (the first is admin)"),
             see_receiver: bool = typer.Option(False, help="may see plain receivers on labels"),
             password: str = typer.Option(..., prompt=True, hide_input=True,
                                          confirmation_prompt=True)) -> None:
    """Add a console user."""
    from fahuo.services.users import UserError, add_user
    try:
        u = add_user(_app().uow, username, password, role=role, may_see_receiver=see_receiver,
                     actor=who())
    except UserError as exc:
        _fail(str(exc))
    out.print(f"已添加用户 {u.username}，角色 {_role(u.role)}；从现在起控制台需要登录")


@user_cli.command("list")
def user_list(role: Optional[str] = typer.Option(None, help="admin or operator"),
              state: Optional[str] = typer.Option(None, help="active or disabled"),
              limit: int = typer.Option(100, min=1), offset: int = typer.Option(0, min=0)
              ) -> None:
    from fahuo.services import lists
    try:
        p = lists.users(_app().uow, role=role, state=state,
                        paging=lists.Paging(limit=limit, offset=offset))
    except lists.ListFilterError as exc:
        _fail(str(exc))
    t = Table("用户名", "角色", "可见明文收件人", "API 令牌", "状态", "上次登录")
    for u in p.rows:
        t.add_row(u["username"], _role(u["role"]), "是" if u["may_see_receiver"] else "否",
                  "有" if u["has_token"] else "—", "已停用" if u["disabled"] else "正常",
                  _t(u["last_login_at"]))
    out.print(t)
    out.print(f"共 {p.total} 个用户，显示第 {p.first}–{p.last} 个" if p.rows
              else f"共 {p.total} 个用户")


@user_cli.command("set")
def user_set(username: str,
             role: Optional[str] = typer.Option(None, help="admin or operator"),
             see_receiver: Optional[bool] = typer.Option(None, "--see-receiver/--no-see-receiver"),
             disabled: Optional[bool] = typer.Option(None, "--disable/--enable")) -> None:
    """Change a user's role, plain-receiver permission or status."""
    from fahuo.services.users import UserError, change_user
    try:
        u = change_user(_app().uow, username, actor=who(), role=role,
                        may_see_receiver=see_receiver, disabled=disabled)
    except UserError as exc:
        _fail(str(exc))
    out.print(f"{u.username}：{_role(u.role)}，可见明文收件人：{'是' if u.may_see_receiver else '否'}")


@user_cli.command("passwd")
def user_passwd(username: str,
                password: str = typer.Option(..., prompt=True, hide_input=True,
                                             confirmation_prompt=True)) -> None:
    from fahuo.services.users import UserError, change_user
    try:
        change_user(_app().uow, username, actor=who(), password=password)
    except UserError as exc:
        _fail(str(exc))
    out.print(f"{username}：密码已修改")


@user_cli.command("token")
def user_token(username: str) -> None:
    """A new API token (Authorization: Bearer …); shown once, the old one stops working."""
    from fahuo.services.users import UserError, issue_token
    try:
        out.print(issue_token(_app().uow, username, actor=who()))
    except UserError as exc:
        _fail(str(exc))


@user_cli.command("sign-out")
def user_sign_out(username: str) -> None:
    """Sign the user out everywhere: every console session ends now (API tokens stay)."""
    from fahuo.services.users import UserError, sign_out_everywhere
    try:
        n = sign_out_everywhere(_app().uow, username, actor=who())
    except UserError as exc:
        _fail(str(exc))
    out.print(f"{username}：已结束 {n} 个会话")


def register(cli: typer.Typer) -> None:
    cli.add_typer(user_cli, name="user")
