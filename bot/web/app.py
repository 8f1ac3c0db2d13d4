"""The Starlette app: webhooks, health, metrics and the desk's pages, and what every desk
request shares (who is signed in, CSRF, the language, the transaction)."""

from __future__ import annotations

import hmac
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.applications import Starlette
from starlette.datastructures import FormData
from starlette.middleware import Middleware
from starlette.middleware.base import BaseHTTPMiddleware, RequestResponseEndpoint
from starlette.requests import Request
from starlette.responses import (
    FileResponse,
    JSONResponse,
    PlainTextResponse,
    RedirectResponse,
    Response,
)
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from bot.web.auth import COOKIE, LANG_COOKIE, Signer
from bot.web.metrics import Metrics, age_seconds
from bot.web.render import HERE, page, security_headers
from conversations.context import Notifying
from locales import available_languages
from storage import desk, outbox
from storage.enums import Role
from storage.keyring import Keyring
from storage.models import Person
from storage.types import utcnow

log = logging.getLogger(__name__)
Deliver = Callable[[str, dict[str, Any]], Awaitable[None]]
MediaFetcher = Callable[[str, str], Awaitable[tuple[bytes, str] | None]]
MAX_UPDATE_BYTES = 1024 * 1024  # a Telegram or Zalo update is a few kilobytes
MAX_UPLOAD_BYTES = 2 * 1024 * 1024  # a roster


@dataclass(frozen=True)
class WebConfig:
    secret: bytes
    tip_keys: Keyring
    public_url: str = "http://127.0.0.1:8080"
    idle: timedelta = timedelta(minutes=30)
    tile_url: str = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
    default_language: str = "vi"
    telegram_secret: str = ""  # the webhook's secret token; empty: no Telegram webhook
    zalo_secret: str = ""
    bot_token: str = ""  # Telegram's, to check Mini App initData
    invite_ttl_days: int = 14
    bot_username: str = ""  # Telegram's, for invite links

    @property
    def secure_cookies(self) -> bool:
        return self.public_url.startswith("https://")


@dataclass
class Services:
    """What the web app is given by the bot process."""

    config: WebConfig
    sessions: async_sessionmaker[AsyncSession]
    deliver: Deliver
    clock: Callable[[], datetime] = utcnow
    on_queued: Callable[[], None] | None = None
    fetch_media: MediaFetcher | None = None
    leading: Callable[[], bool | None] = lambda: None  # the scheduler's leadership, if known
    metrics: Metrics = field(default_factory=Metrics)


@dataclass
class WebCtx(Notifying):
    """One desk request: its transaction, the signed-in person, and what it queued."""

    request: Request
    session: AsyncSession
    person: Person
    now: datetime
    lang: str
    csrf: str
    services: Services
    form: FormData | None = None
    queued: int = 0

    @property
    def is_admin(self) -> bool:
        return self.person.role == Role.ADMIN

    @property
    def commune_id(self) -> int:
        assert self.person.commune_id is not None
        return self.person.commune_id

    def field(self, name: str) -> str:
        value = self.form.get(name) if self.form is not None else None
        return value.strip() if isinstance(value, str) else ""

    def render(self, name: str, status: int = 200, **values: Any) -> Response:
        return page(
            name,
            self.lang,
            status,
            me=self.person,
            csrf=self.csrf,
            is_admin=self.is_admin,
            path=self.request.url.path,
            **values,
        )


Handler = Callable[[WebCtx], Awaitable[Response]]


def lang_of(request: Request, person: Person | None, default: str) -> str:
    chosen = request.cookies.get(LANG_COOKIE, "")
    if chosen in available_languages():
        return chosen
    return (person.language if person else None) or default


def desk_page(handler: Handler, *, admin: bool = False) -> Callable[[Request], Awaitable[Response]]:
    """A desk route: signed in (else to the sign-in page), CSRF checked on every change,
    admins only where asked, in one transaction committed before the answer."""

    async def endpoint(request: Request) -> Response:
        services: Services = request.app.state.services
        signer: Signer = request.app.state.signer
        token = signer.token(request.cookies.get(COOKIE))
        now = services.clock()
        form = None
        if request.method == "POST":
            if int(request.headers.get("content-length") or 0) > MAX_UPLOAD_BYTES:
                return PlainTextResponse("413", status_code=413)
            form = await request.form(max_part_size=MAX_UPLOAD_BYTES)
        async with services.sessions() as session:
            async with session.begin():
                person = (
                    await desk.session_person(
                        session=session, token=token, now=now, idle=services.config.idle
                    )
                    if token
                    else None
                )
            lang = lang_of(request, person, services.config.default_language)
            if person is None or token is None:
                if request.method == "GET":
                    return RedirectResponse("/signin", status_code=303)
                return page("signin.html", lang, 401, expired=True)
            csrf = signer.csrf(token)
            if form is not None:
                given = form.get("csrf")
                if not isinstance(given, str) or not signer.csrf_ok(token, given):
                    return page("failure.html", lang, 403, message_key="web.csrf_failed")
            if admin and person.role != Role.ADMIN:
                return page("failure.html", lang, 403, message_key="web.admins_only")
            ctx = WebCtx(request, session, person, now, lang, csrf, services, form)
            async with session.begin():
                response = await handler(ctx)
        if ctx.queued and services.on_queued is not None:
            services.on_queued()
        return response

    return endpoint


async def telegram_webhook(request: Request) -> Response:
    return await _webhook(request, "telegram", "X-Telegram-Bot-Api-Secret-Token")


async def zalo_webhook(request: Request) -> Response:
    return await _webhook(request, "zalo", "X-Bot-Api-Secret-Token")


async def _webhook(request: Request, channel: str, header: str) -> Response:
    """The secret compared in constant time before the body is read, the body capped, and
    the answer given only once the update is handled and committed: a failure answers 500
    and the platform delivers again."""
    services: Services = request.app.state.services
    secret = (
        services.config.telegram_secret if channel == "telegram" else services.config.zalo_secret
    )
    if not secret:
        return PlainTextResponse("not found", status_code=404)
    given = request.headers.get(header, "")
    if not hmac.compare_digest(given.encode(), secret.encode()):
        return PlainTextResponse("forbidden", status_code=403)
    if int(request.headers.get("content-length") or 0) > MAX_UPDATE_BYTES:
        return PlainTextResponse("too large", status_code=413)
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_UPDATE_BYTES:
            return PlainTextResponse("too large", status_code=413)
    import json

    try:
        payload = json.loads(body or b"{}")
    except ValueError:
        return PlainTextResponse("bad request", status_code=400)
    if not isinstance(payload, dict):
        return PlainTextResponse("bad request", status_code=400)
    await services.deliver(channel, payload)
    return JSONResponse({"ok": True})


async def healthz(request: Request) -> Response:
    services: Services = request.app.state.services
    report: dict[str, Any] = {"database": "ok"}
    status = 200
    try:
        async with services.sessions() as session:
            await desk.ping(session=session)
            counts = (await outbox.overview(session=session, failed_limit=0)).counts
        report["outbox"] = {"pending": counts.get("pending", 0), "failed": counts.get("failed", 0)}
    except Exception as exc:  # the point of the check: say so instead of failing
        log.warning("health check: the database does not answer (%s)", exc)
        report["database"] = "unreachable"
        status = 503
    leading = services.leading()
    report["scheduler_leader"] = leading
    return JSONResponse(report, status_code=status)


async def metrics(request: Request) -> Response:
    from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

    services: Services = request.app.state.services
    async with services.sessions() as session:
        counts = (await outbox.overview(session=session, failed_limit=0)).counts
        oldest = await desk.oldest_unacknowledged_urgent(session=session)
    services.metrics.snapshot = {
        "outbox": counts,
        "oldest_urgent_seconds": age_seconds(oldest, services.clock()),
    }
    return Response(generate_latest(services.metrics.registry), media_type=CONTENT_TYPE_LATEST)


async def favicon(request: Request) -> Response:
    return RedirectResponse("/static/favicon.svg", status_code=301)


async def khmer_font(request: Request) -> Response:
    """The Khmer font the charts use, from its package: a browser without one draws Khmer
    as boxes (desk.css asks for it only for Khmer letters)."""
    import fontpkg

    from scheduler.digest import KHMER_FONT

    return FileResponse(
        fontpkg.path(KHMER_FONT),
        media_type="font/ttf",
        headers={"Cache-Control": "public, max-age=604800"},
    )


class Headers(BaseHTTPMiddleware):
    def __init__(self, app: Any, headers: dict[str, str]) -> None:
        super().__init__(app)
        self.headers = headers

    async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
        response = await call_next(request)
        for name, value in self.headers.items():
            response.headers.setdefault(name, value)
        return response


def build_web_app(services: Services) -> Starlette:
    """The whole web server: give it the services and the webhooks' deliver coroutine."""
    from bot.web import admin_pages, case_pages, map_pages, signin

    routes = [
        Route("/telegram", telegram_webhook, methods=["POST"]),
        Route("/zalo", zalo_webhook, methods=["POST"]),
        Route("/healthz", healthz),
        Route("/metrics", metrics),
        *signin.routes(),
        *case_pages.routes(),
        *map_pages.routes(),
        *admin_pages.routes(),
        Route("/fonts/khmer.ttf", khmer_font),
        Route("/favicon.ico", favicon),
        Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
    ]
    app = Starlette(
        routes=routes,
        middleware=[Middleware(Headers, headers=security_headers(services.config.tile_url))],
    )
    app.state.services = services
    app.state.signer = Signer(services.config.secret)
    return app
