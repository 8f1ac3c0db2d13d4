"""What a step sees: the session, the person, the event, the clock and the language."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cached_property
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from conversations.events import Button, Incoming, has_buttons
from locales import t, wording
from locales.text import address_of, first_upper, role_name
from storage.enums import COMMUNE_ROLES
from storage.identity import pseudonym
from storage.keyring import Keyring
from storage.models import Identity, Person
from storage.outbox import enqueue


@dataclass(frozen=True)
class EngineConfig:
    secret: bytes  # keys the tipsters' pseudonyms and the hashes of tip codes
    tip_keys: Keyring  # seals the way back to tipsters (storage.way_back)
    timeout: timedelta = timedelta(minutes=30)
    max_text: int = 4000
    max_attachments: int = 10
    max_media_bytes: int = 20 * 1024 * 1024
    tip_retention_days: int = 365  # said in the notice on personal data
    tips_per_hour: int = 5  # tips and additions one sender may send
    tips_per_day: int = 20
    default_language: str = "vi"
    default_timezone: str = "Asia/Ho_Chi_Minh"
    desk_url: str = ""  # the web desk's public address, for /web's sign-in links


class Notifying:
    """Queues messages to other chats in the transaction of its session: a chat's Ctx, and
    the web desk's request."""

    session: AsyncSession
    now: datetime
    queued: int

    async def notify(
        self,
        channel: str,
        chat_id: str,
        text: str,
        *,
        buttons: list[list[Button]] | None = None,
        purpose: str = "notice",
        commune_id: int | None = None,
        ephemeral: bool = False,
    ) -> None:
        """Queue a message to another chat, in this transaction (see storage.outbox);
        ephemeral for a tipster's chat: the row is deleted once sent or given up."""
        rows = [[{"label": b.label, "data": b.data} for b in row] for row in buttons or []]
        await enqueue(
            self.session,
            channel=channel,
            chat_id=chat_id,
            text=text,
            buttons=rows,
            purpose=purpose,
            commune_id=commune_id,
            now=self.now,
            ephemeral=ephemeral,
        )
        self.queued += 1


@dataclass
class Ctx(Notifying):
    session: AsyncSession
    event: Incoming
    person: Person
    identity: Identity
    config: EngineConfig
    now: datetime
    queued: int = field(default=0)  # outbox rows written in this transaction

    @cached_property
    def pseudonym(self) -> str:
        """The sender's "my tips" key, computed from their account on every update: it is
        stored on their tips and nowhere beside the account."""
        return pseudonym(self.config.secret, self.identity.channel, self.identity.external_id)

    @property
    def lang(self) -> str:
        return self.person.language or self.config.default_language

    @property
    def tz(self) -> ZoneInfo:
        commune = self.person.commune
        return ZoneInfo(commune.timezone if commune else self.config.default_timezone)

    def t(self, key: str, **values: Any) -> str:
        """key in the person's language, worded for the channel of this chat: a message for
        another chat (ctx.notify) must not use a key that has a "_typed" variant."""
        values = {"address": self.address, "Address": first_upper(self.address), **values}
        return t(self.lang, wording(self.lang, key, buttons=self.shows_buttons), **values)

    @property
    def shows_buttons(self) -> bool:
        """Whether this chat shows buttons; without them choices are typed numbers."""
        return has_buttons(self.event.channel)

    @property
    def address(self) -> str:
        """How the bot addresses the person in mid-sentence: "ông Hùng", "anh Khánh", or
        "ông/bà" for someone unknown. Every ctx.t text may write {address}, or {Address} where
        a sentence starts."""
        return address_of(self.lang, self.person.title, self.person.full_name)

    @property
    def is_officer(self) -> bool:
        """An officer or admin: their menu is cases and statistics, not reports."""
        return self.person.role in COMMUNE_ROLES

    def role_name(self, person: Person | None = None) -> str:
        """A person's role in words, a hamlet head's by their hamlet's kind ("trưởng ấp")."""
        person = person or self.person
        kind = person.hamlet.label if person.hamlet is not None else None
        return role_name(self.lang, person.role, kind)

    def media_words(self, types: Iterable[str]) -> str:
        """Files counted by their kind, as a person says it: "1 ảnh, 2 ghi âm"."""
        counts: dict[str, int] = {}
        for kind in types:
            counts[kind] = counts.get(kind, 0) + 1
        return ", ".join(f"{n} {self.t('media.type.' + kind)}" for kind, n in counts.items())

    def local(self, when: datetime) -> datetime:
        return when.astimezone(self.tz)
