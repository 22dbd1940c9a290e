"""Console users: who may sign in, who manages users, who may see buyers' plain receivers.

Passwords are argon2id hashes (argon2-cffi). API tokens are random and stored only as a
SHA-256 digest: shown once, never again. An install without users is open (first run, a
single person on a laptop); the first user turns sign-in on for the console and the API.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import structlog
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from fahuo.domain.names import USER_ROLE
from fahuo.services.ports import UowFactory

log = structlog.get_logger(__name__)
ROLES = ("admin", "operator")
ROLE_NAMES = USER_ROLE
_ROLE_CHOICES = "角色应为 " + " 或 ".join(f"{ROLE_NAMES[r]} ({r})" for r in ROLES)
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


def _must(row: dict[str, Any] | None) -> dict[str, Any]:
    if row is None:  # read back in the same unit of work that wrote it
        raise LookupError("user row vanished")
    return row


def _user(row: dict[str, Any]) -> User:
    return User(row["id"], row["username"], row["role"], bool(row["may_see_receiver"]))


def _check_password(password: str) -> None:
    if len(password) < 8:
        raise UserError("密码至少 8 个字符")


def add_user(uow: UowFactory, username: str, password: str, *, role: str = "operator",
             may_see_receiver: bool = False, actor: str) -> User:
    problems = []
    if not _NAME.match(username or ""):
        problems.append("用户名：2–64 个字母、数字、汉字或 . - _ @")
    if role not in ROLES:
        problems.append(_ROLE_CHOICES)
    try:
        _check_password(password)
    except UserError as exc:
        problems.append(str(exc))
    if problems:
        raise UserError("；".join(problems))
    password_hash = _hasher.hash(password)  # before the transaction: argon2 is slow on purpose
    with uow() as u:
        if u.users.by_name(username):
            raise UserError(f"用户 {username!r} 已存在")
        first = u.users.count() == 0
        uid = u.users.add({"username": username, "password_hash": password_hash,
                           # the first user manages the rest, whatever was asked
                           "role": "admin" if first else role,
                           "may_see_receiver": may_see_receiver, "disabled": False,
                           "created_at": int(time.time())})
        u.audit.add(actor=actor, action="user.add", subject_type="user", subject_id=str(uid),
                    detail={"username": username, "role": "admin" if first else role,
                            "may_see_receiver": may_see_receiver})
        return _user(_must(u.users.by_id(uid)))


@dataclass(frozen=True)
class SignIn:
    """What a sign-in attempt came to: a user, or None and, when throttled, how long to wait."""
    user: User | None
    retry_after: float = 0.0


# Throttling: a few failures are free, then each further try waits twice as long as the one
# before (capped). Per account and per address; stored in the database so every process agrees.
FREE_PER_ACCOUNT, FREE_PER_IP = 5, 20
_CHECKING = threading.BoundedSemaphore(2)
WINDOW_S, MAX_WAIT_S = 3600.0, 900.0


def _wait(failures: list[float], free: int, now: float) -> float:
    if len(failures) < free:
        return 0.0
    delay = min(2.0 ** (len(failures) - free), MAX_WAIT_S)
    return max(0.0, failures[-1] + delay - now)


def authenticate(uow: UowFactory, username: str, password: str, *, ip: str = "",
                 clock: Callable[[], float] = time.time) -> User | None:
    return sign_in(uow, username, password, ip=ip, clock=clock).user


def sign_in(uow: UowFactory, username: str, password: str, *, ip: str = "",
            clock: Callable[[], float] = time.time) -> SignIn:
    """Checks a password with no transaction open while argon2 works (~0.1–0.6 s).

    The attempt is written down as failed *before* the hash is checked (and turned into a
    success after), so tries running at the same time in any process count against each
    other at once instead of all slipping through the free allowance together."""
    username, ip = (username or "")[:64], (ip or "")[:64]
    now = clock()

    def wait(u: Any) -> float:
        return max(_wait(u.users.failures_since("username", username, now - WINDOW_S),
                         FREE_PER_ACCOUNT, now),
                   _wait(u.users.failures_since("ip", ip, now - WINDOW_S), FREE_PER_IP, now)
                   if ip else 0.0)

    with uow(readonly=True) as u:  # the common refusal during a flood takes no write lock
        throttled = wait(u)
    if not throttled:
        with uow() as u:  # again under the write lock, and claim the try
            throttled = wait(u)
            row = u.users.by_name(username)
            attempt = None if throttled else u.users.add_attempt(at=now, username=username,
                                                                 ip=ip, ok=False)
    if throttled > 0:
        log.warning("login_throttled", username=username, ip=ip,
                    retry_after=round(throttled, 1))
        return SignIn(None, throttled)
    # At most two argon2 checks at a time per process: a flood of tries for many names
    # must not take every core from the rest of the server.
    if not _CHECKING.acquire(timeout=5):
        log.warning("login_busy", username=username, ip=ip)
        return SignIn(None, 1.0)  # the claimed try stays a failure
    try:
        _hasher.verify(row["password_hash"] if row else _DUMMY, password)
        ok = row is not None and not row["disabled"]
    except (VerificationError, InvalidHashError):
        ok = False
    finally:
        _CHECKING.release()
    rehash = (_hasher.hash(password)
              if ok and row and _hasher.check_needs_rehash(row["password_hash"]) else None)
    with uow() as u:
        if not ok:
            u.audit.add(actor=username or "?", action="user.login_failed", subject_type="user",
                        subject_id=str(row["id"]) if row else "", detail={
                            "ip": ip, "reason": "disabled" if row and row["disabled"]
                            else "no such user" if row is None else "wrong password"})
            return SignIn(None)
        assert row is not None and attempt is not None  # ok: the user exists, not throttled
        u.users.attempt_succeeded(attempt)
        values: dict[str, Any] = {"last_login_at": int(now)}
        if rehash:
            values["password_hash"] = rehash
        u.users.update(row["id"], **values)
        u.users.forget_attempts_before(now - 2 * WINDOW_S)  # no longer evidence of anything
        return SignIn(_user(row))


# ---- sessions ----------------------------------------------------------------------------
SESSION_S = 12 * 3600


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def start_session(uow: UowFactory, user: User, *, now: int | None = None) -> str:
    """A new session id for the cookie (the database keeps only its digest)."""
    sid = secrets.token_urlsafe(32)
    at = int(time.time()) if now is None else now
    with uow() as u:
        u.users.delete_expired_sessions(at)
        u.users.add_session(_digest(sid), user.id, at, at + SESSION_S)
    return sid


def user_by_session(uow: UowFactory, sid: str, *, now: int | None = None) -> User | None:
    if not sid or len(sid) > 128:
        return None
    with uow(readonly=True) as u:
        row = u.users.session_user(_digest(sid), int(time.time()) if now is None else now)
    return None if row is None or row["disabled"] else _user(row)


def end_session(uow: UowFactory, sid: str) -> None:
    with uow() as u:
        u.users.delete_session(_digest(sid))


def sign_out_everywhere(uow: UowFactory, username: str, *, actor: str) -> int:
    """Ends every console session of this user; returns how many there were."""
    with uow() as u:
        row = u.users.by_name(username)
        if row is None:
            raise UserError(f"没有用户 {username!r}")
        n = u.users.delete_sessions_of(row["id"])
        u.audit.add(actor=actor, action="user.sign_out_everywhere", subject_type="user",
                    subject_id=str(row["id"]), detail={"sessions": n})
    return n


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
            raise UserError(f"没有用户 {username!r}")
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
            raise UserError(_ROLE_CHOICES)
        values["role"] = role
    if may_see_receiver is not None:
        values["may_see_receiver"] = may_see_receiver
    if disabled is not None:
        values["disabled"] = disabled
    with uow() as u:
        row = u.users.by_name(username)
        if row is None:
            raise UserError(f"没有用户 {username!r}")
        admins = [r for r in u.users.list() if r["role"] == "admin" and not r["disabled"]]
        if row["role"] == "admin" and len(admins) == 1 and (
                values.get("role", "admin") != "admin" or values.get("disabled")):
            raise UserError("最后一个管理员不能降级或停用")
        u.users.update(row["id"], **values)
        if password is not None or disabled:  # a changed password ends every old session
            u.users.delete_sessions_of(row["id"])
        u.audit.add(actor=actor, action="user.change", subject_type="user",
                    subject_id=str(row["id"]),
                    detail={k: v for k, v in values.items() if k != "password_hash"}
                    | ({"password": "changed"} if password is not None else {}))
        return _user(_must(u.users.by_id(row["id"])))


def list_users(uow: UowFactory) -> list[dict[str, Any]]:
    with uow(readonly=True) as u:
        sessions = u.users.session_counts()
        return [{k: v for k, v in r.items() if k not in ("password_hash", "api_token_hash")}
                | {"has_token": bool(r["api_token_hash"]), "sessions": sessions.get(r["id"], 0)}
                for r in u.users.list()]


def users_exist(uow: UowFactory) -> bool:
    with uow(readonly=True) as u:
        return u.users.count() > 0


__all__ = ["ROLES", "SESSION_S", "SignIn", "User", "UserError", "add_user", "authenticate",
           "change_user", "end_session", "issue_token", "list_users", "sign_in",
           "sign_out_everywhere", "start_session", "user_by_id", "user_by_session",
           "user_by_token", "users_exist"]
