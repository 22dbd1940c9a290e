"""Console users: who may sign in, who manages users, who may see buyers' plain receivers.

Passwords are argon2id hashes (argon2-cffi). API tokens are random and stored only as a
SHA-256 digest: shown once, never again. An install without users is open (first run, a
single person on a laptop); the first user turns sign-in on for the console and the API.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from fahuo.adapters.store.unit_of_work import UnitOfWork

UowFactory = Callable[..., UnitOfWork]
ROLES = ("admin", "operator")
_NAME = re.compile(r"^[\w.\-@\u4e00-\u9fff]{2,64}$")
_hasher = PasswordHasher()
# Verifying against this keeps "no such user" as slow as "wrong password".
_DUMMY = _hasher.hash("fahuo-no-such-user")


class UserError(ValueError):
    """Bad user input; names what is wrong. Nothing was saved."""


@dataclass(frozen=True)
class User:
    id: int
    username: str
    role: str
    may_see_receiver: bool

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


def _user(row: dict[str, Any]) -> User:
    return User(row["id"], row["username"], row["role"], bool(row["may_see_receiver"]))


def _check_password(password: str) -> None:
    if len(password) < 8:
        raise UserError("password must be at least 8 characters")


def add_user(uow: UowFactory, username: str, password: str, *, role: str = "operator",
             may_see_receiver: bool = False, actor: str) -> User:
    problems = []
    if not _NAME.match(username or ""):
        problems.append("username: 2–64 letters, digits, Chinese characters or . - _ @")
    if role not in ROLES:
        problems.append(f"role must be one of {', '.join(ROLES)}")
    try:
        _check_password(password)
    except UserError as exc:
        problems.append(str(exc))
    if problems:
        raise UserError("; ".join(problems))
    with uow() as u:
        if u.users.by_name(username):
            raise UserError(f"user {username!r} exists")
        first = u.users.count() == 0
        uid = u.users.add({"username": username, "password_hash": _hasher.hash(password),
                           # the first user manages the rest, whatever was asked
                           "role": "admin" if first else role,
                           "may_see_receiver": may_see_receiver, "disabled": False,
                           "created_at": int(time.time())})
        u.audit.add(actor=actor, action="user.add", subject_type="user", subject_id=str(uid),
                    detail={"username": username, "role": "admin" if first else role,
                            "may_see_receiver": may_see_receiver})
        return _user(u.users.by_id(uid))


def authenticate(uow: UowFactory, username: str, password: str) -> User | None:
    with uow() as u:
        row = u.users.by_name(username)
        try:
            _hasher.verify(row["password_hash"] if row else _DUMMY, password)
        except (VerificationError, InvalidHashError):
            return None
        if row is None or row["disabled"]:
            return None
        values: dict[str, Any] = {"last_login_at": int(time.time())}
        if _hasher.check_needs_rehash(row["password_hash"]):
            values["password_hash"] = _hasher.hash(password)
        u.users.update(row["id"], **values)
        return _user(row)


def user_by_id(uow: UowFactory, user_id: int) -> User | None:
    with uow(readonly=True) as u:
        row = u.users.by_id(user_id)
    return None if row is None or row["disabled"] else _user(row)


def user_by_token(uow: UowFactory, token: str) -> User | None:
    digest = hashlib.sha256(token.encode()).hexdigest()
    with uow(readonly=True) as u:
        row = u.users.by_token_hash(digest)
    return None if row is None or row["disabled"] else _user(row)


def issue_token(uow: UowFactory, username: str, *, actor: str) -> str:
    """A new API token for this user (the old one stops working). Shown once."""
    token = "fh_" + secrets.token_urlsafe(32)
    with uow() as u:
        row = u.users.by_name(username)
        if row is None:
            raise UserError(f"no user {username!r}")
        u.users.update(row["id"], api_token_hash=hashlib.sha256(token.encode()).hexdigest())
        u.audit.add(actor=actor, action="user.token", subject_type="user",
                    subject_id=str(row["id"]), detail={})
    return token


def change_user(uow: UowFactory, username: str, *, actor: str, password: str | None = None,
                role: str | None = None, may_see_receiver: bool | None = None,
                disabled: bool | None = None) -> User:
    values: dict[str, Any] = {}
    if password is not None:
        _check_password(password)
        values["password_hash"] = _hasher.hash(password)
    if role is not None:
        if role not in ROLES:
            raise UserError(f"role must be one of {', '.join(ROLES)}")
        values["role"] = role
    if may_see_receiver is not None:
        values["may_see_receiver"] = may_see_receiver
    if disabled is not None:
        values["disabled"] = disabled
    with uow() as u:
        row = u.users.by_name(username)
        if row is None:
            raise UserError(f"no user {username!r}")
        admins = [r for r in u.users.list() if r["role"] == "admin" and not r["disabled"]]
        if row["role"] == "admin" and len(admins) == 1 and (
                values.get("role", "admin") != "admin" or values.get("disabled")):
            raise UserError("the last admin cannot be demoted or disabled")
        u.users.update(row["id"], **values)
        u.audit.add(actor=actor, action="user.change", subject_type="user",
                    subject_id=str(row["id"]),
                    detail={k: v for k, v in values.items() if k != "password_hash"}
                    | ({"password": "changed"} if password is not None else {}))
        return _user(u.users.by_id(row["id"]))


def list_users(uow: UowFactory) -> list[dict[str, Any]]:
    with uow(readonly=True) as u:
        return [{k: v for k, v in r.items() if k not in ("password_hash", "api_token_hash")}
                | {"has_token": bool(r["api_token_hash"])} for r in u.users.list()]


def users_exist(uow: UowFactory) -> bool:
    with uow(readonly=True) as u:
        return u.users.count() > 0


__all__ = ["ROLES", "User", "UserError", "add_user", "authenticate", "change_user",
           "issue_token", "list_users", "user_by_id", "user_by_token", "users_exist"]
