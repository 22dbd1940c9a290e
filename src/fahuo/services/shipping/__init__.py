"""The auto-ship pass: audit → packs and courier → e-waybills → shipment confirmed.

One entry point: ``Pipeline`` (``run``), which the API, the CLI and the worker call; a pass
holds the ``pipeline`` lease itself, so they can never run overlapping passes. One module per
reason to change: ``audit``, ``plan`` (with ``reachability``), ``waybills``, ``confirm``
(with ``shipped``, what the platform accepted), ``recycle``, ``refunds``, ``report`` and
``run`` (the pass: lease, rounds, order of the steps). ``context`` is what every step needs,
``failures`` how one bad order is held without stopping the others.

Every step works on a batch, deadline first (`exp_ship_time` ascending), and is safe to run
again after a crash at any point:
- a pack's platform key (order_id, pack_id) is stored before newCreateOrder is called, so a
  retry gets the same number back and a pack never has two live numbers;
- pack-shaped confirmations carry a stored `request_id`; a whole-order confirmation that fails
  is checked against the order's packages on the platform, so "already shipped with this
  number" counts as success;
- platform calls happen outside transactions; what they return is saved in the next one.
"""

from fahuo.services.shipping.report import PipelineReport, StepReport
from fahuo.services.shipping.run import Pipeline

__all__ = ["Pipeline", "PipelineReport", "StepReport"]
