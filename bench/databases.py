"""Throwaway databases for the benchmarks: made migrated and empty, removed after."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any

from sqlalchemy import text

from storage.db import make_engine, make_sessionmaker, upgrade


async def fresh_db(pg_url: str | None, schema: str = "bench") -> tuple[Any, Any]:
    """A migrated, empty database: a temp SQLite file, or a schema of that name in PostgreSQL."""
    if pg_url:
        admin = make_engine(pg_url)
        async with admin.begin() as conn:
            await conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
            await conn.execute(text(f"CREATE SCHEMA {schema}"))
        await admin.dispose()
        engine = make_engine(
            pg_url,
            connect_args={"server_settings": {"search_path": schema}},
            pool_size=20,
            max_overflow=20,
        )
    else:
        engine = make_engine(f"sqlite+aiosqlite:///{tempfile.mkdtemp()}/bench.db")
    await upgrade(engine)
    return engine, make_sessionmaker(engine)


async def discard(engine: Any, schema: str = "bench") -> None:
    """Close a benchmark database and give its room back: the temp SQLite file's folder, or
    the PostgreSQL schema."""
    if engine.dialect.name == "sqlite":
        await engine.dispose()
        shutil.rmtree(Path(engine.url.database).parent, ignore_errors=True)
        return
    async with engine.begin() as conn:
        await conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
    await engine.dispose()
