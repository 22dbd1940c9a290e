"""Stock use cases, one room per reason to change:

- ``orders``: reserve, follow the lines, settle (deduct or release) for orders; retry orders
  held for stock when stock arrives.
- ``moves``: receive, count and adjust by hand (and returns): every problem of every line in
  one round, the new-code rule, the closest known code.
- ``files``: count and receipt files (盘点, 入库): their rows and per-row problems.
- ``bundles``: what a bundle (组套) is made of.
- ``rules``: what a code tells the shops: safety stock, sync rule, oversell, name.
- ``lines``: what people and files hand in: a line, its quantity as typed, the error that
  names every bad one.

What a bundle can make and what the shop is told live in ``services/stock_sync``.
"""
