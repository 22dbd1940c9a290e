"""A merchant's spreadsheet upload: the limits it is read within, the refusal of a file as a
whole (in Chinese), and the size checks made before anything is read. The reading itself is
``adapters/files`` (behind ``ports.TableReader``)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

T = TypeVar("T")
# Ids per IN (...) list: far below SQLite's historic 999 variables and PostgreSQL's 65535.
CHUNK = 500


class UploadRefused(ValueError):
    """The file as a whole is refused (too big, too long, too slow, unreadable); Chinese."""


@dataclass(frozen=True)
class UploadLimits:
    max_bytes: int = 5 << 20
    max_rows: int = 20_000
    time_budget_s: float = 30.0
    max_columns: int = 64
    # An xlsx is a zip: its unpacked parts may be this many times the upload limit.
    unzip_ratio: int = 10

    @classmethod
    def from_settings(cls, settings: Any) -> "UploadLimits":
        return cls(max_bytes=settings.import_max_bytes, max_rows=settings.import_max_rows,
                   time_budget_s=settings.import_time_budget_s)


def size_text(n: int) -> str:
    return f"{n / (1 << 20):.1f} MB" if n >= 1 << 20 else f"{max(1, n // 1024)} KB"


def check_size(name: str, size: int | None, limits: UploadLimits) -> None:
    if size is not None and size > limits.max_bytes:
        raise UploadRefused(f"{name}：文件大小 {size_text(size)} 超过上限 "
                            f"{size_text(limits.max_bytes)}（FAHUO_IMPORT_MAX_BYTES），"
                            "请拆分成几个小文件分别导入")


def chunks(items: Sequence[T], size: int = CHUNK) -> Iterator[Sequence[T]]:
    """``items`` in slices small enough for one IN (...) list or one multi-row statement."""
    for k in range(0, len(items), size):
        yield items[k:k + size]


async def read_upload(upload: Any, name: str, limits: UploadLimits) -> bytes:
    """The bytes of a web upload (starlette UploadFile), never more than the limit."""
    check_size(name, getattr(upload, "size", None), limits)
    data: bytes = await upload.read(limits.max_bytes + 1)
    check_size(name, len(data), limits)
    return data


def check_declared_body(name: str, content_length: str | None, limits: UploadLimits) -> None:
    """Refuse a form post whose declared body cannot hold an allowed file, before parsing."""
    if content_length and content_length.isdigit():
        # the multipart wrapping and the other fields take a little room of their own
        if int(content_length) > limits.max_bytes + 65536:
            check_size(name, int(content_length), limits)
