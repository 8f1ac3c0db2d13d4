"""Migrations build the model's schema, the same on SQLite and PostgreSQL."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection

from storage.db import downgrade, make_engine, upgrade
from storage.models import Base

PG_URL = os.environ.get("TEST_DATABASE_URL", "")
needs_pg = pytest.mark.skipif(
    not PG_URL, reason="compares with PostgreSQL: set TEST_DATABASE_URL (.ci/run does)"
)


def _diff(conn: Connection) -> list[Any]:
    return compare_metadata(
        MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata
    )


def _shape(conn: Connection) -> dict[str, Any]:
    """Tables, columns (name, generic type, nullability), indexes, uniques and foreign keys."""
    insp = inspect(conn)
    shape: dict[str, Any] = {}
    for table in sorted(insp.get_table_names()):
        if table == "alembic_version":
            continue
        columns = {
            c["name"]: (c["type"]._type_affinity.__name__, c["nullable"])
            for c in insp.get_columns(table)
        }
        shape[table] = {
            "columns": columns,
            "indexes": sorted(
                (i["name"], tuple(i["column_names"]), bool(i["unique"]))
                for i in insp.get_indexes(table)
                if not i.get("duplicates_constraint")
            ),  # PG lists uniques twice
            "unique": sorted(tuple(u["column_names"]) for u in insp.get_unique_constraints(table)),
            "fks": sorted(
                (tuple(f["constrained_columns"]), f["referred_table"])
                for f in insp.get_foreign_keys(table)
            ),
            "pk": tuple(insp.get_pk_constraint(table)["constrained_columns"]),
        }
    return shape


async def _migrated_shape(url: str, **engine_args: Any) -> dict[str, Any]:
    engine = make_engine(url, **engine_args)
    try:
        await upgrade(engine)
        async with engine.connect() as conn:
            assert await conn.run_sync(_diff) == [], "the migrations and the model differ"
            return await conn.run_sync(_shape)
    finally:
        await engine.dispose()


async def test_migrations_match_the_model_on_sqlite(tmp_path: Path):
    shape = await _migrated_shape(f"sqlite+aiosqlite:///{tmp_path / 'a.db'}")
    assert {"incidents", "tips", "weekly_reports", "outbox", "conversations"} <= set(shape)


async def test_downgrade_to_nothing_and_back(tmp_path: Path):
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'b.db'}")
    await upgrade(engine)
    await downgrade(engine, "base")
    async with engine.connect() as conn:
        assert await conn.run_sync(lambda c: inspect(c).get_table_names()) == ["alembic_version"]
    await upgrade(engine)
    await engine.dispose()


@needs_pg
async def test_sqlite_and_postgresql_schemas_are_the_same(tmp_path: Path):
    admin = make_engine(PG_URL)
    async with admin.begin() as conn:
        await conn.execute(text("DROP SCHEMA IF EXISTS schema_check CASCADE"))
        await conn.execute(text("CREATE SCHEMA schema_check"))
    try:
        pg = await _migrated_shape(
            PG_URL, connect_args={"server_settings": {"search_path": "schema_check"}}
        )
        lite = await _migrated_shape(f"sqlite+aiosqlite:///{tmp_path / 'c.db'}")
        assert pg == lite
    finally:
        async with admin.begin() as conn:
            await conn.execute(text("DROP SCHEMA IF EXISTS schema_check CASCADE"))
        await admin.dispose()
