"""Who is signed in: the session cookie, CSRF tokens, and Telegram Mini App sign-in.

The cookie holds a random session token, signed (itsdangerous) so that a forged or
truncated cookie is refused before the database is asked; the database keeps the token's
hash (storage.desk). The CSRF token of a session is an HMAC of its token: it needs no
storage and changes with every session. Mini App initData is checked as Telegram
specifies (HMAC-SHA256 keyed by HMAC-SHA256("WebAppData", bot token)); no library of
python-telegram-bot's does it for a web server."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from urllib.parse import parse_qsl

from itsdangerous import BadSignature, URLSafeSerializer

COOKIE = "binhyen_desk"
LANG_COOKIE = "binhyen_lang"
INIT_DATA_MAX_AGE = 24 * 3600  # seconds an initData stays good


class Signer:
    def __init__(self, secret: bytes) -> None:
        self.secret = secret
        self.serializer = URLSafeSerializer(secret.decode("utf-8", "replace"), salt="desk-session")

    def cookie(self, token: str) -> str:
        return str(self.serializer.dumps(token))

    def token(self, cookie: str | None) -> str | None:
        if not cookie:
            return None
        try:
            value = self.serializer.loads(cookie)
        except BadSignature:
            return None
        return value if isinstance(value, str) else None

    def csrf(self, token: str) -> str:
        return hmac.new(self.secret, b"csrf:" + token.encode(), hashlib.sha256).hexdigest()

    def csrf_ok(self, token: str, given: str) -> bool:
        return hmac.compare_digest(self.csrf(token).encode(), given.encode())


def telegram_user(init_data: str, bot_token: str, now: float | None = None) -> str | None:
    """The Telegram user id a Mini App's initData vouches for; None when the signature is
    wrong, the data too old or without a user."""
    if not bot_token or not init_data:
        return None
    fields = dict(parse_qsl(init_data, keep_blank_values=True))
    given = fields.pop("hash", "")
    check = "\n".join(f"{k}={v}" for k, v in sorted(fields.items()))
    key = hmac.new(b"WebAppData", bot_token.encode(), hashlib.sha256).digest()
    expected = hmac.new(key, check.encode(), hashlib.sha256).hexdigest()
    if not given or not hmac.compare_digest(expected, given):
        return None
    try:
        auth_date = int(fields.get("auth_date", "0"))
        user = json.loads(fields.get("user", "{}"))
    except ValueError:
        return None
    if (now if now is not None else time.time()) - auth_date > INIT_DATA_MAX_AGE:
        return None
    user_id = user.get("id") if isinstance(user, dict) else None
    return str(user_id) if user_id else None


def sign_init_data(fields: dict[str, str], bot_token: str) -> str:
    """initData as Telegram would sign it (the tests' Mini App client)."""
    from urllib.parse import urlencode

    check = "\n".join(f"{k}={v}" for k, v in sorted(fields.items()))
    key = hmac.new(b"WebAppData", bot_token.encode(), hashlib.sha256).digest()
    digest = hmac.new(key, check.encode(), hashlib.sha256).hexdigest()
    return urlencode({**fields, "hash": digest})
