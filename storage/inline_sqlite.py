"""SQLite on the event loop's own thread, for the per-update transaction.

aiosqlite runs every statement on a thread of its own and hands each result back: on a
loaded machine half of an update's time went to those hand-offs (about twelve a step), far
more than the statements themselves (tens of microseconds each on a file in WAL mode).
This dialect is SQLAlchemy's own pysqlite one (the standard `sqlite3` module) declared
asynchronous, so that the asyncio layer accepts it, while each statement runs where it is
called. SQLAlchemy ships no such dialect, hence these few lines.

Only short work belongs here: the event loop waits while a statement runs. Long reads
(digests, exports) keep to the aiosqlite engine (storage.db.lean_sessions).
"""

from __future__ import annotations

import sqlite3
from typing import Any

from sqlalchemy import pool
from sqlalchemy.dialects import registry
from sqlalchemy.dialects.sqlite.pysqlite import SQLiteDialect_pysqlite
from sqlalchemy.engine import URL


class _Cursor(sqlite3.Cursor):
    async def _async_soft_close(self) -> None:  # what the asyncio layer calls on every result
        return None


class _Connection(sqlite3.Connection):
    def cursor(self, factory: Any = _Cursor) -> Any:
        return super().cursor(factory)


class InlineSQLiteDialect(SQLiteDialect_pysqlite):
    driver = "inline"
    is_async = True
    supports_statement_cache = True

    def connect(self, *cargs: Any, **cparams: Any) -> Any:
        return super().connect(*cargs, factory=_Connection, **cparams)

    @classmethod
    def get_pool_class(cls, url: URL) -> type[pool.Pool]:
        return pool.AsyncAdaptedQueuePool if cls._is_url_file_db(url) else pool.StaticPool


registry.register("sqlite.inline", __name__, "InlineSQLiteDialect")
