"""Benchmark: shipping labels as PDF and ZPL on one core (issue 4).

    .venv/bin/python bench/labels.py            # 10,000 labels, best of 3 rounds
    .venv/bin/python bench/labels.py --quick    # 10,000 labels, 1 round, under 30 s

Renders a batch of distinct labels (unique tracking numbers, receivers and items; the same
shop QR code in the custom area) as one PDF and as ZPL at 203 and 300 dpi. The ceiling,
measured in the same run, is a raw reportlab loop that draws the very same primitives:
fahuo's renderer is first run against a recording canvas (not timed), then a plain
``Canvas`` replays those calls, page by page, and saves; so the ratio is what fahuo's
template interpretation, text fitting, barcode encoding and validation cost on top of
reportlab itself. Both save with the same settings (page compression, invariant, no A85).
Exits non-zero if the PDF does not have one page per label, or sampled pages' barcodes
(rasterised at 203 dpi, when pymupdf and zxing-cpp are installed) do not decode to their
tracking numbers.
"""

from __future__ import annotations

import argparse
import io
import sys
import time
from datetime import datetime

GOALS = {"pdf_per_s": 300, "ratio": 0.6, "zpl_per_s": 5000, "pdf_10k_mb": 15.0}

PROVINCES = ("广东省 深圳市 南山区", "浙江省 杭州市 西湖区", "江苏省 苏州市 工业园区",
             "四川省 成都市 武侯区", "北京市 朝阳区", "新疆维吾尔自治区 乌鲁木齐市 天山区")
STREETS = ("科技园南区 高新南七道", "文三路", "星湖街", "天府大道北段", "建国路 88 号 SOHO",
           "人民路")
ITEMS = ("连衣裙 红色 M", "纯棉T恤 白色 L", "运动鞋 42 码", "保温杯 500ml", "手机壳 iPhone 15",
         "面膜 10 片装")
NAMES = ("李*", "王*明", "欧阳*", "张*", "陈*华", "刘*")
COURIERS = (("zhongtong", "78", 12), ("yuantong", "YT", 13), ("shunfeng", "SF", 13),
            ("jtexpress", "JT", 13))


def make_labels(n: int):
    from fahuo.adapters.labels.model import Custom, LabelData, Party
    custom = Custom(text="感谢您的购买！如有问题请联系在线客服，五星好评返现 2 元",
                    qr_text="https://example.com/shop/123456")
    sender = Party("小满家居旗舰店", "138****0000", ("浙江省杭州市余杭区", "文一西路 998 号 3 号仓"))
    out = []
    for i in range(n):
        code, prefix, digits = COURIERS[i % 4]
        track = prefix + str(10 ** (digits - 1) + i * 7919 % 10 ** (digits - 1))
        out.append(LabelData(
            track_no=track, courier_code=code, sender=sender,
            receiver=Party(NAMES[i % 6], f"1{30 + i % 60}****{i % 10000:04d}",
                           (PROVINCES[i % 6], f"{STREETS[(i // 6) % 6]} {i % 300} 号 "
                                              f"{i % 30} 栋 {i % 2000}")),
            sort_code=f"{300 + i % 600}-{'ABC'[i % 3]}{i % 90:02d} {i % 40:02d}",
            short_address=("深圳转 南山", "杭州转 西湖", "苏州转 园区", "成都转 武侯",
                           "北京转 朝阳", "乌市转 天山")[i % 6],
            package_center="华南转运中心", items_summary="; ".join(
                f"{ITEMS[(i + k) % 6]} ×{1 + k}" for k in range(1 + i % 3)),
            order_ids=(f"69{i:017d}",), pack_no=1 + i % 2, pack_count=2,
            printed_at=datetime(2024, 5, 1, 12, 30), custom=custom))
    return out


class _RecPath:
    def __init__(self) -> None:
        self.rects: list[tuple] = []

    def rect(self, *a) -> None:
        self.rects.append(a)


class _Recorder:
    """Stands in for a reportlab Canvas and records the calls fahuo's renderer makes."""

    def __init__(self) -> None:
        self.ops: list[tuple] = []

    def beginPath(self) -> _RecPath:
        return _RecPath()

    def drawPath(self, p: _RecPath, **kw) -> None:
        self.ops.append(("drawPath", (tuple(p.rects),), kw))

    def __getattr__(self, name: str):
        def call(*a, **kw):
            self.ops.append((name, a, kw))
        return call


def record_pages(labels, size: str):
    from fahuo.adapters.labels.templates import template_for
    from fahuo.adapters.labels.pdf import DEFAULT_PRINTER_DPI, _Renderer, find_font
    r = _Renderer(template_for(size), find_font(), DEFAULT_PRINTER_DPI)
    pages = []
    for i, lb in enumerate(labels):
        rec = _Recorder()
        r.page(rec, lb, i)
        pages.append(rec.ops)
    return pages, (r.W, r.H)


def raw_reportlab(pages, pagesize) -> bytes:
    from reportlab.pdfgen.canvas import Canvas

    from fahuo.adapters.labels.pdf import save_canvas
    buf = io.BytesIO()
    c = Canvas(buf, pagesize=pagesize, invariant=1, pageCompression=1)
    c.setTitle("fahuo labels")
    c.setCreator("fahuo")
    c.setProducer("fahuo")
    c.setViewerPreference("PrintScaling", "None")
    methods: dict[str, object] = {}
    for ops in pages:
        for name, args, kw in ops:
            if name == "drawPath":
                p = c.beginPath()
                rect = p.rect
                for r in args[0]:
                    rect(*r)
                c.drawPath(p, **kw)
            else:
                m = methods.get(name)
                if m is None:
                    m = methods[name] = getattr(c, name)
                m(*args, **kw)
        c.showPage()
    save_canvas(c)
    return buf.getvalue()


def verify_pdf(data: bytes, labels, what: str) -> str:
    try:
        import numpy as np
        import pymupdf
        import zxingcpp
    except ImportError:
        return "page count checked (pymupdf/zxing-cpp not installed: barcodes not decoded)"
    doc = pymupdf.open(stream=data, filetype="pdf")
    if len(doc) != len(labels):
        raise SystemExit(f"LABELS BENCHMARK FAILED: {what} has {len(doc)} pages for "
                         f"{len(labels)} labels")
    step = max(1, len(labels) // 7)
    sample = sorted({*range(0, len(labels), step), len(labels) - 1})
    for i in sample:
        pix = doc[i].get_pixmap(dpi=203, colorspace=pymupdf.csGRAY)
        img = np.frombuffer(pix.samples, dtype=np.uint8).reshape(pix.height, pix.stride)
        got = [r.text for r in zxingcpp.read_barcodes(img[:, :pix.width],
                                                      formats=zxingcpp.BarcodeFormat.Code128)]
        if not got or any(t != labels[i].track_no for t in got):
            raise SystemExit(f"LABELS BENCHMARK FAILED: {what} page {i + 1} decodes to {got}, "
                             f"expected {labels[i].track_no}")
    return f"{len(sample)} sampled pages decode to their tracking numbers at 203 dpi"


def best(fn, rounds: int):
    times, out = [], None
    for _ in range(rounds):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return min(times), out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="one round instead of three")
    ap.add_argument("--labels", type=int, default=10_000)
    ap.add_argument("--size", default="76x130")
    ap.add_argument("--rounds", type=int, help="rounds per measurement (default 3; 1 quick)")
    a = ap.parse_args(argv)
    n = a.labels
    rounds = a.rounds or (1 if a.quick else 3)

    from fahuo.adapters.labels.pdf import find_font, render_pdf
    from fahuo.adapters.labels.zpl import render_zpl
    from fahuo.bootstrap import configure_logging
    configure_logging("WARNING")

    font = find_font()  # font loading is once per process: not timed
    labels = make_labels(n)
    render_pdf(labels[:20], a.size)  # warm-up (imports, font state)
    render_zpl(labels[:20], a.size)
    print(f"font: {font.path or font.name} ({'embedded subset' if font.embedded else 'CID, not embedded'}); "
          f"{n} labels, size {a.size}, {rounds} round(s), best taken", flush=True)

    pdf_s, pdf = best(lambda: render_pdf(labels, a.size), rounds)
    pdf_rate = n / pdf_s
    print(f"pdf: {len(pdf) / 1e6:.2f} MB, {len(pdf) / n:.0f} bytes/label; "
          f"{verify_pdf(pdf, labels, 'fahuo PDF')}", flush=True)

    pages, pagesize = record_pages(labels, a.size)
    raw_s, raw = best(lambda: raw_reportlab(pages, pagesize), rounds)
    raw_rate = n / raw_s
    print(f"raw reportlab replay: {len(raw) / 1e6:.2f} MB; {verify_pdf(raw, labels, 'raw PDF')}",
          flush=True)

    z203_s, z203 = best(lambda: render_zpl(labels, a.size, 203), rounds)
    z300_s, z300 = best(lambda: render_zpl(labels, a.size, 300), rounds)
    for dpi, z in ((203, z203), (300, z300)):
        if z.count("^XA") != n or z.count("^XZ") != n:
            raise SystemExit(f"LABELS BENCHMARK FAILED: ZPL {dpi} dpi has {z.count('^XA')} "
                             f"formats for {n} labels")
    print(f"zpl: {len(z203) / n:.0f} bytes/label (203 dpi), {len(z300) / n:.0f} (300 dpi)",
          flush=True)

    ratio = pdf_rate / raw_rate
    mb_10k = len(pdf) / 1e6 * 10_000 / n
    zpl_min = min(n / z203_s, n / z300_s)
    ok = (pdf_rate >= GOALS["pdf_per_s"] and ratio >= GOALS["ratio"]
          and zpl_min >= GOALS["zpl_per_s"] and mb_10k < GOALS["pdf_10k_mb"])
    size_note = "" if n == 10_000 else " (scaled from this run)"
    print(f"labels: PDF {a.size} {n} labels in {pdf_s:.2f}s = {pdf_rate:.0f} labels/s | "
          f"raw reportlab replay {raw_rate:.0f} labels/s | ratio {ratio:.2f} | "
          f"10,000-label PDF {mb_10k:.1f} MB{size_note} | ZPL {n / z203_s:.0f} labels/s (203 dpi), "
          f"{n / z300_s:.0f} labels/s (300 dpi) | goals >= {GOALS['pdf_per_s']} PDF labels/s, "
          f"ratio >= {GOALS['ratio']}, >= {GOALS['zpl_per_s']} ZPL labels/s, PDF < "
          f"{GOALS['pdf_10k_mb']:.0f} MB: {'met' if ok else 'NOT met'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
