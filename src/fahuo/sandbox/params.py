"""Parameter checks shared by the gateway handlers: 40002 names a missing parameter, 40003 a bad one."""
from __future__ import annotations

from typing import Any, overload

from .core import ApiError


def bad(name: str, msg: str | None = None) -> ApiError:
    return ApiError(40003, f"isv.parameter-invalid:{name}", msg or f"{name}参数非法")


def missing(name: str, msg: str | None = None) -> ApiError:
    return ApiError(40002, f"isv.parameter-missing:{name}", msg or f"缺少{name}")


@overload
def p_int(params: dict[str, Any], name: str, default: int, *, lo: int | None = None,
          hi: int | None = None, msg: str | None = None) -> int: ...
@overload
def p_int(params: dict[str, Any], name: str, default: None = None, *, lo: int | None = None,
          hi: int | None = None, msg: str | None = None) -> int | None: ...
def p_int(params: dict[str, Any], name: str, default: int | None = None, *, lo: int | None = None,
          hi: int | None = None, msg: str | None = None) -> int | None:
    v = params.get(name)
    if v is None or v == "":
        return default
    if isinstance(v, bool):
        raise ApiError(40003, f"isv.parameter-invalid:{name}", f"{name}参数类型错误")
    if isinstance(v, str):
        s = v.strip()
        if not (s.lstrip("-").isdigit() and s.isascii()):
            raise ApiError(40003, f"isv.parameter-invalid:{name}", f"{name}参数类型错误")
        v = int(s)
    elif isinstance(v, float):
        if not v.is_integer():
            raise ApiError(40003, f"isv.parameter-invalid:{name}", f"{name}参数类型错误")
        v = int(v)
    elif not isinstance(v, int):
        raise ApiError(40003, f"isv.parameter-invalid:{name}", f"{name}参数类型错误")
    if (lo is not None and v < lo) or (hi is not None and v > hi):
        raise ApiError(40003, f"isv.parameter-invalid:{name}", msg or f"{name}参数超出范围")
    return v


def p_bool(params: dict[str, Any], name: str, default: bool) -> bool:
    v = params.get(name)
    if v is None or v == "":
        return default
    if isinstance(v, bool):
        return v
    if v in (0, 1):
        return bool(v)
    if isinstance(v, str) and v.lower() in ("true", "false"):
        return v.lower() == "true"
    raise ApiError(40003, f"isv.parameter-invalid:{name}", f"{name}参数类型错误")


def str_param(d: dict[str, Any], name: str, label: str | None = None) -> str:
    v = d.get(name)
    if v is None or (isinstance(v, str) and not v.strip()):
        raise missing(label or name)
    if not isinstance(v, (str, int)) or isinstance(v, bool):
        raise bad(label or name, f"{label or name}参数类型错误")
    return str(v).strip()


def id_param(v: Any, name: str = "order_id") -> int:
    """A platform id: up to 19 ASCII digits, as a number or a string."""
    if v is None or v == "":
        raise missing(name)
    s = str(v).strip()
    if isinstance(v, bool) or not (s.isdigit() and s.isascii() and len(s) <= 19):
        raise bad(name, f"{name}非法: {s}")
    return int(s)


def obj_param(d: dict[str, Any], name: str, label: str | None = None) -> dict[str, Any]:
    v = d.get(name)
    if v is None:
        raise missing(label or name)
    if not isinstance(v, dict):
        raise bad(label or name, f"{label or name}应为对象")
    return v


def list_param(d: dict[str, Any], name: str, hi: int | None = None, label: str | None = None) -> list[Any]:
    v = d.get(name)
    if v is None or v == []:
        raise missing(label or name)
    if not isinstance(v, list):
        raise bad(label or name, f"{label or name}应为数组")
    if hi is not None and len(v) > hi:
        raise bad(label or name, f"{label or name}最多{hi}条，实际{len(v)}条")
    return v
