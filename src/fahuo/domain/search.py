"""Search terms for the order workbench: what a merchant may see, cut into index terms.

One rule cuts both what is indexed and what is asked, so a query finds what was stored:

- text is NFKC-normalised and lower-cased (全角 ``ＳＦ１２３`` is ``sf123``);
- a run of letters and digits is one term (``SKU-001-红`` gives ``sku``, ``001``);
- a run of CJK characters gives its bigrams (``连衣裙`` → ``连衣``, ``衣裙``), a single
  character stands alone (the masked name ``张**`` gives ``张``);
- a masked phone gives its visible tail (``138****5678`` → ``5678``), nothing else.

Only masked values, ids, codes, titles and remarks are ever cut: never plaintext PII.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

MAX_TERM = 64
# query terms kept (a long title pasted whole needs only some of its bigrams to narrow)
MAX_QUERY_TERMS = 8
_RUN = re.compile(r"[0-9a-z]+|[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
_PHONE_TAIL = re.compile(r"(\d{4})\s*$")


def _norm(text: str) -> str:
    return unicodedata.normalize("NFKC", text or "").lower()


def _is_cjk(run: str) -> bool:
    return not run[0].isascii()


def terms(text: str) -> set[str]:
    """The index terms of one visible text."""
    out: set[str] = set()
    for run in _RUN.findall(_norm(text)):
        if not _is_cjk(run):
            out.add(run[:MAX_TERM])
        elif len(run) == 1:
            out.add(run)
        else:
            out.update(run[i:i + 2] for i in range(len(run) - 1))
    return out


def phone_tail(mask: str) -> str | None:
    """The last four digits of a masked phone, the part a buyer reads out."""
    found = _PHONE_TAIL.search(mask or "")
    return found.group(1) if found else None


def order_terms(*, order_id: str, name_mask: str, phone_mask: str, buyer_words: str,
                seller_words: str, lines: Iterable[tuple[str, str, str, str]]) -> set[str]:
    """Every term an order is found by; ``lines`` are (sub-order id, merchant code, SKU id,
    product title)."""
    out = terms(order_id) | terms(name_mask) | terms(buyer_words) | terms(seller_words)
    tail = phone_tail(phone_mask)
    if tail:
        out.add(tail)
    for sku_order_id, code, sku_id, title in lines:
        out |= terms(sku_order_id) | terms(code) | terms(sku_id) | terms(title)
    return {t for t in out if t}


class QueryTerm(tuple):
    """(term, prefix): ``prefix`` asks for every stored term starting with ``term``."""

    __slots__ = ()

    def __new__(cls, term: str, prefix: bool) -> "QueryTerm":
        return super().__new__(cls, (term, prefix))

    @property
    def term(self) -> str:
        return str(self[0])

    @property
    def prefix(self) -> bool:
        return bool(self[1])


def query_terms(query: str) -> list[QueryTerm]:
    """What a search box's text asks for: every term must match (AND).

    Letters and digits of three or more also match as a prefix (the start of a tracking
    number or an order id); a single CJK character matches as a prefix (bigrams starting
    with it, a masked name's surname). Of a long CJK run every other bigram is enough."""
    out: list[QueryTerm] = []
    for run in _RUN.findall(_norm(query)):
        if not _is_cjk(run):
            out.append(QueryTerm(run[:MAX_TERM], len(run) >= 3 and len(run) < MAX_TERM))
        elif len(run) == 1:
            out.append(QueryTerm(run, True))
        else:
            grams = [run[i:i + 2] for i in range(0, len(run) - 1, 2)]
            if len(run) % 2 == 1:
                grams.append(run[-2:])
            out.extend(QueryTerm(g, False) for g in grams)
    seen: dict[QueryTerm, None] = dict.fromkeys(out)
    # longest first: the most telling terms narrow the search first
    return sorted(seen, key=lambda t: (-len(t.term), t.term))[:MAX_QUERY_TERMS]
