"""The per-update statements run on sqlite3 itself, when the session is on the inline engine.

SQLAlchemy spends more on each statement it runs (its execution context, events, the result
object, a greenlet hand-off) than SQLite spends running it: about forty percent of an
update's own time in a sampling profile. The three statements every update runs are
compiled once here, with SQLAlchemy's own parameter and result conversions taken from the
compiled form, so values are stored exactly as the ORM stores them, and run on the session's
sqlite3 connection. sqlite3 opens the transaction itself before the first write; the session's
commit or rollback ends it, with everything the ORM wrote in it.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql import ClauseElement


class Prepared:
    """A statement compiled for one dialect: its SQL, and the conversions on the way in
    and out, in positional order."""

    def __init__(self, statement: ClauseElement, dialect: Dialect) -> None:
        compiled: Any = statement.compile(dialect=dialect)
        self.sql: str = compiled.string
        self.names: list[str] = list(compiled.positiontup or ())
        # Values the statement holds itself (the 1 of "version + 1").
        self.fixed = {n: compiled.binds[n].value for n in self.names}
        into = compiled._bind_processors
        self.into: list[Callable[[Any], Any] | None] = [into.get(n) for n in self.names]
        self.out: list[Callable[[Any], Any] | None] = [
            type_._cached_result_processor(dialect, None) for *_, type_ in compiled._result_columns
        ]

    def params(self, values: Mapping[str, Any]) -> list[Any]:
        given = [values.get(n, self.fixed[n]) for n in self.names]
        return [f(v) if f else v for v, f in zip(given, self.into, strict=True)]

    def run(self, db: sqlite3.Connection, values: Mapping[str, Any]) -> sqlite3.Cursor:
        """Executed; sqlite3's errors raised as SQLAlchemy's, as the session would raise
        them (a locked database, a conflict), so that callers handle one kind."""
        try:
            return db.execute(self.sql, self.params(values))
        except sqlite3.Error as exc:
            raise DBAPIError.instance(
                self.sql, None, exc, sqlite3.Error, hide_parameters=True
            ) from exc

    def row(self, raw: Sequence[Any] | None) -> list[Any] | None:
        if raw is None:
            return None
        return [f(v) if f else v for f, v in zip(self.out, raw, strict=True)]


_prepared: dict[tuple[int, type], Prepared] = {}


def prepared(statement: ClauseElement, dialect: Dialect) -> Prepared:
    key = (id(statement), type(dialect))  # module-level statements: they live as long
    found = _prepared.get(key)
    if found is None:
        found = _prepared[key] = Prepared(statement, dialect)
    return found


async def sqlite3_of(session: AsyncSession) -> tuple[sqlite3.Connection, Dialect] | None:
    """The session's own sqlite3 connection, if it is on the inline engine; else None."""
    known = session.info.get("sqlite3")
    if known is not None:
        return known
    bind = session.bind
    if bind is None or bind.dialect.driver != "inline":
        return None
    connection = await session.connection()
    raw = await connection.get_raw_connection()
    found = (raw.driver_connection, bind.dialect)
    session.info["sqlite3"] = found
    return found  # type: ignore[return-value]
