"""ZPL labels: parse the output into commands and check what a Zebra printer would get."""

from __future__ import annotations

import re

import pytest

from fahuo.adapters.labels.model import SIZES, Custom, LabelError, Party
from fahuo.adapters.labels.zpl import ZPL_CJK_FONT, escape_fd, render_zpl

# ZPL II commands are a caret (or tilde) plus two characters; field data runs to the next ^.
_CMD = re.compile(r"([\^~])([A-Z@][A-Z0-9@])([^\^~]*)", re.S)


def parse(zpl: str) -> list[tuple[str, str]]:
    """[(command, params)]; raises if anything is left that is not a command."""
    out = []
    pos = 0
    for m in _CMD.finditer(zpl):
        gap = zpl[pos:m.start()]
        assert not gap.strip(), f"stray text {gap!r} before {m.group(0)[:20]!r}"
        out.append((m.group(1) + m.group(2), m.group(3).rstrip("\n")))
        pos = m.end()
    assert not zpl[pos:].strip()
    return out


def blocks(cmds: list[tuple[str, str]]) -> list[list[tuple[str, str]]]:
    """Split into ^XA … ^XZ label formats, asserting they pair up and nothing is outside."""
    out, cur = [], None
    for c, p in cmds:
        if c == "^XA":
            assert cur is None, "^XA inside an open format"
            cur = []
        elif c == "^XZ":
            assert cur is not None, "^XZ without ^XA"
            out.append(cur)
            cur = None
        else:
            assert cur is not None, f"{c} outside ^XA … ^XZ"
            cur.append((c, p))
    assert cur is None, "unterminated format"
    return out


def fields(block: list[tuple[str, str]]) -> list[dict[str, str]]:
    """Group commands from ^FO to ^FS; returns {command: params} per field."""
    out, cur = [], None
    for c, p in block:
        if c == "^FO":
            assert cur is None, "^FO inside an open field"
            cur = {"^FO": p}
        elif c == "^FS":
            assert cur is not None
            out.append(cur)
            cur = None
        elif cur is not None:
            cur[c] = p
    assert cur is None
    return out


def unhex(data: str) -> str:
    """Undo ^FH_ escaping (UTF-8 hex bytes)."""
    raw = re.sub(rb"_([0-9A-Fa-f]{2})", lambda m: bytes([int(m.group(1), 16)]),
                 data.encode("utf-8"))
    return raw.decode("utf-8")


EXPECTED_DOTS = {  # (^PW, ^LL) from mm at 8 / 12 dots per mm
    ("76x130", 203): (608, 1040), ("100x150", 203): (800, 1200),
    ("100x180", 203): (800, 1440), ("4x6", 203): (813, 1219),
    ("76x130", 300): (912, 1560), ("100x150", 300): (1200, 1800),
    ("100x180", 300): (1200, 2160), ("4x6", 300): (1219, 1829),
}


@pytest.mark.parametrize("size", list(SIZES))
@pytest.mark.parametrize("dpi", [203, 300])
def test_zpl_parses_into_the_expected_commands(size, dpi, label_factory):
    labels = [label_factory("78123456789012"), label_factory("YT1234567890123", "yuantong"),
              label_factory("SF1402345678901", "shunfeng", pack_no=2)]
    zpl = render_zpl(labels, size, dpi)
    fmt = blocks(parse(zpl))
    assert len(fmt) == 3
    pw, ll = EXPECTED_DOTS[(size, dpi)]
    for lb, block in zip(labels, fmt, strict=True):
        assert block[0] == ("^CI", "28")  # UTF-8 before any field
        cmds = dict(block[:4])
        assert cmds["^PW"] == str(pw) and cmds["^LL"] == str(ll)
        fs = fields(block)
        barcodes = [f for f in fs if "^BC" in f]
        assert len(barcodes) == SIZES[size].parts
        for f in barcodes:
            assert f["^BC"].startswith("N,") and f["^BC"].endswith(",N,N,N,A")
            assert "^FH" in f and unhex(f["^FD"]) == lb.track_no
            k = int(f["^BY"].split(",")[0])
            assert 1 <= k <= 10
            x = int(f["^FO"].split(",")[0])
            assert x >= 10 * k  # room for the left quiet zone
        texts = [unhex(f["^FD"]).replace("\\&", "\n") for f in fs if "^A@" in f]
        joined = "\n".join(texts)
        for s in (lb.receiver.name, "广东省 深圳市 南山区", "深圳转 南山", "300-A12 05",
                  f"{lb.pack_no}/{lb.pack_count}"):
            assert s in joined, s
        for f in fs:
            x, y = (int(v) for v in f["^FO"].split(","))
            assert 0 <= x < pw and 0 <= y < ll, f
            if "^A@" in f:
                assert f["^A@"].split(",")[-1] == ZPL_CJK_FONT
                h = int(f["^A@"].split(",")[1])
                width, nlines = (int(v) for v in f["^FB"].split(",")[:2])
                assert x + width <= pw
                assert y + h * nlines <= ll
            if "^GB" in f:
                w, h = (int(v) for v in f["^GB"].split(",")[:2])
                assert x + w <= pw and y + h <= ll
        qr = [f for f in fs if "^BQ" in f]
        assert len(qr) == 1 and unhex(qr[0]["^FD"]) == "MA,https://example.com/s/123"


def test_field_data_is_escaped_with_fh(label_factory):
    nasty = "杯子^XZ~JA_下划线\\反斜杠"
    lb = label_factory(items_summary=nasty, custom=Custom(text="a^b~c"), track_no="AB^~_123")
    zpl = render_zpl([lb], "76x130")
    assert zpl.count("^XA") == 1 and zpl.count("^XZ") == 1  # the data did not end the label
    assert "~JA" not in zpl
    fs = fields(blocks(parse(zpl))[0])
    items = next(f for f in fs if "下划线" in unhex(f.get("^FD", "")))
    assert "^FH" in items
    assert unhex(items["^FD"]) == nasty.replace("\\", "\\\\")  # ^FB reads \\ as one backslash
    bc = next(f for f in fs if "^BC" in f)
    assert bc["^FD"] == "AB_5E_7E_5F123" and unhex(bc["^FD"]) == "AB^~_123"
    assert escape_fd("^~_") == "_5E_7E_5F"


def test_long_receiver_wraps_into_an_fb_block(label_factory):
    addr = "新疆维吾尔自治区 伊犁哈萨克自治州 霍尔果斯市 经济开发区 卡拉苏河路 国际物流园区 第三仓储中心"
    lb = label_factory(receiver=Party("李晓明", "139****1234", (addr,)))
    fs = fields(blocks(parse(render_zpl([lb], "76x130")))[0])
    f = next(f for f in fs if "新疆" in f.get("^FD", ""))
    nlines = int(f["^FB"].split(",")[1])
    assert nlines >= 2 and unhex(f["^FD"]).count("\\&") == nlines - 1
    assert unhex(f["^FD"]).replace("\\&", "").replace(" ", "") == addr.replace(" ", "")


def test_zpl_bad_inputs(label_factory):
    with pytest.raises(LabelError, match="ZPL dpi must be 203 or 300"):
        render_zpl([label_factory()], "76x130", dpi=600)
    with pytest.raises(LabelError, match="unknown label size"):
        render_zpl([label_factory()], "A6")
    with pytest.raises(LabelError, match="Code 128 cannot carry"):
        render_zpl([label_factory("顺丰123456")], "76x130")
    with pytest.raises(LabelError, match="receiver_address is too long"):
        render_zpl([label_factory(receiver=Party("李", "1", ("很长" * 200,)))], "76x130")
    with pytest.raises(LabelError, match="font name"):
        render_zpl([label_factory()], "76x130", font="E:BAD^FONT")


def test_zpl_logo_becomes_a_gf_graphic(tmp_path, label_factory):
    from PIL import Image
    logo = tmp_path / "logo.png"
    img = Image.new("RGB", (100, 50), "white")
    img.paste((0, 0, 0), (0, 0, 50, 50))
    img.save(logo)
    lb = label_factory(custom=Custom(logo_path=str(logo)))
    fs = fields(blocks(parse(render_zpl([lb], "76x130")))[0])
    gf = next(f for f in fs if "^GF" in f)
    kind, total, _, row_bytes, data = gf["^GF"].split(",")
    assert kind == "A" and int(total) == len(data) // 2 and int(total) % int(row_bytes) == 0
    first = bytes.fromhex(data[:2 * int(row_bytes)])
    assert first[0] == 0xFF and first[-1] == 0  # black left half, white right half
