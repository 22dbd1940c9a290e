"""A file a person previewed, kept until they confirm it (确认发货) or for ``keep_s``.

The console's import is two steps: 预览 reads the file and shows what would happen, 确认发货
applies exactly that file. Asking the merchant to pick it again invites the wrong one, so the
preview keeps it here: encrypted at rest (it names orders and numbers), readable once, only by
who uploaded it, and gone after ``keep_s``."""

from __future__ import annotations

import base64
import json
import secrets
import time
from pathlib import Path

from cryptography.exceptions import InvalidTag

from fahuo.adapters.crypto import SecretBox

KEEP_S = 30 * 60


class StagedUploads:
    def __init__(self, folder: Path, box: SecretBox, keep_s: float = KEEP_S) -> None:
        self.folder, self.box, self.keep_s = folder, box, keep_s

    def put(self, name: str, data: bytes, *, actor: str) -> str:
        """Keep the file; the token that gives it back."""
        self.sweep()
        self.folder.mkdir(parents=True, exist_ok=True)
        token = secrets.token_urlsafe(18)
        blob = json.dumps({"name": name, "actor": actor, "at": time.time(),
                           "data": base64.b64encode(data).decode()})
        path = self.folder / f"{token}.staged"
        path.write_text(self.box.encrypt(blob) or "", encoding="ascii")
        path.chmod(0o600)
        return token

    def take(self, token: str, *, actor: str) -> tuple[str, bytes] | None:
        """(name, bytes) of the file kept under ``token`` for ``actor``, once; None when it
        is unknown, someone else's, or older than ``keep_s``."""
        if not token or not all(c.isalnum() or c in "-_" for c in token):
            return None
        path = self.folder / f"{token}.staged"
        try:
            blob = json.loads(self.box.decrypt(path.read_text(encoding="ascii")) or "{}")
        except (OSError, ValueError, InvalidTag):
            return None
        if blob.get("actor") != actor:
            return None  # another person's preview is not theirs to apply
        path.unlink(missing_ok=True)
        if time.time() - float(blob.get("at") or 0) > self.keep_s:
            return None
        return str(blob["name"]), base64.b64decode(blob["data"])

    def sweep(self, now: float | None = None) -> int:
        """Delete files kept longer than ``keep_s``; how many."""
        now = time.time() if now is None else now
        gone = 0
        for path in self.folder.glob("*.staged") if self.folder.exists() else ():
            try:
                if now - path.stat().st_mtime > self.keep_s:
                    path.unlink(missing_ok=True)
                    gone += 1
            except OSError:
                continue
        return gone
