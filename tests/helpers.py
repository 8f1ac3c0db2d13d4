"""Driving the router as a chat would, and a small commune to drive it in."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from conversations.context import EngineConfig
from conversations.engine import Engine
from conversations.events import Button, Incoming, MediaIn, Reply
from conversations.flows import all_flows
from handlers.router import Router
from storage import admin
from storage.enums import Role, TeamKind
from storage.keyring import Keyring
from storage.models import Identity, Person

SECRET = b"test-secret"
TIP_KEYS = Keyring((b"test tip key, not for production",))
_updates = itertools.count(1000)


def make_router(sessions: async_sessionmaker[AsyncSession], clock: Any, **config: Any) -> Router:
    return Router(
        sessions,
        Engine(all_flows()),
        EngineConfig(secret=SECRET, tip_keys=TIP_KEYS, **config),
        clock=clock,
    )


@dataclass
class Chat:
    router: Router
    chat_id: str
    user_id: str | None = None
    channel: str = "telegram"
    private: bool = True
    last: list[Reply] | None = None

    async def send(self, **fields: Any) -> list[Reply]:
        fields.setdefault("update_key", str(next(_updates)))
        event = Incoming(
            channel=self.channel,
            chat_id=self.chat_id,
            user_id=self.user_id or self.chat_id,
            private=self.private,
            **fields,
        )
        self.last = await self.router.handle(event)
        return self.last

    async def say(self, text: str) -> list[Reply]:
        return await self.send(text=text)

    async def command(self, name: str, args: str = "") -> list[Reply]:
        return await self.send(command=name, args=args)

    def button(self, label_part: str) -> Button:
        assert self.last, "no reply yet"
        buttons = [b for r in self.last for b in r.flat_buttons()]
        found = [b for b in buttons if label_part.casefold() in b.label.casefold()]
        assert found, f"no button with {label_part!r} in {[b.label for b in buttons]}"
        return found[0]

    async def tap(self, label_part: str) -> list[Reply]:
        return await self.send(callback=self.button(label_part).data)

    async def photo(self, n: int = 1, kind: str = "photo", size: int = 50_000) -> list[Reply]:
        return await self.send(media=MediaIn(kind, f"{kind}-{n}-{next(_updates)}", size))

    async def report_incident(
        self, category: str, what: str, severity: str = "Bình thường"
    ) -> list[Reply]:
        """The whole incident flow by buttons: now, in the reporter's hamlet, no photos."""
        await self.command("start")
        for step in ("Báo vụ việc", category, "Vừa xong", "Tại Thôn"):
            await self.tap(step)
        await self.say(what)
        await self.tap("Không có ảnh")
        await self.tap(severity)
        return await self.tap("Gửi")

    @property
    def text(self) -> str:
        return "\n".join(r.text for r in self.last or [])


@dataclass
class Commune:
    id: int
    hamlet_id: int
    head: int
    member: int
    officer: int


async def make_commune(
    sessions: async_sessionmaker[AsyncSession],
    name: str = "Tân Hòa",
    province: str = "Đồng Nai",
    prefix: str = "",
) -> Commune:
    async with sessions() as session, session.begin():
        commune = await admin.create_commune(
            session, province=province, name=name, hamlets=["Phú Mỹ", "An Lạc"]
        )
        commune.created_at = datetime(2026, 1, 1, tzinfo=UTC)  # set up long before the tests
        hamlet = next(h for h in commune.hamlets if h.name == "Phú Mỹ")
        hamlet.households = 400
        team = await admin.add_team(session, hamlet, "Tổ bảo vệ ANTT", TeamKind.SECURITY)
        head = await admin.add_person(
            session,
            commune=commune,
            full_name="Nguyễn Văn Hùng",
            role=Role.HAMLET_HEAD,
            hamlet=hamlet,
            title="ông",
        )
        member = await admin.add_person(
            session,
            commune=commune,
            full_name="Lê Thị Thu",
            role=Role.TEAM_MEMBER,
            hamlet=hamlet,
            team=team,
        )
        officer = await admin.add_person(
            session, commune=commune, full_name="Trần Quốc Tuấn", role=Role.OFFICER, title="anh"
        )
        for person, chat in ((head, "head"), (member, "member"), (officer, "officer")):
            await link(session, person, f"{prefix}{chat}")
        return Commune(commune.id, hamlet.id, head.id, member.id, officer.id)


async def link(
    session: AsyncSession, person: Person, chat_id: str, channel: str = "telegram"
) -> Identity:
    identity = Identity(
        person_id=person.id,
        channel=channel,
        external_id=chat_id,
        chat_id=chat_id,
    )
    session.add(identity)
    await session.flush()
    return identity
