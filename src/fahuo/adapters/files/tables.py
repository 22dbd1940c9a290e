"""Reading a merchant's spreadsheet upload (.xlsx / .csv) within limits (``ports.TableReader``).

An upload is untrusted: a few KB of xlsx may declare a sheet of 16384 × 1048576 cells or hold
a row far down the sheet, a CSV may be hundreds of MB. So the size is checked before reading,
the xlsx is streamed in openpyxl's read-only mode with its declared dimension ignored and at
most ``max_columns`` columns per row, a CSV is streamed, reading stops at the row limit, and
the whole read has a time budget. Callers run this off the web server's event loop.
"""

from __future__ import annotations

import csv
import hashlib
import io
import time
import zipfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from fahuo.services.ports import Table
from fahuo.services.uploads import UploadLimits, UploadRefused, check_size, size_text


class SpreadsheetReader:
    """The file port: .xlsx and .csv (UTF-8, UTF-8 with BOM, or GBK)."""

    def read_table(self, name: str, data: bytes, limits: UploadLimits) -> Table:
        header, rows = read_table(name, data, limits)
        return Table(name=name, header=header, rows=rows,
                     digest=hashlib.sha256(data).hexdigest())


def _too_many_rows(name: str, limits: UploadLimits) -> UploadRefused:
    return UploadRefused(f"{name}：数据超过 {limits.max_rows} 行的上限"
                         "（FAHUO_IMPORT_MAX_ROWS），请拆分成几个小文件分别导入")


class _Clock:
    def __init__(self, name: str, limits: UploadLimits) -> None:
        self.name, self.limits = name, limits
        self.deadline = time.monotonic() + limits.time_budget_s

    def check(self) -> None:
        if time.monotonic() > self.deadline:
            raise UploadRefused(f"{self.name}：文件读取超过 {self.limits.time_budget_s:g} 秒的"
                                "时限（FAHUO_IMPORT_TIME_BUDGET_S），请检查文件或拆分后导入")


def _blank(values: Sequence[Any]) -> bool:
    if values.count(None) == len(values):  # the common case at C speed (gap rows)
        return True
    return all(v is None or (isinstance(v, str) and not v.strip()) for v in values)


def read_table(name: str, data: bytes, limits: UploadLimits
               ) -> tuple[list[Any], list[tuple[int, list[Any]]]]:
    """(header cells, [(line number as Excel shows it, cells)]) of the first sheet; blank
    rows are left out. Raises UploadRefused."""
    check_size(name, len(data), limits)
    clock = _Clock(name, limits)
    suffix = Path(name).suffix.lower()
    if suffix == ".xlsx":
        rows = _xlsx_rows(name, data, limits)
    elif suffix == ".csv":
        rows = _csv_rows(name, data)
    else:
        raise UploadRefused(f"{name}：只能导入 .xlsx 或 .csv 文件")
    header: list[Any] | None = None
    out: list[tuple[int, list[Any]]] = []
    for line_no, values in rows:
        if line_no % 1000 == 0:
            clock.check()
        if _blank(values):
            continue
        if header is None:
            header = list(values[:limits.max_columns])
            continue
        if len(out) >= limits.max_rows:
            raise _too_many_rows(name, limits)
        out.append((line_no, list(values[:limits.max_columns])))
    clock.check()
    if header is None:
        raise UploadRefused(f"{name}：文件是空的（没有表头行）")
    return header, out


def _xlsx_rows(name: str, data: bytes, limits: UploadLimits) -> Iterator[tuple[int, Sequence]]:
    from openpyxl import load_workbook
    try:
        unpacked = sum(i.file_size for i in zipfile.ZipFile(io.BytesIO(data)).infolist())
    except (zipfile.BadZipFile, ValueError) as exc:
        raise UploadRefused(f"{name}：不是有效的 .xlsx 文件（{exc}）") from exc
    if unpacked > limits.max_bytes * limits.unzip_ratio:
        raise UploadRefused(f"{name}：解压后 {size_text(unpacked)}，超过上限 "
                            f"{size_text(limits.max_bytes * limits.unzip_ratio)}"
                            "（FAHUO_IMPORT_MAX_BYTES 的 10 倍）")
    try:
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        ws = wb.worksheets[0]
    except Exception as exc:
        raise UploadRefused(f"{name}：不是有效的 .xlsx 文件（{exc}）") from exc
    # The declared <dimension> is the file's claim, not its content: without this every
    # row is padded to the claimed width and every missing row up to the claimed height
    # is produced. Rows and columns are bounded here instead.
    ws.reset_dimensions()
    rows = ws.iter_rows(min_row=1, max_row=1_048_576, max_col=limits.max_columns,
                        values_only=True)
    try:
        yield from enumerate(rows, start=1)
    except UploadRefused:
        raise
    except Exception as exc:
        raise UploadRefused(f"{name}：不是有效的 .xlsx 文件（{exc}）") from exc
    finally:
        wb.close()


def _csv_rows(name: str, data: bytes) -> Iterator[tuple[int, Sequence]]:
    for enc in ("utf-8-sig", "gb18030"):
        try:
            data.decode(enc)  # bounded by the size limit; finds the encoding before reading
            break
        except UnicodeDecodeError:
            continue
    else:
        raise UploadRefused(f"{name}：不是 UTF-8 或 GBK 编码的文本，请另存为“CSV UTF-8”"
                            "或上传 .xlsx")
    text = io.TextIOWrapper(io.BytesIO(data), encoding=enc, newline="")
    try:  # records, numbered as Excel numbers its rows
        yield from enumerate(csv.reader(text), start=1)
    except csv.Error as exc:
        raise UploadRefused(f"{name}：CSV 格式有误（{exc}）") from exc


