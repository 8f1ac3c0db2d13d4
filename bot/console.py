"""A chat in the terminal, as any person of the database, running the same flows."""

from __future__ import annotations

import asyncio
import itertools
import sys
import uuid
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.rendering import numbered_text
from conversations.events import Button, Incoming, MediaIn, Reply
from handlers.router import Router, remember_menu
from locales import t
from locales.text import role_name
from storage import admin, queries
from storage.enums import Channel, Role
from storage.models import Identity, Person


class ConsoleSender:
    """Outbox messages to console chats are printed, so alerts are visible locally, numbered
    as replies are, and the numbers remembered for the chat as on Zalo."""

    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], language: str = "vi", out: Any = None
    ) -> None:
        self.sessions = sessions
        self.language = language
        self.out = out or sys.stdout

    async def send(
        self,
        chat_id: str,
        text: str,
        buttons: list[list[dict[str, Any]]],
        media: tuple[str, str] | None = None,
        ephemeral: bool = False,
    ) -> None:
        reply = Reply(text, [[Button(b["label"], b["data"]) for b in row] for row in buttons])
        image = f"\n   [{media[0]}: {media[1]}]" if media else ""
        body = numbered_text(reply, self.language).replace("\n", "\n   ")
        to = t(self.language, "cli.console.message_for", chat=chat_id)
        print(f"\n📨 ({to}){image}\n   {body}\n", file=self.out)
        await remember_menu(self.sessions, Channel.CONSOLE, chat_id, reply)


async def _people(session: AsyncSession) -> list[Person]:
    order = {
        Role.HAMLET_HEAD: 0,
        Role.TEAM_LEAD: 1,
        Role.TEAM_MEMBER: 2,
        Role.OFFICER: 3,
        Role.ADMIN: 4,
    }
    rows = await admin.staff(session=session) + await admin.named_residents(session=session)
    return sorted(rows, key=lambda p: (order.get(Role(p.role), 9), p.hamlet_id or 0, p.id))


async def _identity(session: AsyncSession, person: Person | None, secret: bytes) -> Identity:
    external = f"person-{person.id}" if person else f"resident-{next(_RESIDENTS)}"
    identity = await queries.find_identity(
        session=session, channel=Channel.CONSOLE, external_id=external
    )
    if identity is None and person is not None:
        identity = await queries.add_identity(
            session=session,
            person_id=person.id,
            channel=Channel.CONSOLE,
            external_id=external,
            chat_id=external,
        )
    return identity or Identity(channel=Channel.CONSOLE, external_id=external, chat_id=external)


_RESIDENTS = itertools.count(1)
_FILES = itertools.count(1)


def _files(reply: Reply) -> list[tuple[str, str, bytes]]:
    found = []
    if reply.photo is not None:
        found.append(("chart", f"chart-{next(_FILES)}.png", reply.photo))
    if reply.document is not None:
        found.append(("file", reply.document[0], reply.document[1]))
    return found


class Console:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        router: Router,
        secret: bytes,
        files: Path,
        language: str = "vi",
    ) -> None:
        self.files = files  # where charts and exports sent to the console are written
        self.sessions = sessions
        self.router = router
        self.secret = secret
        self.language = language

    async def _read(self, prompt: str) -> str | None:
        try:
            return await asyncio.to_thread(input, prompt)
        except EOFError:
            return None

    async def choose_person(self, person_id: str | None) -> Identity | None:
        async with self.sessions() as session, session.begin():
            people = await _people(session)
            if person_id is not None:
                chosen = next((p for p in people if str(p.id) == person_id), None)
                return await _identity(session, chosen, self.secret) if chosen else None
            print("\n" + t(self.language, "console.choose"))
            for i, p in enumerate(people, 1):
                place = (
                    p.hamlet.display_name
                    if p.hamlet
                    else (p.commune.display_name if p.commune else "")
                )
                kind = p.hamlet.label if p.hamlet else None
                print(f"  {i:2}. {p.full_name} — {role_name(self.language, p.role, kind)}, {place}")
            print(f"  {len(people) + 1:2}. {t(self.language, 'console.resident')}")
            while True:
                line = await self._read(t(self.language, "console.number"))
                if line is None or line.strip() in ("!quit", "q"):
                    return None
                if line.strip().isdecimal() and 1 <= int(line) <= len(people) + 1:
                    index = int(line) - 1
                    chosen = people[index] if index < len(people) else None
                    return await _identity(session, chosen, self.secret)
                print(t(self.language, "console.not_in_list"))

    def _event(self, identity: Identity, line: str) -> Incoming:
        base: dict[str, Any] = {
            "channel": Channel.CONSOLE,
            "chat_id": identity.chat_id,
            "user_id": identity.external_id,
            # Random: a key naming the account would tie it to the time of each update.
            "update_key": uuid.uuid4().hex,
        }
        word, _, rest = line.strip().partition(" ")
        if word in ("!photo", "!video", "!voice"):
            kind = word[1:]
            return Incoming(
                **base,
                media=MediaIn(kind, f"console-{kind}-{base['update_key']}", 120_000, rest or None),
            )
        if word == "!location":
            try:
                lat, lon = (float(x) for x in rest.split())
                return Incoming(**base, location=(lat, lon))
            except ValueError:
                print(t(self.language, "cli.console.location_usage"))
        return Incoming(**base, text=line)

    def show(self, replies: list[Reply]) -> None:
        for reply in replies:
            for kind, name, content in _files(reply):
                path = self.files / name
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(content)
                label = t(self.language, f"cli.console.{kind}")  # chart, file
                print(f"\n🤖 [{label}: {path}]")
            print("\n🤖 " + numbered_text(reply, self.language).replace("\n", "\n   "))

    async def run(self, person_id: str | None = None) -> int:
        print(t(self.language, "console.help"))
        identity = await self.choose_person(person_id)
        while identity is not None:
            self.show(
                await self.router.handle(
                    Incoming(
                        Channel.CONSOLE, identity.chat_id, identity.external_id, command="start"
                    )
                )
            )
            while True:
                line = await self._read("\n> ")
                if line is None or line.strip() == "!quit":
                    return 0
                if line.strip() == "!as":
                    identity = await self.choose_person(None)
                    break
                if not line.strip():
                    continue
                self.show(await self.router.handle(self._event(identity, line)))
        return 0
