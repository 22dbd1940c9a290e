"""Hostile uploads are refused or read quickly, in bounded memory; bad values are row errors."""

import time

import pytest

from support import crafted_xlsx

from fahuo.adapters.files import SpreadsheetReader
from fahuo.services import manual_ship
from fahuo.services.manual_ship import ImportFileError, table_rows
from fahuo.services.ports import Table
from fahuo.services.stock import files as stock_files
from fahuo.services.stock.files import stock_lines
from fahuo.services.stock.lines import StockInputError
from fahuo.services.uploads import UploadLimits, UploadRefused

# The services read through the file port; here with the real spreadsheet reader.
FILES = SpreadsheetReader()


def read_rows(name, data, limits=None):
    return table_rows(manual_ship.read_rows(name, data, limits, files=FILES))


def parse_stock_file(name, data, limits=None):
    return stock_files.parse_stock_file(name, data, limits, files=FILES)


HEADER = ["订单号", "快递公司", "快递单号"]
ROW = ["6900000000000000001", "中通", "781111111111111"]


def test_a_tiny_xlsx_declaring_a_huge_sheet_is_read_quickly():
    data = crafted_xlsx([HEADER, ROW])
    assert len(data) < 6000
    started = time.monotonic()
    rows, lines = read_rows("单号.xlsx", data)
    took = time.monotonic() - started
    # The real rows come back; the cell on the last line is one more (invalid) row there.
    assert rows[0] == dict(zip(HEADER, ROW)) and lines == [2, 1_048_576]
    assert took < 10, took  # before: padded 16384 wide × 1M rows, never finished


def test_the_same_xlsx_as_a_stock_file_is_read_quickly_and_names_the_bad_row():
    data = crafted_xlsx([["商家编码", "数量"], ["CUP-A", 3]])
    started = time.monotonic()
    with pytest.raises(StockInputError) as ei:
        parse_stock_file("盘点.xlsx", data)
    assert time.monotonic() - started < 10
    # column A of the far row is the SKU column: code "x", no quantity
    assert ei.value.problems == ["第1048576行 x：数量为空"]
    assert [(x.sku_code, x.quantity) for x in
            parse_stock_file("盘点.xlsx", crafted_xlsx([["商家编码", "数量"], ["CUP-A", 3]],
                                                     far_row=False))] == [("CUP-A", 3)]


def test_reading_has_a_time_budget():
    data = crafted_xlsx([HEADER, ROW])  # about a second of gap rows to walk
    with pytest.raises(ImportFileError, match=r"0\.001 秒.*FAHUO_IMPORT_TIME_BUDGET_S"):
        read_rows("单号.xlsx", data, UploadLimits(time_budget_s=0.001))


def test_a_file_over_the_size_limit_is_refused_naming_the_limit():
    big = ("订单号,快递公司,快递单号\n" + "6900000000000000001,中通,781111111111111\n" * 1400
           ).encode()
    assert len(big) > 50 * 1024
    with pytest.raises(ImportFileError, match=r"超过上限 50 KB（FAHUO_IMPORT_MAX_BYTES）"):
        read_rows("单号.csv", big, UploadLimits(max_bytes=50 * 1024))
    with pytest.raises(StockInputError, match=r"超过上限 50 KB"):
        parse_stock_file("盘点.csv", big, UploadLimits(max_bytes=50 * 1024))


def test_rows_over_the_limit_refuse_the_whole_file():
    csv = ("商家编码,数量\n" + "".join(f"SKU-{i},1\n" for i in range(101))).encode()
    with pytest.raises(StockInputError, match=r"超过 100 行的上限（FAHUO_IMPORT_MAX_ROWS）"):
        parse_stock_file("盘点.csv", csv, UploadLimits(max_rows=100))
    assert len(parse_stock_file("盘点.csv", csv, UploadLimits(max_rows=101))) == 101
    blank_lines = ("商家编码,数量\n" + ",\n" * 500 + "A,1\n").encode()  # blank rows are free
    assert [x.quantity for x in parse_stock_file("盘点.csv", blank_lines,
                                                 UploadLimits(max_rows=1))] == [1]


@pytest.mark.parametrize("qty, why", [
    ("12345678901234567890", "超出范围：一行最多 ±10000000 件"),
    ("1e30", "是科学计数法（Excel 常把数字显示成这样）：请写成整数"),
    ("inf", "不是整数"), ("nan", "不是整数"), ("-inf", "不是整数"),
    ("10000001", "超出范围：一行最多 ±10000000 件"), ("0x10", "不是整数"),
    ("1.5", "有小数：库存按件计，只能是整数")])
def test_a_quantity_that_is_not_a_sane_whole_number_is_a_row_error(qty, why):
    data = f"商家编码,数量\nCUP-A,5\nCUP-B,{qty}\n".encode()
    with pytest.raises(StockInputError) as ei:
        parse_stock_file("盘点.csv", data)
    assert ei.value.problems == [f"第3行 CUP-B：数量“{qty}”{why}"]


def test_whole_numbers_as_excel_writes_them_are_read():
    data = "商家编码,数量\nA,10000000\nB,-3\nC,7.0\n".encode()
    assert [x.quantity for x in parse_stock_file("x.csv", data)] == [10_000_000, -3, 7]


def test_line_numbers_count_blank_rows_as_the_merchant_sees_them():
    data = "订单号,快递公司,快递单号\n\n,,\n6900000000000000001,中通,781111111111111\n".encode()
    assert read_rows("单号.csv", data)[1] == [4]


def test_a_broken_xlsx_is_refused_in_chinese():
    with pytest.raises(ImportFileError, match="不是有效的 .xlsx 文件"):
        read_rows("单号.xlsx", b"PK\x03\x04 not really")


class Refusing:
    """A file port that refuses every file, as a too-big upload is refused."""

    def read_table(self, name, data, limits):
        raise UploadRefused(f"{name}：拒绝")


def test_a_file_the_port_refuses_is_each_services_own_error():
    with pytest.raises(ImportFileError, match="单号.csv：拒绝"):
        manual_ship.read_rows("单号.csv", b"", files=Refusing())
    with pytest.raises(StockInputError, match="盘点.csv：拒绝"):
        stock_files.parse_stock_file("盘点.csv", b"", files=Refusing())


def test_the_services_take_rows_already_read():
    table = Table("盘点.xlsx", ["商家编码", "数量", None], [(2, ["CUP-A", 3.0, None]),
                                                       (5, ["CUP-B", "x", None])])
    lines, problems = stock_lines(table)
    assert [(x.sku_code, x.quantity, x.row) for x in lines] == [("CUP-A", 3, 2)]
    assert problems == [(5, "第5行 CUP-B：数量“x”不是整数")]
    rows, line_nos = table_rows(Table("单号.csv", [" 订单号 ", "快递单号"],
                                      [(7, [6.9e18, "78 "])]))
    assert rows == [{"订单号": "6900000000000000000", "快递单号": "78"}] and line_nos == [7]


def test_the_reader_gives_the_files_digest():
    data = "商家编码,数量\nA,1\n".encode()
    import hashlib
    t = FILES.read_table("x.csv", data, UploadLimits())
    assert t.digest == hashlib.sha256(data).hexdigest()
    assert (t.header, t.rows) == (["商家编码", "数量"], [(2, ["A", "1"])])
