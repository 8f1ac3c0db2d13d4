"""Fixtures: a migrated database (SQLite, or PostgreSQL when TEST_DATABASE_URL is set)."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import settings
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.db import make_engine, make_sessionmaker, upgrade
from storage.models import Base

PG_URL = os.environ.get("TEST_DATABASE_URL", "")

# With CI set, the random tests draw the same examples each run, so a landing never depends
# on luck; anywhere else they explore new ones and keep what fails in .hypothesis/.
settings.register_profile("ci", derandomize=True, database=None)
if os.environ.get("CI"):
    settings.load_profile("ci")


@pytest.fixture(scope="session")
def db_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = PG_URL or f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"

    async def migrate() -> None:
        engine = make_engine(url)
        if url.startswith("postgresql"):
            async with engine.begin() as conn:  # a clean slate: earlier runs may have left tables
                await conn.execute(text("DROP SCHEMA public CASCADE"))
                await conn.execute(text("CREATE SCHEMA public"))
        await upgrade(engine)
        await engine.dispose()

    asyncio.run(migrate())
    return url


async def wipe(sessions: async_sessionmaker[AsyncSession], url: str) -> None:
    tables = [t.name for t in reversed(Base.metadata.sorted_tables)]
    async with sessions() as session, session.begin():
        if url.startswith("postgresql"):
            await session.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
        else:
            for name in tables:
                await session.execute(text(f"DELETE FROM {name}"))


@pytest.fixture
async def sessions(db_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = make_engine(db_url)
    maker = make_sessionmaker(engine)
    await wipe(maker, db_url)
    yield maker
    await engine.dispose()


@pytest.fixture
def env(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Settings for code that reads the environment: the test database, a temp data folder."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", db_url)
    monkeypatch.setenv("DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("SECRET_KEY", "test-secret")
    for name in (
        "TELEGRAM_BOT_TOKEN",
        "ZALO_BOT_TOKEN",
        "TELEGRAM_WEBHOOK_URL",
        "TELEGRAM_BOT_USERNAME",
    ):
        monkeypatch.delenv(name, raising=False)
    yield tmp_path


@pytest.fixture
def cli_db(env: Path, db_url: str) -> Path:
    """For tests that drive the command line (its own event loop): an empty database."""

    async def empty() -> None:
        engine = make_engine(db_url)
        await wipe(make_sessionmaker(engine), db_url)
        await engine.dispose()

    asyncio.run(empty())
    return env


class Clock:
    """A clock the tests move by hand: nothing sleeps on the wall clock."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        from datetime import timedelta

        self.now += timedelta(**delta)


@pytest.fixture
def clock() -> Clock:
    # A Thursday evening in Vietnam: 2026-11-19 12:00 UTC is 19:00 in Asia/Ho_Chi_Minh.
    return Clock(datetime(2026, 11, 19, 12, 0, tzinfo=UTC))


@pytest.fixture(scope="module")
def world(db_url: str):
    from tests.test_fuzz import World

    w = World(db_url)
    yield w
    w.loop.run_until_complete(w.engine.dispose())
    w.loop.close()
