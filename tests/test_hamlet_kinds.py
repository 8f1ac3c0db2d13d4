"""Hamlet kinds: a known list checked on input, read from a name that starts with one, and
migration 0013 giving the hamlets already stored the kind their names say."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.cli import main
from storage import admin
from storage.db import downgrade, make_engine, upgrade
from storage.hamlet_kinds import UnknownKind, checked, split_name

PG_URL = os.environ.get("TEST_DATABASE_URL", "")


@pytest.mark.parametrize(
    ("typed", "kind"),
    [("ấp", "ấp"), ("Ap", "ấp"), ("TỔ DÂN PHỐ", "tổ dân phố"), ("to dan pho", "tổ dân phố")],
)
def test_a_kind_is_read_in_any_case_with_or_without_diacritics(typed, kind):
    assert checked(typed) == kind


def test_a_kind_outside_the_list_is_refused():
    with pytest.raises(UnknownKind):
        checked("thị trấn")


def test_a_name_that_starts_with_its_kind_gives_the_kind():
    assert split_name("Ấp Vĩnh Phú") == ("ấp", "Vĩnh Phú")
    assert split_name("Khu phố 3") == ("khu phố", "3")  # the longer kind, not "khu"
    assert split_name("Tổ dân phố số 5") == ("tổ dân phố", "số 5")
    assert split_name("Phú Mỹ") == (None, "Phú Mỹ")
    assert split_name("Ấp") == (None, "Ấp")  # a kind and nothing after it is a name


async def test_adding_a_hamlet_checks_its_kind_and_reads_it_from_the_name(sessions):
    async with sessions() as session, session.begin():
        commune = await admin.create_commune(session, province="Trà Vinh", name="Long Hòa")
        typed = await admin.add_hamlet(session, commune, "Vĩnh Phú", "Ap")
        named = await admin.add_hamlet(session, commune, "Sóc Ruộng")
        with pytest.raises(admin.AdminError, match="Không có loại khu dân cư «làng xã»"):
            await admin.add_hamlet(session, commune, "Bến Cát", "làng xã")
    assert (typed.label, typed.name, typed.display_name) == ("ấp", "Vĩnh Phú", "ấp Vĩnh Phú")
    assert (named.label, named.name, named.display_name) == ("sóc", "Ruộng", "sóc Ruộng")


def test_the_command_line_refuses_an_unknown_kind_in_one_line(cli_db, capsys):
    assert main(["commune", "add", "--province", "Trà Vinh", "--name", "Long Hòa"]) == 0
    capsys.readouterr()
    code = main(["hamlet", "add", "--commune", "Long Hòa", "--label", "xa lo", "Vĩnh Phú"])
    err = capsys.readouterr().err
    assert code == 1 and "Không có loại khu dân cư «xa lo»" in err and "ấp" in err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1


HAMLETS = sa.table(
    "hamlets",
    sa.column("id", sa.Integer),
    sa.column("commune_id", sa.Integer),
    sa.column("name", sa.String),
    sa.column("label", sa.String),
)


async def _migrates(engine: AsyncEngine) -> None:
    await upgrade(engine, "0012")
    async with engine.begin() as conn:
        await conn.execute(
            text("INSERT INTO provinces (id, name, label) VALUES (1, 'Đồng Nai', 'tỉnh')")
        )
        await conn.execute(
            text(
                "INSERT INTO communes (id, province_id, name, label, timezone, created_at) "
                "VALUES (1, 1, 'Tân Hòa', 'xã', 'Asia/Ho_Chi_Minh', CURRENT_TIMESTAMP)"
            )
        )
        await conn.execute(
            HAMLETS.insert(),
            [
                {"id": 1, "commune_id": 1, "name": "Ấp Vĩnh Phú", "label": "thôn"},
                {"id": 2, "commune_id": 1, "name": "Tổ dân phố 3", "label": "thôn"},
                {"id": 3, "commune_id": 1, "name": "Phú Mỹ", "label": "Ap"},
                {"id": 4, "commune_id": 1, "name": "Long Thạnh", "label": "thôn"},
                # "Ấp An Lạc" would become "An Lạc", which another hamlet already is.
                {"id": 5, "commune_id": 1, "name": "An Lạc", "label": "ấp"},
                {"id": 6, "commune_id": 1, "name": "Ấp An Lạc", "label": "thôn"},
                {"id": 7, "commune_id": 1, "name": "Đông", "label": "thị trấn"},
            ],
        )
    await upgrade(engine)
    async with engine.connect() as conn:
        rows = (
            await conn.execute(
                sa.select(HAMLETS.c.id, HAMLETS.c.label, HAMLETS.c.name).order_by(HAMLETS.c.id)
            )
        ).all()
    assert [tuple(r) for r in rows] == [
        (1, "ấp", "Vĩnh Phú"),
        (2, "tổ dân phố", "3"),
        (3, "ấp", "Phú Mỹ"),
        (4, "thôn", "Long Thạnh"),
        (5, "ấp", "An Lạc"),
        (6, "thôn", "Ấp An Lạc"),  # kept whole: no two hamlets of a commune share a name
        (7, "thị trấn", "Đông"),  # no known kind: left for an admin to correct
    ]
    await downgrade(engine, "0012")


async def test_migration_0013_reads_the_kind_from_the_name_on_sqlite(tmp_path: Path):
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'k.db'}")
    try:
        await _migrates(engine)
    finally:
        await engine.dispose()


@pytest.mark.skipif(not PG_URL, reason="PostgreSQL: set TEST_DATABASE_URL")
async def test_migration_0013_reads_the_kind_from_the_name_on_postgresql():
    admin_engine = make_engine(PG_URL)
    async with admin_engine.begin() as conn:
        await conn.execute(text("DROP SCHEMA IF EXISTS kinds_check CASCADE"))
        await conn.execute(text("CREATE SCHEMA kinds_check"))
    engine = make_engine(PG_URL, connect_args={"server_settings": {"search_path": "kinds_check"}})
    try:
        await _migrates(engine)
    finally:
        await engine.dispose()
        async with admin_engine.begin() as conn:
            await conn.execute(text("DROP SCHEMA IF EXISTS kinds_check CASCADE"))
        await admin_engine.dispose()
