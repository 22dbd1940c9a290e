"""`fahuo track`, `fahuo exceptions`, `fahuo deadlines`, `fahuo alerts`."""

from __future__ import annotations

import json
from typing import Optional

import typer
from rich.table import Table

from fahuo.domain.names import CHANNEL_KIND, FINDING_KIND, ORDER_STATE, TRACK_STATE, courier_name, name
from fahuo.entrypoints.cli_common import _app, _fail, _t, out, who

track_cli = typer.Typer(help="Parcel tracking after shipping.", no_args_is_help=True)
exceptions_cli = typer.Typer(help="Logistics exceptions and deadline warnings.",
                             no_args_is_help=True)
alerts_cli = typer.Typer(help="Where exception alerts go.", no_args_is_help=True)


def _report(rep: dict) -> None:
    out.print("  ".join(f"{REPORT_WORDS.get(k, k)} {v}" for k, v in rep.items()))


# the counters of the tracking and detection reports (as_dict keys)
REPORT_WORDS = {"started": "开始跟踪", "subscribed": "已订阅", "subscribe_failed": "订阅失败",
                "pushes": "推送", "events": "轨迹", "polled": "已查询", "poll_failed": "查询失败",
                "retired": "停止跟踪", "parcels": "检查包裹", "orders": "检查订单",
                "opened": "新异常", "closed": "已关闭"}


@track_cli.command("account-add")
def track_account_add(provider: str = typer.Argument(..., help="kuaidi100 or kdniao"),
                      name: str = typer.Option(..., help="a name for this account"),
                      customer: str = typer.Option("", help="Kuaidi100 customer (授权码)"),
                      key: str = typer.Option("", help="Kuaidi100 key"),
                      salt: str = typer.Option("", help="Kuaidi100 push salt (you choose it)"),
                      ebusiness_id: str = typer.Option("", help="Kdniao EBusinessID"),
                      api_key: str = typer.Option("", help="Kdniao ApiKey"),
                      base_url: str = typer.Option("https://poll.kuaidi100.com",
                                                   help="provider endpoint"),
                      callback_url: str = typer.Option(..., help="fahuo's public address"),
                      secret: str = typer.Option("", help="Kuaidi100 secret (only for 快递拦截)"),
                      label_url: str = typer.Option("", help="Kuaidi100 /label/order URL "
                                                    "(default https://api.kuaidi100.com/"
                                                    "label/order)")) -> None:
    """Track new parcels with a Kuaidi100 / Kdniao account (pushes, polling as fallback)."""
    from fahuo.bootstrap import add_account
    from fahuo.services.tracking import TrackingError
    cred = ({"customer": customer, "key": key, "salt": salt, "secret": secret,
             "label_url": label_url} if provider == "kuaidi100"
            else {"ebusiness_id": ebusiness_id, "api_key": api_key})
    try:
        acc = add_account(_app().uow, provider, name, cred, base_url, callback_url)
    except TrackingError as exc:
        _fail(str(exc))
    out.print(f"物流查询账号 #{acc}：推送地址 {callback_url.rstrip('/')}/webhooks/{provider}/{acc}")


def _intercept_view(v: dict) -> None:
    out.print(f"账号 #{v['account_id']} {v['name']}：拦截密钥 secret "
              f"{'已设置' if v['secret'] else '[red]未设置[/red]'}，{v['label_url']}")
    for courier, fields in v["couriers"].items():
        out.print(f"  {courier_name(courier)}：" + ", ".join(f"{k}={val}" for k, val in fields.items()))
    if not v["couriers"]:
        out.print("  还没有拦截用快递账号：fahuo track intercept-partner 账号 快递公司 …")


@track_cli.command("accounts")
def track_accounts() -> None:
    """Tracking accounts, and what each can do for 快递拦截 (secrets hidden)."""
    from fahuo.services.read_models import public_account
    app = _app()
    with app.uow(readonly=True) as u:
        accounts = [public_account(a, app.carriers) for a in u.tracking.accounts()]
    for a in accounts:
        out.print(f"#{a['id']} {a['name']} {a['provider']} {a['base_url']}"
                  f"{'' if a['enabled'] else '（已停用）'}")
        if "intercept" in a:
            _intercept_view(a["intercept"])
    if not accounts:
        out.print("还没有物流查询账号")


@track_cli.command("intercept-setup")
def track_intercept_setup(account: int = typer.Argument(..., help="Kuaidi100 account #"),
                          secret: Optional[str] = typer.Option(None, help="the account's secret"),
                          label_url: Optional[str] = typer.Option(
                              None, help="/label/order URL (a sandbox's; default Kuaidi100's)")
                          ) -> None:
    """Let a Kuaidi100 account intercept parcels (快递拦截 interceptOrder)."""
    from fahuo.bootstrap import set_intercept
    from fahuo.services.tracking import TrackingError
    try:
        _intercept_view(set_intercept(_app().uow, account, secret=secret, label_url=label_url,
                                      actor=who()))
    except TrackingError as exc:
        _fail(str(exc))


@track_cli.command("intercept-partner")
def track_intercept_partner(
        account: int = typer.Argument(..., help="Kuaidi100 account #"),
        courier: str = typer.Argument(..., help="courier code, e.g. zhongtong"),
        partner_id: Optional[str] = typer.Option(None, help="partnerId: the courier e-waybill "
                                                 "account"),
        partner_key: Optional[str] = typer.Option(None, help="partnerKey"),
        partner_secret: Optional[str] = typer.Option(None, help="partnerSecret"),
        partner_name: Optional[str] = typer.Option(None, help="partnerName"),
        code: Optional[str] = typer.Option(None, help="code (网点/月结编码 as the courier gave it)"),
        net: Optional[str] = typer.Option(None, help="net: douyin for Douyin-authorised "
                                          "e-waybill accounts"),
        app_key: Optional[str] = typer.Option(None, help="appKey (ZTO service-provider mode)"),
        app_secret: Optional[str] = typer.Option(None, help="appSecret (ZTO service-provider "
                                                 "mode)"),
        remove: bool = typer.Option(False, "--remove", help="forget this courier's account")
) -> None:
    """The courier's e-waybill account Kuaidi100 needs to intercept that courier's parcels."""
    from fahuo.bootstrap import remove_intercept_partner, set_intercept_partner
    from fahuo.services.tracking import TrackingError
    fields = {k: v for k, v in {"partnerId": partner_id, "partnerKey": partner_key,
                                "partnerSecret": partner_secret, "partnerName": partner_name,
                                "code": code, "net": net, "appKey": app_key,
                                "appSecret": app_secret}.items() if v is not None}
    app = _app()
    try:
        if remove:
            if fields:
                _fail("--remove 时不要再给账号字段")
            v = remove_intercept_partner(app.uow, account, courier, actor=who())
        else:
            v = set_intercept_partner(app.uow, account, courier, fields, actor=who())
    except TrackingError as exc:
        _fail(str(exc))
    _intercept_view(v)


@track_cli.command("subscribe")
def track_subscribe(limit: int = typer.Option(500, help="at most this many")) -> None:
    """Start trackers for newly shipped packs and subscribe them for pushes."""
    app = _app()
    _report(app.tracking.start().as_dict() | app.tracking.subscribe(limit).as_dict())


@track_cli.command("poll")
def track_poll(track_nos: list[str] = typer.Argument(None, help="numbers (default: all due)"),
               limit: int = typer.Option(500)) -> None:
    """Merge pushes and ask providers about due parcels (or exactly these numbers)."""
    app = _app()
    app.tracking.process_pushes()
    _report(app.tracking.poll(limit, track_nos=list(track_nos) if track_nos else None).as_dict())


def _listed(read):
    """The page a list command asked for, or the filter's Chinese refusal (exit 1)."""
    from fahuo.services.lists import ListFilterError
    try:
        return read()
    except ListFilterError as exc:
        _fail(str(exc))


def _shown(p) -> str:
    return (f"共 {p.total} 条，显示第 {p.first}–{p.last} 条" if p.rows
            else f"共 {p.total} 条，这里没有（--offset {p.offset}）")


@track_cli.command("list")
def track_list(state: Optional[str] = None, order_id: Optional[str] = None,
               courier: Optional[str] = typer.Option(None, help="courier code, e.g. zhongtong"),
               limit: int = 30, offset: int = typer.Option(0, min=0)) -> None:
    """Tracked parcels, newest first."""
    from fahuo.services import lists
    p = _listed(lambda: lists.trackers(_app().uow, state=state, courier=courier,
                                       order_id=order_id,
                                       paging=lists.Paging(limit=max(1, limit), offset=offset)))
    rows = p.rows
    t = Table("订单", "快递公司", "快递单号", "物流状态", "发货时间", "揽收时间", "最新轨迹")
    for r in rows:
        ev = json.loads(r["last_event"]) if r["last_event"] else {}
        t.add_row(r["order_id"], courier_name(r["courier_code"]), r["track_no"],
                  name(TRACK_STATE, r["state"]),
                  _t(r["shipped_at"]), _t(r["picked_up_at"]),
                  f"{_t(ev.get('at'))} {ev.get('description', '')}" if ev else "")
    out.print(t)
    out.print(_shown(p))


@exceptions_cli.command("detect")
def exceptions_detect() -> None:
    """Run the detection sweep now and send alerts that are due."""
    app = _app()
    _report(app.watch.detect().as_dict())
    for s in app.watch.send_alerts(app.settings.public_url):
        out.print(f"告警 {s['channel']} {name(FINDING_KIND, s['kind'])} ×{s['count']}："
                  f"{'已发送' if s['ok'] else s['error']}")


@exceptions_cli.command("list")
def exceptions_list(kind: Optional[str] = None,
                    status: str = typer.Option("open", help="open, closed or all"),
                    assignee: Optional[str] = None, limit: int = 50,
                    offset: int = typer.Option(0, min=0)) -> None:
    """Exception records: open ones oldest first, closed ones last closed first."""
    from fahuo.services import lists
    from fahuo.services.watch import KIND_LABELS
    p = _listed(lambda: lists.exceptions(
        _app().uow, lists.FindingFilter.parse(status=status, kind=kind, assignee=assignee),
        lists.Paging(limit=max(1, limit), offset=offset)))
    rows = p.rows
    t = Table("#", "异常类型", "订单", "包裹", "发生时间", "详情", "处理人", "关闭时间")
    for r in rows:
        t.add_row(str(r["id"]), KIND_LABELS.get(r["kind"], r["kind"]), r["order_id"],
                  f"{courier_name(r['courier_code'])} {r['track_no']}".strip(), _t(r["since"]),
                  r["detail"],
                  r["assignee"], _t(r["closed_at"]) if r["closed_at"] else "")
    out.print(t)
    out.print(_shown(p))


def _watch_act(act) -> None:
    from fahuo.services.watch import WatchError
    try:
        act(_app().watch)
    except WatchError as exc:
        _fail(str(exc))


@exceptions_cli.command("assign")
def exceptions_assign(finding_id: int, assignee: str) -> None:
    _watch_act(lambda w: w.assign(finding_id, assignee, actor=who()))
    out.print(f"#{finding_id} → {assignee}")


@exceptions_cli.command("note")
def exceptions_note(finding_id: int, text: str) -> None:
    _watch_act(lambda w: w.note(finding_id, text, actor=who()))
    out.print(f"#{finding_id}：已添加备注")


@exceptions_cli.command("close")
def exceptions_close(finding_id: int,
                     reason: str = typer.Option(..., help="why (e.g. 已联系买家改派)")) -> None:
    _watch_act(lambda w: w.close(finding_id, reason, actor=who()))
    out.print(f"#{finding_id} 已关闭")


def deadlines(within_h: int = typer.Option(24, help="due within this many hours, overdue "
                                                   "included (without --window)"),
              window: Optional[str] = typer.Option(
                  None, help="overdue, 6h, 24h (not yet overdue), later or all"),
              shop: Optional[int] = typer.Option(None, help="shop #"),
              limit: int = typer.Option(200, min=1), offset: int = typer.Option(0, min=0)
              ) -> None:
    """Unshipped orders by ship deadline, overdue first, with the time left."""
    from fahuo.services import lists
    p = _listed(lambda: lists.deadlines(_app().uow, window=window,
                                        within_h=None if window else within_h, shop_ref=shop,
                                        paging=lists.Paging(limit=limit, offset=offset)))
    now = p.extra["now"]
    t = Table("订单", "店铺", "状态", "发货期限", "剩余")
    for r in p.rows:
        oid, ref, exp, st = r["order_id"], r["shop_ref"], r["exp_ship_time"], r["state"]
        left = exp - now
        txt = (f"[red]已超时 {(-left) // 3600}小时{(-left) % 3600 // 60:02d}分[/red]" if left <= 0
               else f"{left // 3600}小时{left % 3600 // 60:02d}分")
        t.add_row(oid, f"#{ref}", name(ORDER_STATE, st), _t(exp), txt)
    out.print(t)
    from fahuo.services.lists import DEADLINE_WINDOW
    what = DEADLINE_WINDOW[window] if window else f"{within_h} 小时内到期（含已超时）"
    out.print(f"{what}的未发货订单{_shown(p)}")


@alerts_cli.command("add")
def alerts_add(name: str = typer.Argument(...),
               kind: str = typer.Option(..., help="dingtalk, feishu, wecom, webhook or email"),
               url: str = typer.Option("", help="robot / webhook URL"),
               secret: str = typer.Option("", help="signing secret"),
               hook_id: str = typer.Option("", help="Feishu hook id"),
               key: str = typer.Option("", help="WeCom robot key"),
               host: str = typer.Option("", help="SMTP host"), port: int = 587,
               sender: str = "", to: list[str] = typer.Option([], help="e-mail recipients"),
               user: str = "", password: str = "",
               kinds: list[str] = typer.Option(["*"], help="exception kinds, * = all"),
               interval_s: int = typer.Option(1800, help="at most one message per kind per …")
               ) -> None:
    """Add an alert channel (tested by building it; nothing is sent)."""
    from fahuo.bootstrap import add_channel
    from fahuo.services.watch import WatchError
    config = {k: v for k, v in dict(url=url, secret=secret, hook_id=hook_id, key=key, host=host,
                                    port=port, sender=sender, to=list(to), user=user,
                                    password=password).items() if v}
    try:
        cid = add_channel(_app().uow, name, kind, config, list(kinds), interval_s)
    except WatchError as exc:
        _fail(str(exc))
    out.print(f"告警渠道 #{cid} {name}（{CHANNEL_KIND.get(kind, kind)}）")


@alerts_cli.command("list")
def alerts_list() -> None:
    with _app().uow(readonly=True) as u:
        chans, hist = u.tracking.channels(), u.tracking.alert_history(10)
    t = Table("名称", "渠道", "异常类型", "间隔")
    for ch in chans:
        t.add_row(ch["name"], f"{name(CHANNEL_KIND, ch['kind'])} ({ch['kind']})",
                  "、".join("全部" if k == "*" else name(FINDING_KIND, k) for k in ch["kinds"]),
                  f"{ch['interval_s']} 秒")
    out.print(t)
    for h in hist:
        out.print(f"{_t(h['sent_at'])} {h['channel']} {h['title']} "
                  f"{'成功' if h['ok'] else h['error']}")


@alerts_cli.command("send")
def alerts_send() -> None:
    """Send what is due now."""
    app = _app()
    for s in app.watch.send_alerts(app.settings.public_url):
        out.print(f"{s['channel']} {name(FINDING_KIND, s['kind'])} ×{s['count']}："
                  f"{'已发送' if s['ok'] else s['error']}")


def register(cli: typer.Typer) -> None:
    cli.add_typer(track_cli, name="track")
    cli.add_typer(exceptions_cli, name="exceptions")
    cli.add_typer(alerts_cli, name="alerts")
    cli.command("deadlines")(deadlines)

