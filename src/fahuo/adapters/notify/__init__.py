"""Alerts to people: DingTalk, Feishu and WeCom group robots, e-mail, and a signed webhook.

``grouping.group_alerts`` folds findings into one alert per kind per interval,
``grouping.Routing`` says which channel gets which kind, ``dispatch.dispatch`` delivers.
"""

from fahuo.adapters.notify.base import Alert, Channel, NotifyError

__all__ = ["Alert", "Channel", "NotifyError"]
