"""Templates (Jinja2, from this package) in the reader's language, and the security headers
every answer carries."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.responses import HTMLResponse

from locales import available_languages, t
from locales.text import first_upper

HERE = Path(__file__).parent
ENV = Environment(
    loader=FileSystemLoader(HERE / "templates"),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)
ENV.filters["first_upper"] = first_upper  # "ấp Phú Mỹ" standing alone: "Ấp Phú Mỹ"

# No inline script anywhere: every script is a file under /static. Telegram's web client
# frames the Mini App, so it may frame us; nobody else may.
CSP = (
    "default-src 'self'; script-src 'self' https://telegram.org; style-src 'self'; "
    "img-src 'self' data: {tiles}; connect-src 'self'; media-src 'self'; "
    "frame-ancestors 'self' https://web.telegram.org; form-action 'self'; base-uri 'none'; "
    "object-src 'none'"
)


def security_headers(tile_url: str) -> dict[str, str]:
    from urllib.parse import urlsplit

    parts = urlsplit(tile_url.replace("{s}", "a"))
    host = parts.netloc.replace("a.", "*.", 1) if "{s}" in tile_url else parts.netloc
    tiles = f"{parts.scheme}://{host}" if parts.scheme and host else ""
    return {
        "Content-Security-Policy": CSP.format(tiles=tiles).replace("  ", " "),
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "same-origin",
    }


def page(name: str, lang: str, status: int = 200, **values: Any) -> HTMLResponse:
    def tr(key: str, **kw: Any) -> str:
        return t(lang, key, **kw)

    html = ENV.get_template(name).render(t=tr, lang=lang, languages=available_languages(), **values)
    return HTMLResponse(html, status_code=status)
