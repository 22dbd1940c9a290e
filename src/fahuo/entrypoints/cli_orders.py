"""`fahuo orders …` (list, hold, release, holds), `fahuo pipeline run`, `fahuo ship` and
`fahuo scan`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Optional

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from fahuo.bootstrap import get_app
from fahuo.domain.clock import shop_time
from fahuo.domain.names import HOLD_REASON, JOB_ITEM_STATUS, ORDER_STATE, courier_name, name
from fahuo.entrypoints.cli_common import _fail, err, out, who

orders_cli = typer.Typer(help="Orders in the store.", no_args_is_help=True)
pipeline_cli = typer.Typer(help="The auto-ship pipeline.", no_args_is_help=True)


_TEXT = typer.Option(None)


@orders_cli.command("list")
def orders_list(
        q: Optional[str] = typer.Option(None, "--search", "-q", help="订单号、子订单号、运单号、"
                                        "手机尾号、收件人（打码）、商家编码、商品、留言"),
        shop: Optional[str] = _TEXT, state: Optional[str] = _TEXT,
        hold: Optional[str] = typer.Option(None, help="挂起原因代码，如 manual"),
        courier: Optional[str] = typer.Option(None, help="快递公司，如 中通 或 zhongtong"),
        printed: Optional[str] = typer.Option(None, help="yes | no"),
        confirmed: Optional[str] = typer.Option(None, help="yes | no（已回传发货）"),
        due: Optional[str] = typer.Option(None, help="overdue | 6h | 24h | later"),
        paid_from: Optional[str] = typer.Option(None, help="付款时间起，北京时间 2024-06-18T09:00"),
        paid_to: Optional[str] = typer.Option(None, help="付款时间止"),
        amount_min: Optional[str] = typer.Option(None, help="实付金额下限（元）"),
        amount_max: Optional[str] = typer.Option(None, help="实付金额上限（元）"),
        province: Optional[str] = _TEXT,
        aftersale: Optional[str] = typer.Option(None, help="open | any | none"),
        presale: Optional[str] = typer.Option(None, help="yes | no"),
        sort: str = typer.Option("deadline", help="deadline | paid | amount"),
        after: Optional[str] = typer.Option(None, help="下一页：上一页末尾给出的位置"),
        before: Optional[str] = typer.Option(None, help="上一页：本页开头给出的位置"),
        limit: str = typer.Option("20", help="每页条数 1–500"),
        as_json: bool = typer.Option(False, "--json")) -> None:
    """Orders: the console's search and filters, a page at a time (deadline first)."""
    from fahuo.domain.order_filter import FilterError, parse_cursor, parse_filter, parse_limit
    from fahuo.services.workbench import list_page
    raw = dict(q=q, shop=shop, state=state, hold=hold, courier=courier, printed=printed,
               confirmed=confirmed, due=due, paid_from=paid_from, paid_to=paid_to,
               amount_min=amount_min, amount_max=amount_max, province=province,
               aftersale=aftersale, presale=presale, sort=sort)
    try:
        f = parse_filter(raw)
        cur_after, cur_before = parse_cursor("after", after), parse_cursor("before", before)
        n = parse_limit(limit)
    except FilterError as exc:
        _fail(str(exc))
    app = get_app()
    app.migrate()
    page = list_page(app.uow, f, after=cur_after, before=cur_before, limit=n)
    if as_json:
        print(json.dumps({"total": page.total, "next": str(page.next) if page.next else None,
                          "prev": str(page.prev) if page.prev else None,
                          "items": [{**r.order, "products": r.products,
                                     "print_state": r.print_state, "countdown": r.countdown,
                                     "parcels": r.parcels, "holds": r.holds}
                                    for r in page.rows]}, ensure_ascii=False, default=str))
        return
    t = Table("订单", "状态", "商品", "快递 / 运单号", "打印", "发货期限", "剩余", "金额", "收件人",
              "地区", "挂起")
    for r in page.rows:
        o = r.order
        t.add_row(o["order_id"], name(ORDER_STATE, o["state"]), r.products,
                  " ".join(f"{courier_name(p['courier_code'])} {p['track_no'] or ''}".strip()
                           for p in r.parcels) or "—", r.print_state,
                  shop_time(o["exp_ship_time"], "%m-%d %H:%M"), r.countdown,
                  f"¥{o['pay_amount'] / 100:.2f}",
                  f"{o['receiver_name_mask']} {o['receiver_phone_mask']}",
                  f"{o['province']}{o['city']}",
                  "、".join(name(HOLD_REASON, h["reason"]) for h in r.holds))
    out.print(t)
    out.print(f"共 {page.total} 个订单")
    if page.next:
        out.print(f"下一页：--after {page.next}")
    if page.prev:
        out.print(f"上一页：--before {page.prev}")


# the pipeline's steps (services/shipping/report.py)
STEPS = {"audit": "审核", "plan": "分包选快递", "waybills": "取号", "confirm": "回传发货",
         "recycle": "回收单号"}


def _order_ids(values: list[str]) -> list[str]:
    ids = [x.strip() for v in values for x in v.split(",") if x.strip()]
    bad = [x for x in ids if not x.isdigit()]
    if bad:
        _fail(f"不是抖店订单号：{'、'.join(bad)}")
    if not ids:
        _fail("请至少给出一个订单号")
    return ids


@orders_cli.command("hold")
def orders_hold(order_ids: list[str] = typer.Argument(..., help="order ids (space or comma)"),
                note: str = typer.Option(..., help="why (shown to whoever releases it)")) -> None:
    """Hold orders: the pipeline leaves them alone until released."""
    from fahuo.services.holds import hold_orders
    app = get_app()
    app.migrate()
    try:
        res = hold_orders(app.uow, _order_ids(order_ids), note, actor=who())
    except ValueError as exc:
        _fail(str(exc))
    out.print(f"已挂起 {len(res.changed)} 个订单")
    for oid, why in res.refused.items():
        err.print(f"[yellow]{oid}[/yellow]: {why}")
    if res.refused:
        raise typer.Exit(1)


@orders_cli.command("release")
def orders_release(order_ids: list[str] = typer.Argument(...),
                   note: str = typer.Option("", help="optional note for the log")) -> None:
    """Release held orders back into the pipeline."""
    from fahuo.services.holds import release_orders
    app = get_app()
    app.migrate()
    res = release_orders(app.uow, _order_ids(order_ids), actor=who(), note=note)
    out.print(f"已放行 {len(res.changed)} 个订单")
    for oid, why in res.refused.items():
        err.print(f"[yellow]{oid}[/yellow]: {why}")
    if res.refused:
        raise typer.Exit(1)


@orders_cli.command("holds")
def orders_holds(limit: int = 50) -> None:
    """Held orders with their reasons, deadline first."""
    app = get_app()
    app.migrate()
    with app.uow() as uow:
        rows = uow.pipeline.held_orders(limit=limit)
    t = Table("订单", "发货期限", "挂起原因")
    for r in rows:
        t.add_row(r["order_id"], shop_time(r["exp_ship_time"], "%m-%d %H:%M")
                  if r["exp_ship_time"] else "—",
                  "；".join(f"{name(HOLD_REASON, h['reason'])}：{h['detail']}" for h in r["holds"]))
    out.print(t)


@pipeline_cli.command("run")
def pipeline_run(loop: bool = typer.Option(False, help="keep running until nothing moves")
                 ) -> None:
    """Audit → packs and courier → e-waybills → confirm shipment, deadline first."""
    from fahuo.services.ports import LeaseHeld
    app = get_app()
    app.migrate()
    pipe = app.pipeline()
    while True:
        try:
            rep = pipe.run()
        except LeaseHeld:  # a worker, the console or another command is running a pass
            err.print("[yellow]另一轮发货正在进行，请稍后[/yellow]")
            raise typer.Exit(1) from None
        t = Table("步骤", "处理", "完成", "挂起", "失败", "接口调用")
        for step, v in rep.summary().items():
            t.add_row(f"{STEPS.get(step, step)} ({step})", *(str(v[k]) for k in ("seen", "done", "held", "failed", "calls")))
        out.print(t)
        if not loop or not any(v["done"] for v in rep.summary().values()):
            break


def ship(orders: list[str] = typer.Option([], "--orders", help="order ids to ship now"),
         import_file: Optional[Path] = typer.Option(None, "--import",
                                                    help=".xlsx/.csv with 订单号/快递公司/快递单号"),
         dry_run: bool = typer.Option(False, "--dry-run", help="check the file, change nothing")
         ) -> None:
    """Batch ship orders that have numbers, or import tracking numbers from a file."""
    from fahuo.bootstrap import apply_import, preview_import
    from fahuo.services.manual_ship import ImportFileError, ship_selected
    from fahuo.services.uploads import UploadLimits, UploadRefused, check_size
    app = get_app()
    app.migrate()
    limits = UploadLimits.from_settings(app.settings)
    if bool(orders) == bool(import_file):
        _fail("请给出 --orders 订单号 或 --import 文件（二选一）")
    with Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn(), console=out, transient=True) as bar:
        task = bar.add_task("发货中", total=None)

        def progress(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        try:
            if import_file:
                check_size(import_file.name, import_file.stat().st_size, limits)
                data = import_file.read_bytes()
                if dry_run:
                    prev = preview_import(app.uow, import_file.name, data, limits)
                    rows = [{"line_no": r.line_no, "order_id": r.order_id, "status": r.status,
                             "courier_code": r.courier_code, "track_no": r.track_no,
                             "message": r.message} for r in prev.rows]
                    job: dict[str, Any] = {"id": None, "status": "preview", "items": rows}
                else:
                    job = apply_import(app.uow, app.platform_for, import_file.name, data,
                                       actor=who(), progress=progress, limits=limits)
            else:
                job = ship_selected(app.uow, app.platform_for, _order_ids(orders), actor=who(),
                                    progress=progress)
        except (ImportFileError, UploadRefused, OSError) as exc:
            _fail(str(exc))
    t = Table("行", "订单", "快递公司", "快递单号", "结果", "原因")
    for it in job["items"]:
        t.add_row(str(it["line_no"]), it["order_id"], courier_name(it.get("courier_code", "")),
                  it.get("track_no", ""), name(JOB_ITEM_STATUS, it["status"]),
                  it.get("message", ""))
    out.print(t)
    counts: dict[str, int] = {}
    for it in job["items"]:
        counts[it["status"]] = counts.get(it["status"], 0) + 1
    out.print(("预览（未做任何改动）：" if job["status"] == "preview" else
               f"发货任务 #{job['id']}：") + "，".join(f"{name(JOB_ITEM_STATUS, k)} {v}"
                                                  for k, v in sorted(counts.items())))
    if any(it["status"] in ("invalid", "failed") for it in job["items"]):
        raise typer.Exit(1)


def scan_cmd(codes: list[str] = typer.Argument(
        ..., help="scanned tracking numbers; `recent`: today's count and the last 20 scans"),
        as_json: bool = typer.Option(False, "--json", help="with `recent`: as JSON")) -> None:
    """Scan-to-ship: confirm each parcel, or stop it if the buyer asked for a refund.

    `fahuo scan recent` shows what the desk shows: parcels let go today (the shop's day) by
    you and by everyone, and the last 20 scans with their result. No tracking number is
    the word "recent" (numbers hold digits), so the two never mix."""
    from fahuo.services.scan import scan
    app = get_app()
    app.migrate()
    if [c.lower() for c in codes] == ["recent"]:
        _recent(app, as_json)
        return
    stopped = False
    for code in codes:
        r = scan(app.uow, app.platform_for, code, actor=who())
        colour = "green" if r.ok else "bold red"
        out.print(f"[{colour}]{code}: {r.message}[/{colour}]")
        stopped |= not r.ok
    if stopped:
        raise typer.Exit(1)


def _recent(app: Any, as_json: bool) -> None:
    from rich.markup import escape

    from fahuo.services.scan import station
    st = station(app.uow, who())
    if as_json:
        typer.echo(json.dumps({"today": st.today.__dict__,
                               "recent": [ln.__dict__ for ln in st.recent]},
                              ensure_ascii=False))
        return
    d = st.today
    out.print(f"{d.day}（北京时间）今天放行：{d.actor} {d.mine} 件，全部 {d.total} 件；"
              f"未放行 {d.refused} 次")
    t = Table("时间", "运单号", "订单 / 包裹", "快递公司", "扫描人", "结果",
              title=f"最近 {len(st.recent)} 次扫描（新的在前）")
    for ln in st.recent:
        where = ", ".join(ln.order_ids) + (f" · 包裹 #{ln.pack_id}" if ln.pack_id else "")
        verdict = (escape(ln.verdict_name) if ln.ok
                   else f"[red]{escape(ln.verdict_name)}：{escape(ln.message)}[/red]")
        t.add_row(ln.time, escape(ln.code), where or "—", ln.courier, escape(ln.actor), verdict)
    out.print(t)


def today_cmd(as_json: bool = typer.Option(False, "--json", help="the board as JSON")) -> None:
    """今天: what needs a person now, with the console page of each count."""
    from fahuo.services.today import today
    board = today(get_app().uow)
    if as_json:
        out.print_json(json.dumps(board.as_dict(), ensure_ascii=False))
        return
    for group, cards in board.groups:
        t = Table(title=group, title_justify="left")
        t.add_column("事项")
        t.add_column("数量", justify="right")
        t.add_column("控制台")
        for c in cards:
            t.add_row(c.label, f"[red]{c.count}[/red]" if c.tone == "alert" and c.count
                      else str(c.count), c.href)
        out.print(t)
    for text, href in board.notes:
        out.print(f"[yellow]{text}[/yellow]（{href}）")
    out.print(f"截至 {board.at}（北京时间）")


def register(cli: typer.Typer) -> None:
    cli.command("today")(today_cmd)
    cli.add_typer(orders_cli, name="orders")
    cli.add_typer(pipeline_cli, name="pipeline")
    cli.command()(ship)
    cli.command("scan")(scan_cmd)
