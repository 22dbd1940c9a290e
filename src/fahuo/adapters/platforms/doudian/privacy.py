"""``order.batchDecrypt`` (doudian-open-platform.md §7.2): plain receiver text for what the
print component cannot print, at most 50 ciphertexts a call."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .errors import UnexpectedResponse

__all__ = ["DECRYPT_MAX", "Decrypted", "PrivacyCalls"]

DECRYPT_MAX = 50


@dataclass(frozen=True)
class Decrypted:
    """One ciphertext's answer: ``text`` when ``err_no`` is 0, else the platform's reason."""

    text: str
    err_no: int = 0
    err_msg: str = ""

    @property
    def ok(self) -> bool:
        return self.err_no == 0 and bool(self.text)


class PrivacyCalls:
    """Mixed into DoudianShopApi; needs ``self.session``."""

    session: Any

    def decrypt(self, ciphers: list[tuple[str, str]]) -> dict[tuple[str, str], Decrypted]:
        """(order id, ciphertext) → its answer, in calls of at most 50. Every asked pair has
        an answer: one the platform left out reads as refused, never as plain text."""
        wanted = list(dict.fromkeys((str(a), str(c)) for a, c in ciphers if a and c))
        out: dict[tuple[str, str], Decrypted] = {}
        for i in range(0, len(wanted), DECRYPT_MAX):
            chunk = wanted[i:i + DECRYPT_MAX]
            data = self.session.call("order.batchDecrypt", {"cipher_infos": [
                {"auth_id": a, "cipher_text": c} for a, c in chunk]})
            infos = data.get("decrypt_infos") if isinstance(data, dict) else None
            if not isinstance(infos, list):
                raise UnexpectedResponse("no decrypt_infos", method="order.batchDecrypt")
            for info in infos:
                if not isinstance(info, dict):
                    continue
                key = (str(info.get("auth_id") or ""), str(info.get("cipher_text") or ""))
                err = int(info.get("err_no") or 0)
                out[key] = Decrypted(str(info.get("decrypt_text") or "") if not err else "",
                                     err, str(info.get("err_msg") or ""))
            for key in chunk:
                out.setdefault(key, Decrypted("", -1, "平台未返回该密文的解密结果"))
        return {k: out[k] for k in wanted}
