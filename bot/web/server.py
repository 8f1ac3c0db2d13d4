"""The web server in the bot process: uvicorn on a socket bound here (a port in use is
logged and the bot runs on without it, instead of uvicorn ending the process)."""

from __future__ import annotations

import asyncio
import logging
import mimetypes
import socket
from collections.abc import Callable
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import httpx
import uvicorn

from bot.web.app import Deliver, Services, WebConfig, build_web_app
from bot.web.metrics import Metrics
from locales import t
from storage import desk
from storage.enums import Channel
from storage.types import utcnow

if TYPE_CHECKING:
    from bot.app import Services as BotServices
    from bot.settings import Settings

log = logging.getLogger(__name__)


class WebServer:
    def __init__(
        self, server: uvicorn.Server, task: asyncio.Task[None], url: str, language: str = "vi"
    ) -> None:
        self.server, self.task, self.url = server, task, url
        self.language = language  # DEFAULT_LANGUAGE: what the admin at the console reads

    async def announce(self, services: BotServices) -> None:
        """The desk's address, and a sign-in link for the first officer (the console demo)."""
        async with services.sessions() as session, session.begin():
            officer = await desk.first_officer(session=session)
            token = (
                await desk.issue_link(session=session, person=officer, now=utcnow())
                if officer
                else None
            )
        print(t(self.language, "cli.web.desk", url=self.url), flush=True)
        if officer is not None and token is not None:
            link = f"{self.url}/login/{token}"
            print(t(self.language, "cli.web.sign_in", officer=officer.full_name, link=link))

    async def stop(self) -> None:
        self.server.should_exit = True
        try:
            await asyncio.wait_for(self.task, timeout=5)
        except (TimeoutError, asyncio.CancelledError):
            self.task.cancel()


def media_fetcher(telegram_bot: Any, http: httpx.AsyncClient | None) -> Callable[..., Any]:
    """A case's file by the id its platform gave: Telegram's through the bot, Zalo's by its
    address."""

    async def fetch(channel: str, file_id: str) -> tuple[bytes, str] | None:
        try:
            if channel == Channel.TELEGRAM and telegram_bot is not None:
                file = await telegram_bot.get_file(file_id)
                content = bytes(await file.download_as_bytearray())
                kind = mimetypes.guess_type(file.file_path or "")[0]
                return content, kind or "application/octet-stream"
            if channel == Channel.ZALO and file_id.startswith("https://"):
                client = http or httpx.AsyncClient(timeout=20)
                response = await client.get(file_id)
                response.raise_for_status()
                kind = response.headers.get("content-type", "application/octet-stream")
                return response.content, kind
        except Exception as exc:  # the page says the file is unavailable
            log.warning("could not fetch a %s file: %s", channel, exc)
        return None

    return fetch


def web_config(settings: Settings) -> WebConfig:
    return WebConfig(
        secret=settings.resolved_secret_key(),
        tip_keys=settings.resolved_tip_keys(),
        public_url=settings.resolved_public_url,
        idle=timedelta(minutes=settings.web_idle_minutes),
        tile_url=settings.map_tile_url,
        default_language=settings.default_language,
        telegram_secret=settings.telegram_webhook_secret if settings.telegram_webhook_url else "",
        zalo_secret=settings.zalo_webhook_secret if settings.zalo_webhook_url else "",
        bot_token=settings.telegram_bot_token,
        invite_ttl_days=settings.invite_ttl_days,
        bot_username=settings.telegram_bot_username.lstrip("@"),
    )


async def start_web(
    settings: Settings,
    services: BotServices,
    *,
    deliver: Deliver,
    metrics: Metrics,
    leading: Callable[[], bool | None],
    telegram_bot: Any = None,
    http: httpx.AsyncClient | None = None,
) -> WebServer | None:
    app = build_web_app(
        Services(
            config=web_config(settings),
            sessions=services.sessions,
            deliver=deliver,
            on_queued=services.dispatcher.wake,
            fetch_media=media_fetcher(telegram_bot, http),
            leading=leading,
            metrics=metrics,
        )
    )
    sock = socket.socket(socket.AF_INET6 if ":" in settings.web_listen else socket.AF_INET)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((settings.web_listen, settings.web_port))
    except OSError as exc:
        sock.close()
        log.error(
            "the web server cannot listen on %s:%s (%s); WEB_PORT sets another port",
            settings.web_listen,
            settings.web_port,
            exc,
        )
        return None
    config = uvicorn.Config(
        app, log_level="warning", lifespan="off", proxy_headers=True, access_log=False
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    log.info("web server on %s:%s", settings.web_listen, settings.web_port)
    return WebServer(server, task, settings.resolved_public_url, settings.default_language)
