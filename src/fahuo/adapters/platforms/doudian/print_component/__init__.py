"""Douyin print component (抖音电商打印组件) messages: docs/doudian-open-platform.md §9.5, §9.6, §15.

fahuo cannot print Douyin e-waybills itself (§15.4): the packer's desktop runs the component on
``ws://localhost:13888`` (``wss://localhost:13999`` from HTTPS pages). This module builds what a
browser page / desktop agent sends to it and parses what comes back:

* :func:`shop_key_params` — the pre-signed ``logistics.getShopKey`` query string the component
  uses to fetch the decryption key (standard area ``params``, §15.2). It carries a live
  ``access_token``: build it per print batch, never cache it on the client.
* :class:`Document`, :func:`build_print_task`, :func:`split_tasks` — the ``print`` command.
* :func:`parse_component_message` — the component's ack / ``notifyPrintResult`` (§15.3).
* :func:`fetch_template_urls` — ``logistics.templateList`` (§9.6): ``templateURL`` per courier.

Pure functions (no I/O) except :func:`fetch_template_urls` and :func:`shop_key_params_for`,
which go through a ``ShopSession``-like object. One module per concern: ``shop_key`` (signing),
``tasks`` (the commands), ``replies`` (parsing), ``templates``; every name is importable from
here.
"""

from __future__ import annotations

from .replies import ComponentEvent, DocumentStatus, parse_component_message
from .shop_key import SHOP_KEY_METHOD, shop_key_params, shop_key_params_for
from .tasks import (
    COMPONENT_WS_URL,
    COMPONENT_WSS_URL,
    DEFAULT_PER_TASK,
    PROTOCOL_VERSION,
    Document,
    build_print_task,
    get_printers_message,
    split_tasks,
)
from .templates import TemplateInfo, fetch_template_urls

__all__ = [
    "COMPONENT_WS_URL",
    "COMPONENT_WSS_URL",
    "SHOP_KEY_METHOD",
    "DEFAULT_PER_TASK",
    "PROTOCOL_VERSION",
    "Document",
    "DocumentStatus",
    "ComponentEvent",
    "TemplateInfo",
    "shop_key_params",
    "shop_key_params_for",
    "build_print_task",
    "split_tasks",
    "get_printers_message",
    "parse_component_message",
    "fetch_template_urls",
]
