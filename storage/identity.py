"""Pseudonyms and codes: what lets the bot find people without exposing them."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets

# Crockford's base32: no I, L, O, U, so a code read aloud or typed by hand survives.
ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
INVITE_LENGTH = 12  # 60 bits: with expiry and per-chat rate limits, not guessable
_NOT_CODE = re.compile(r"[^0-9A-Z]")


def pseudonym(secret: bytes, channel: str, user_id: str) -> str:
    return hmac.new(secret, f"{channel}:{user_id}".encode(), hashlib.sha256).hexdigest()


def random_code(length: int) -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(length))


def new_invite_code() -> str:
    return random_code(INVITE_LENGTH)


def clean_code(text: str) -> str:
    """What a person typed ("abcd-efgh-jk0o") as a stored code: upper case, no separators."""
    text = text.upper().replace("O", "0").replace("I", "1").replace("L", "1")
    return _NOT_CODE.sub("", text)


def pretty_invite(code: str) -> str:
    return "-".join(code[i : i + 4] for i in range(0, len(code), 4))


def new_case_code() -> str:
    return "TB-" + random_code(6)
