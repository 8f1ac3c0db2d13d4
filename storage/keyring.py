"""Tip keys: the keys that seal the way back to tipsters (storage.way_back), kept outside
the database.

Written here rather than taken whole from a library: the cipher is `cryptography`'s AES-GCM;
what is ours is the ring around it, a list of 256-bit keys, the first sealing and every one
opening, each sealed value naming its key by a short fingerprint, so that a rotation can
re-seal every value under a new key while the old ones still open. Fernet's MultiFernet does
much the same, but writes the time of sealing into every token in clear, which on a tip
would be one more timestamp.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
from collections.abc import Iterable
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

KEY_BYTES = 32
NONCE_BYTES = 12


class BadKey(ValueError):
    """A key that is not 32 bytes of URL-safe base64."""


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def key_id(key: bytes) -> str:
    """A short fingerprint naming a key in what it sealed; it reveals nothing of the key."""
    return hashlib.sha256(b"binhyen tip key:" + key).hexdigest()[:8]


@dataclass(frozen=True)
class Keyring:
    """Tip keys: the first seals, every one opens (the others are kept during a rotation)."""

    keys: tuple[bytes, ...]

    def __post_init__(self) -> None:
        if not self.keys or any(len(k) != KEY_BYTES for k in self.keys):
            raise BadKey(f"a tip key is {KEY_BYTES} bytes")

    @classmethod
    def generate(cls, keep: Iterable[bytes] = ()) -> Keyring:
        """A new key first, then the keys to keep readable."""
        return cls((AESGCM.generate_key(bit_length=8 * KEY_BYTES), *keep))

    @classmethod
    def parse(cls, text: str) -> Keyring:
        """Keys as written in TIP_KEY (comma-separated) or in the key file (one a line)."""
        words = [w.strip() for w in text.replace(",", "\n").splitlines() if w.strip()]
        try:
            keys = tuple(_unb64(w) for w in words)
        except (binascii.Error, ValueError) as exc:
            raise BadKey("a tip key is URL-safe base64") from exc
        return cls(keys)

    def dump(self) -> str:
        return "\n".join(_b64(k) for k in self.keys) + "\n"

    @property
    def current_id(self) -> str:
        return key_id(self.keys[0])

    def seal(self, plain: bytes, bound_to: bytes) -> str:
        nonce = os.urandom(NONCE_BYTES)
        sealed = AESGCM(self.keys[0]).encrypt(nonce, plain, bound_to)
        return f"{self.current_id}:{_b64(nonce + sealed)}"

    def open(self, token: str, bound_to: bytes) -> bytes | None:
        """The plain bytes, or None: an unknown key, a changed value, another tip's value."""
        kid, _, body = token.partition(":")
        for key in self.keys:
            if key_id(key) != kid:
                continue
            try:
                raw = _unb64(body)
                return AESGCM(key).decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], bound_to)
            except (InvalidTag, binascii.Error, ValueError):
                return None
        return None
