"""Unsigned admin API under ``/sandbox/…`` (JSON in, JSON out): ``routes`` lists every route besides
the gateway; ``platform``, ``fulfilment`` and ``tracking`` hold the handlers, ``http`` what they share."""
