"""What every web handler may ask for: the wired app, the signed-in person, who acts, roles.

``SignInRequired`` (``middleware.py``) has already put the person on the request; these read
it. A handler takes them as parameters (``fh: FahuoDep``, ``actor: Actor``), so none of them
reads the request state or the container by hand.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

import structlog
from fastapi import Depends, Request
from fastapi.responses import JSONResponse

from fahuo.bootstrap import Fahuo
from fahuo.services.ports import UowFactory
from fahuo.services.users import User

log = structlog.get_logger(__name__)

MAX_ID = 2**31 - 1  # ids in paths and queries: within the database's integer


# The getters are async: they only read what is already there, so they need no thread.
async def get_fahuo(request: Request) -> Fahuo:
    """The wired app this web app was built with (``create_app``), or the process's own."""
    container: Callable[[], Fahuo] = request.app.state.container
    return container()


async def get_uow(request: Request) -> UowFactory:
    return (await get_fahuo(request)).uow


async def signed_in(request: Request) -> User | None:
    """Who is signed in (session cookie or Bearer token); None when the install has no users."""
    return getattr(request.state, "user", None)


async def current_actor(request: Request) -> str:
    """The name the audit log records for this request's actions: the signed-in person.

    An install without users has nobody signed in; its actions are recorded as coming from
    "api" or "console", the way in, as before sign-in existed.
    """
    user = await signed_in(request)
    if user is not None:
        return user.username
    return "api" if request.url.path.startswith("/api/") else "console"


FahuoDep = Annotated[Fahuo, Depends(get_fahuo)]
UowDep = Annotated[UowFactory, Depends(get_uow)]
SignedIn = Annotated[User | None, Depends(signed_in)]
Actor = Annotated[str, Depends(current_actor)]


# ---- roles --------------------------------------------------------------------------------

def is_admin(user: User | None) -> bool:
    # Nobody signed in past SignInRequired means the install has no users: all open.
    return user is None or user.is_admin


def may_see_receiver(user: User | None) -> bool:
    """Plain receivers only for a signed-in person allowed to see them (never anonymously)."""
    return bool(user and user.may_see_receiver)


def admins_only(user: User | None, message: str) -> JSONResponse | None:
    """The 403 for someone who is not a signed-in admin, or None to go on."""
    if user is None or not user.is_admin:
        return JSONResponse({"message": message}, 403)
    return None


# ---- the worker ---------------------------------------------------------------------------

def enqueue(task_name: str, *args: Any) -> bool:
    """Hand work to the worker; a dead queue must never lose an accepted push."""
    try:
        from fahuo.entrypoints import worker
        getattr(worker, task_name)(*args)
        return True
    except Exception as exc:  # noqa: BLE001 - the periodic poll retries pending messages
        log.warning("enqueue_failed", task=task_name, error=str(exc))
        return False
