"""Provider accounts (CLI / API / console): added with every field checked, and interception
turned on for an account whose provider can intercept. What each provider needs is the
registry's (``ports.Carriers``): its account fields and its own checks."""

from __future__ import annotations

from typing import Any, TYPE_CHECKING

from fahuo.domain.names import courier_name
from fahuo.domain.urls import url_problem
from fahuo.services.ports import Carrier, Carriers, UowFactory

from .model import TrackingError

if TYPE_CHECKING:
    from fahuo.adapters.store.unit_of_work import UnitOfWork


def push_url(account: dict[str, Any]) -> str:
    """Where the provider pushes for this account: fahuo's public address + the receiver."""
    return f"{account['callback_url'].rstrip('/')}/webhooks/{account['provider']}/{account['id']}"


def add_account(uow: UowFactory, provider: str, name: str, credentials: dict[str, Any],
                base_url: str, callback_url: str, *, carriers: Carriers) -> int:
    """Validate and save a tracking provider account; names every missing field."""
    problems = []
    offered = [c.name for c in carriers.all() if c.account_fields]
    if provider not in offered:
        raise TrackingError(f"物流查询服务商 (provider) 应为 {'、'.join(offered)} 之一，收到 {provider!r}")
    carrier = carriers.get(provider)
    for f in carrier.account_fields:
        if f.required and not str(credentials.get(f.name) or "").strip():
            problems.append(f"{carrier.label} 账号必须填写 {f.name}")
    credentials, more = carrier.check_credentials(dict(credentials))
    problems += more
    if not name.strip():
        problems.append("请填写账号名称")
    if (bad := url_problem(base_url)) is not None:
        problems.append(f"base_url: {bad} ({base_url!r})")
    if (bad := url_problem(callback_url)) is not None:
        problems.append(f"callback_url 应为 fahuo 的公网 http(s) 地址（推送发到 "
                        f"<地址>/webhooks/{provider}/<账号 id>）：{bad} ({callback_url!r})")
    if problems:
        raise TrackingError("；".join(problems))
    with uow() as u:
        if any(a["name"] == name for a in u.tracking.accounts()):
            raise TrackingError(f"已有名为 {name!r} 的物流查询账号")
        acc_id = u.tracking.add_account(provider, name.strip(), credentials, base_url.rstrip("/"),
                                        callback_url)
        u.audit.add(actor="system", action="tracking.account.add", subject_type="tracking_account",
                    subject_id=str(acc_id), detail={"provider": provider, "name": name})
    return acc_id


def _intercept_account(u: UnitOfWork, account_id: int, carrier: Carrier) -> dict[str, Any]:
    acc = u.tracking.account(account_id, lock=True)
    if acc is None:
        raise TrackingError(f"没有物流查询账号 #{account_id}")
    if acc["provider"] != carrier.name:
        raise TrackingError(f"物流查询账号 #{account_id} 属于 {acc['provider']}：拦截须使用 "
                            f"{carrier.label} 账号")
    return acc


def set_intercept(uow: UowFactory, account_id: int, *, secret: str | None = None,
                  label_url: str | None = None, actor: str, carrier: Carrier
                  ) -> dict[str, Any]:
    """Turn on interception through ``carrier`` for one of its accounts: its secret (signs
    the interception calls) and, when not the provider's own, the URL they go to (a
    sandbox's). Returns the public view."""
    problems = carrier.intercept_setup_problems(secret=secret, label_url=label_url)
    if problems:
        raise TrackingError("；".join(problems))
    with uow() as u:
        acc = _intercept_account(u, account_id, carrier)
        cred, detail = carrier.intercept_setup(acc["credentials"], secret=secret,
                                               label_url=label_url)
        u.tracking.update_credentials(account_id, cred)
        u.audit.add(actor=actor, action="tracking.account.intercept", subject_type=
                    "tracking_account", subject_id=str(account_id), detail=detail)
    return carrier.intercept_view({**acc, "credentials": cred})


def set_intercept_partner(uow: UowFactory, account_id: int, courier: str,
                          fields: dict[str, Any], *, actor: str, carrier: Carrier
                          ) -> dict[str, Any]:
    """The courier's e-waybill account (partnerId, partnerKey, …) the provider needs to
    intercept that courier's parcels; replaces what was set for this courier."""
    try:
        courier, partner = carrier.intercept_partner(courier, fields)
    except ValueError as exc:
        raise TrackingError(str(exc)) from exc
    with uow() as u:
        acc = _intercept_account(u, account_id, carrier)
        cred = carrier.with_partners(acc["credentials"], {
            **carrier.partners(acc["credentials"]), courier: partner})
        u.tracking.update_credentials(account_id, cred)
        u.audit.add(actor=actor, action="tracking.account.intercept_partner",
                    subject_type="tracking_account", subject_id=str(account_id),
                    detail={"courier": courier, "fields": sorted(partner)})  # names, no values
    return carrier.intercept_view({**acc, "credentials": cred})


def remove_intercept_partner(uow: UowFactory, account_id: int, courier: str, *,
                             actor: str, carrier: Carrier) -> dict[str, Any]:
    courier = (courier or "").strip().lower()
    with uow() as u:
        acc = _intercept_account(u, account_id, carrier)
        partners = carrier.partners(acc["credentials"])
        if courier not in partners:
            raise TrackingError(f"账号 #{account_id} 没有 {courier_name(courier) or repr(courier)} 的拦截用快递账号"
                                f"（已有：{'、'.join(courier_name(p) for p in sorted(partners)) or '无'}）")
        del partners[courier]
        cred = carrier.with_partners(acc["credentials"], partners)
        u.tracking.update_credentials(account_id, cred)
        u.audit.add(actor=actor, action="tracking.account.intercept_partner_removed",
                    subject_type="tracking_account", subject_id=str(account_id),
                    detail={"courier": courier})
    return carrier.intercept_view({**acc, "credentials": cred})


__all__ = ["add_account", "push_url", "remove_intercept_partner", "set_intercept",
           "set_intercept_partner"]
