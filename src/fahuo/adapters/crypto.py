"""Encryption at rest for PII and secrets (AES-256-GCM, one install key).

Values are stored as ``v1:<base64(nonce|ciphertext)>`` so the scheme can rotate later.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from pathlib import Path

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

PREFIX = "v1:"


class SecretBox:
    def __init__(self, key: bytes) -> None:
        if len(key) != 32:
            raise ValueError("the fahuo secret key must be 32 bytes (base64 of 32 random bytes)")
        self._aead = AESGCM(key)
        self._key = key

    def derive(self, purpose: str) -> bytes:
        """A separate 32-byte key for another use (e.g. signing sessions), from the install key."""
        return hmac.new(self._key, b"fahuo:" + purpose.encode(), hashlib.sha256).digest()

    @classmethod
    def from_b64(cls, text: str) -> "SecretBox":
        try:
            key = base64.b64decode(text.strip(), validate=True)
        except ValueError as exc:
            raise ValueError("FAHUO_SECRET_KEY is not valid base64") from exc
        return cls(key)

    @classmethod
    def load_or_create(cls, path: Path) -> "SecretBox":
        """The install key file; created once with owner-only permissions."""
        if not path.exists():
            path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            try:
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except FileExistsError:  # another process made it meanwhile: use theirs
                pass
            else:
                with os.fdopen(fd, "w") as f:
                    f.write(base64.b64encode(AESGCM.generate_key(256)).decode())
        if os.stat(path).st_mode & 0o077:
            os.chmod(path, 0o600)  # a key file copied in with the usual 0644
        return cls.from_b64(path.read_text())

    def encrypt(self, plain: str | None) -> str | None:
        if plain is None or plain == "":
            return plain
        nonce = os.urandom(12)
        ct = self._aead.encrypt(nonce, plain.encode("utf-8"), None)
        return PREFIX + base64.b64encode(nonce + ct).decode("ascii")

    def decrypt(self, stored: str | None) -> str | None:
        if stored is None or stored == "":
            return stored
        if not stored.startswith(PREFIX):
            raise ValueError("value is not in fahuo's encrypted form")
        blob = base64.b64decode(stored[len(PREFIX):])
        return self._aead.decrypt(blob[:12], blob[12:], None).decode("utf-8")


def box_for(settings) -> SecretBox:
    if settings.secret_key:
        return SecretBox.from_b64(settings.secret_key)
    return SecretBox.load_or_create(settings.data_dir / "secret.key")
