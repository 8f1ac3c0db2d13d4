"""Wiring: the database, the engine, the router, the outbox and the channels."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import hashlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any, TypeVar, cast

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.console import Console, ConsoleSender
from bot.ingest import Ingest
from bot.settings import Settings
from bot.web.metrics import CountingSender, Metrics, TimedRouter
from bot.zalo import ZaloClient, ZaloInbox, ZaloSender, ZaloTransport
from conversations.context import EngineConfig
from conversations.engine import Engine
from conversations.flows import all_flows
from handlers.router import Router
from scheduler.dispatcher import Dispatcher, Sender
from scheduler.limits import Limits
from scheduler.service import SchedulerService
from storage import media
from storage.db import MigrationKeys, make_engine, make_sessionmaker, upgrade
from storage.demo import demo_exists, seed_demo
from storage.enums import Channel
from storage.leader import LeaderLock
from storage.retention import Retention

if TYPE_CHECKING:
    from bot.web.server import WebServer

log = logging.getLogger(__name__)


def engine_config(settings: Settings) -> EngineConfig:
    return EngineConfig(
        secret=settings.resolved_secret_key(),
        tip_keys=settings.resolved_tip_keys(),
        timeout=timedelta(minutes=settings.conversation_timeout_minutes),
        max_text=settings.max_text_length,
        max_attachments=settings.max_attachments,
        max_media_bytes=settings.max_media_bytes,
        tips_per_hour=settings.tips_per_hour,
        tip_retention_days=settings.tip_retention_days,
        tips_per_day=settings.tips_per_day,
        default_language=settings.default_language,
        default_timezone=settings.timezone,
        desk_url=settings.resolved_public_url if settings.web_port else "",
    )


def migration_keys(settings: Settings) -> MigrationKeys:
    return MigrationKeys(
        tip_keys=settings.resolved_tip_keys(), secret=settings.resolved_secret_key()
    )


@dataclass
class Services:
    db: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    router: Router
    dispatcher: Dispatcher
    # Where every update goes first; its receive(channel, payload) is for webhooks.
    ingest: Ingest


async def build_services(settings: Settings, senders: dict[str, Sender] | None = None) -> Services:
    """Migrate the database and assemble everything a channel needs."""
    media.use_root(settings.data_dir / media.FOLDER)
    db = make_engine(settings.resolved_database_url)
    await upgrade(db, keys=migration_keys(settings))
    sessions = make_sessionmaker(db)
    dispatcher = Dispatcher(
        sessions,
        senders if senders is not None else {},
        stuck_after=timedelta(seconds=settings.outbox_stuck_seconds),
        engine=db,
    )
    router = Router(
        sessions, Engine(all_flows()), engine_config(settings), on_queued=dispatcher.wake
    )
    ingest = Ingest(
        sessions,
        router,
        on_handed_over=dispatcher.wake,
        lease=timedelta(seconds=settings.inbox_lease_seconds),
    )
    return Services(db, sessions, router, dispatcher, ingest)


def poll_lock(db: AsyncEngine, channel: str, token: str) -> LeaderLock:
    """The lock a worker holds to long-poll a bot token: one poller a token (a second one
    would get 409 Conflict from Telegram, or steal half the updates from Zalo)."""
    digest = hashlib.sha256(f"poll:{channel}:{token}".encode()).digest()
    return LeaderLock(db, int.from_bytes(digest[:8], "big", signed=True), f"{channel} polling")


async def seed_if_empty(services: Services) -> bool:
    async with services.sessions() as session, session.begin():
        if await demo_exists(session):
            return False
        await seed_demo(session)
    return True


def freeze_startup_objects() -> None:
    """Take what start-up made (modules, flows, the application) out of the collector's view.

    A full collection then walks only what came later: its pause drops from about 80 ms to a
    few, which would otherwise hold back the sends queued behind it and land them on Telegram
    closer together than its limit allows, and show in a step's latency."""
    gc.collect()
    gc.freeze()


T = TypeVar("T")
START_ATTEMPTS = 8


async def until_reached(what: str, call: Callable[[], Awaitable[T]]) -> T:
    """A start-up call to a platform, tried again through network errors, 5xx and 429 with a
    growing pause, each failure logged in one line. A rejected token is not retried."""
    from telegram.error import InvalidToken, NetworkError, RetryAfter

    delay = 1.0
    for _ in range(START_ATTEMPTS - 1):
        try:
            return await call()
        except InvalidToken:
            raise
        except (NetworkError, RetryAfter) as exc:  # TimedOut and BadGateway are NetworkErrors
            wait = exc.retry_after if isinstance(exc, RetryAfter) else delay
            seconds = wait.total_seconds() if isinstance(wait, timedelta) else float(wait)
            log.warning("%s failed (%s); trying again in %.0f s", what, exc, seconds)
            await asyncio.sleep(seconds)
            delay = min(60.0, delay * 2)
    return await call()


async def run_bot(
    settings: Settings,
    *,
    console: bool = False,
    person_id: str | None = None,
    worker: bool = False,
) -> int:
    """The bot until interrupted. A worker started by `--workers` serves no web server (the
    first process serves the desk and the webhooks) and never opens the console chat."""
    from locales import t

    services = await build_services(settings)
    if not worker and settings.seed_demo_on_first_run and await seed_if_empty(services):
        print(t(settings.default_language, "cli.demo.first_run"))
    tasks: list[asyncio.Task[object]] = []  # the pollers
    locks: list[LeaderLock] = []
    processing: asyncio.Task[None] | None = None
    telegram_app = None
    schedules: SchedulerService | None = None
    zalo = None
    outbox: asyncio.Task[None] | None = None
    web: WebServer | None = None
    metrics = Metrics()
    router = cast(Router, TimedRouter(services.router, metrics))
    services.ingest.router = router
    try:
        if settings.telegram_bot_token:
            from bot.telegram import (
                TelegramInbox,
                TelegramPoller,
                TelegramSender,
                build_application,
                set_commands,
            )

            telegram_app = build_application(
                settings.telegram_bot_token, settings.telegram_api_base_url, router
            )
            await until_reached("Telegram getMe", telegram_app.initialize)
            services.dispatcher.senders[Channel.TELEGRAM] = TelegramSender(telegram_app.bot)
            services.ingest.channels[Channel.TELEGRAM] = TelegramInbox(telegram_app.bot)
            bot = telegram_app.bot
            await until_reached(
                "Telegram setMyCommands", lambda: set_commands(bot, settings.default_language)
            )
            await telegram_app.start()
            if settings.telegram_webhook_url and worker:
                pass  # the first process serves the webhook
            elif settings.telegram_webhook_url:  # served by the web server, at /telegram
                await until_reached(
                    "Telegram setWebhook",
                    lambda: bot.set_webhook(
                        settings.telegram_webhook_url,
                        secret_token=settings.telegram_webhook_secret,
                    ),
                )
            else:
                lock = poll_lock(services.db, Channel.TELEGRAM, settings.telegram_bot_token)
                locks.append(lock)
                poller = TelegramPoller(bot, services.ingest.take, lock)
                tasks.append(asyncio.create_task(poller.run()))
            log.info(
                "Telegram channel running (%s)",
                "webhook" if settings.telegram_webhook_url else "long polling",
            )
        if settings.zalo_bot_token:
            zalo = await start_zalo(settings, services, tasks, locks, router, serve=not worker)
        processing = asyncio.create_task(services.ingest.run_forever())
        services.dispatcher.senders[Channel.CONSOLE] = ConsoleSender(
            services.sessions, settings.default_language
        )
        services.dispatcher.limits[Channel.CONSOLE] = Limits(1000, 0, 1000)
        services.dispatcher.senders = {
            channel: CountingSender(sender, channel, metrics)
            for channel, sender in services.dispatcher.senders.items()
        }
        outbox = asyncio.create_task(services.dispatcher.run_forever())
        schedules = SchedulerService(
            services.db,
            services.sessions,
            settings.data_dir / "digests",
            settings.default_language,
            on_queued=services.dispatcher.wake,
            retention_days=settings.tip_retention_days,
            alert_repeat=timedelta(minutes=settings.alert_repeat_minutes),
            keep=Retention(
                sent_messages_days=settings.sent_message_retention_days,
                drafts_days=settings.draft_retention_days,
                update_ids_days=settings.update_id_retention_days,
                incident_names_days=settings.incident_name_retention_days,
                digest_images_days=settings.digest_image_retention_days,
            ),
        )
        await schedules.start()
        if settings.web_port and not worker:
            from bot.web.server import start_web

            web = await start_web(
                settings,
                services,
                deliver=services.ingest.receive,
                metrics=metrics,
                leading=lambda: schedules.leading if schedules is not None else None,
                telegram_bot=telegram_app.bot if telegram_app is not None else None,
                http=zalo.http if zalo is not None else None,
            )
        freeze_startup_objects()
        if not worker and (console or not (settings.telegram_bot_token or settings.zalo_bot_token)):
            if web is not None:
                await web.announce(services)
            chat = Console(
                services.sessions,
                router,
                settings.resolved_secret_key(),
                settings.data_dir / "console",
                settings.default_language,
            )
            return await chat.run(person_id)
        await asyncio.Event().wait()  # serve until interrupted
        return 0
    finally:
        for task in tasks:  # no more polling: what was fetched is in the inbox
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        for lock in locks:
            await lock.release()
        if web is not None:
            await web.stop()
        if schedules is not None:
            await schedules.stop()
        services.ingest.stop()
        if processing is not None:  # the batches under way finish; the rest waits in the inbox
            await asyncio.wait([processing], timeout=10)
        services.dispatcher.stop()
        if outbox is not None:  # the pass under way finishes
            await asyncio.wait([outbox], timeout=10)
        for loop in (processing, outbox):
            if loop is not None and not loop.done():
                loop.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await loop
        if zalo is not None:
            await zalo.close()
        if telegram_app is not None:
            if telegram_app.updater and telegram_app.updater.running:
                await telegram_app.updater.stop()
            if telegram_app.running:  # not when the start itself failed
                await telegram_app.stop()
            await telegram_app.shutdown()
        await services.db.dispose()


async def start_zalo(
    settings: Settings,
    services: Services,
    tasks: list[asyncio.Task[object]],
    locks: list[LeaderLock],
    router: Any,
    *,
    serve: bool = True,
) -> ZaloClient:
    """The Zalo channel: a webhook when a public address is set, long polling otherwise."""
    client = ZaloClient(settings.zalo_bot_token, settings.zalo_api_base_url)
    store = media.MediaStore(
        settings.data_dir / media.FOLDER, settings.max_media_bytes, client.http
    )
    transport = ZaloTransport(
        client, router, settings.default_language, store, take=services.ingest.take
    )
    services.ingest.channels[Channel.ZALO] = ZaloInbox(client, settings.default_language, store)
    services.dispatcher.senders[Channel.ZALO] = ZaloSender(
        client, services.sessions, settings.default_language
    )
    services.dispatcher.limits[Channel.ZALO] = Limits(
        settings.zalo_messages_per_second, settings.zalo_chat_interval_seconds, 20
    )
    if settings.zalo_webhook_url and not serve:
        log.info("Zalo channel running (the first process serves the webhook)")
    elif settings.zalo_webhook_url:  # served by the web server, at /zalo
        await client.call(
            "setWebhook",
            {"url": settings.zalo_webhook_url, "secret_token": settings.zalo_webhook_secret},
        )
        log.info("Zalo channel running (webhook)")
    else:
        lock = poll_lock(services.db, Channel.ZALO, settings.zalo_bot_token)
        locks.append(lock)
        tasks.append(asyncio.create_task(transport.poll(lock=lock)))
        log.info("Zalo channel running (long polling)")
    return client
