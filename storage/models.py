"""The data model: the administrative hierarchy, people, reports, and the bot's own state."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from locales.text import lower_first
from storage.enums import Status
from storage.types import UTCDateTime, utcday, utcnow

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def unit_word(label: str) -> str:
    """A unit's word in lower case, as within a sentence; "TP." and the like as they are."""
    return label if label[1:2].isupper() else lower_first(label)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UTCDateTime(),
        dict[str, Any]: JSON(),
        list[Any]: JSON(),
    }


def _now() -> Mapped[datetime]:
    return mapped_column(default=utcnow)


def _today() -> Mapped[datetime]:
    return mapped_column(default=utcday)


# --- administrative units -------------------------------------------------------------


class Province(Base):
    __tablename__ = "provinces"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    label: Mapped[str] = mapped_column(String(40), default="tỉnh")  # tỉnh / thành phố


class District(Base):
    """The abolished district level, kept only for imports of older data."""

    __tablename__ = "districts"
    __table_args__ = (UniqueConstraint("province_id", "name"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    province_id: Mapped[int] = mapped_column(ForeignKey("provinces.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(120))
    label: Mapped[str] = mapped_column(String(40), default="huyện")


class Commune(Base):
    __tablename__ = "communes"
    __table_args__ = (UniqueConstraint("province_id", "name"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    province_id: Mapped[int] = mapped_column(ForeignKey("provinces.id", ondelete="RESTRICT"))
    district_id: Mapped[int | None] = mapped_column(
        ForeignKey("districts.id", ondelete="SET NULL"), default=None
    )
    name: Mapped[str] = mapped_column(String(120))
    label: Mapped[str] = mapped_column(String(40), default="xã")  # xã / phường / đặc khu
    timezone: Mapped[str] = mapped_column(String(64), default="Asia/Ho_Chi_Minh")
    created_at: Mapped[datetime] = _now()
    # The share of households signed that counts as "signed" in the criteria: 100% by the
    # residential-area standard; some provinces call 90% a success.
    commitment_threshold: Mapped[float] = mapped_column(Float, default=100.0, server_default="100")

    province: Mapped[Province] = relationship(lazy="joined")
    # Loaded only when asked for (selectinload): a person's every update touches the commune.
    hamlets: Mapped[list[Hamlet]] = relationship(
        back_populates="commune", order_by="Hamlet.name", lazy="raise"
    )

    @property
    def display_name(self) -> str:
        """As written within a sentence: "xã Tân Hòa" ({Commune} starts one: "Xã Tân Hòa"),
        however the label was typed ("Phường" too); an abbreviation ("TP.") is kept."""
        return f"{unit_word(self.label)} {self.name}"


class Hamlet(Base):
    __tablename__ = "hamlets"
    __table_args__ = (UniqueConstraint("commune_id", "name"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    commune_id: Mapped[int] = mapped_column(
        ForeignKey("communes.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(120))
    # Its kind: thôn, ấp, tổ dân phố… one of storage.hamlet_kinds.KINDS, checked on input.
    label: Mapped[str] = mapped_column(String(40), default="thôn")
    households: Mapped[int | None] = mapped_column(Integer, default=None)

    commune: Mapped[Commune] = relationship(back_populates="hamlets")

    @property
    def display_name(self) -> str:
        """As written within a sentence: "xã Tân Hòa" ({Commune} starts one: "Xã Tân Hòa"),
        however the label was typed ("Phường" too); an abbreviation ("TP.") is kept."""
        return f"{unit_word(self.label)} {self.name}"


class Team(Base):
    __tablename__ = "teams"
    __table_args__ = (UniqueConstraint("hamlet_id", "name"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    hamlet_id: Mapped[int] = mapped_column(ForeignKey("hamlets.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(160))
    kind: Mapped[str] = mapped_column(String(32))


# --- people ---------------------------------------------------------------------------


class Person(Base):
    __tablename__ = "people"
    id: Mapped[int] = mapped_column(primary_key=True)
    full_name: Mapped[str | None] = mapped_column(String(160), default=None)
    role: Mapped[str] = mapped_column(String(32), index=True)
    commune_id: Mapped[int | None] = mapped_column(
        ForeignKey("communes.id", ondelete="CASCADE"), index=True, default=None
    )
    hamlet_id: Mapped[int | None] = mapped_column(
        ForeignKey("hamlets.id", ondelete="SET NULL"), index=True, default=None
    )
    team_id: Mapped[int | None] = mapped_column(
        ForeignKey("teams.id", ondelete="SET NULL"), default=None
    )
    phone: Mapped[str | None] = mapped_column(String(32), default=None)
    title: Mapped[str | None] = mapped_column(String(16), default=None)  # ông / bà / anh / chị
    language: Mapped[str] = mapped_column(String(16), default="vi")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = _today()  # a resident's first contact may be a tip's time

    hamlet: Mapped[Hamlet | None] = relationship(lazy="joined")
    commune: Mapped[Commune | None] = relationship(lazy="joined")
    identities: Mapped[list[Identity]] = relationship(back_populates="person", lazy="raise")


class Identity(Base):
    """A chat account (Telegram or Zalo user) linked to a person; a person may have several."""

    __tablename__ = "identities"
    __table_args__ = (UniqueConstraint("channel", "external_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    channel: Mapped[str] = mapped_column(String(16))
    external_id: Mapped[str] = mapped_column(String(64))
    chat_id: Mapped[str] = mapped_column(String(64))
    # Both to the day: a row naming an account carries no time a tip could be matched to.
    blocked_at: Mapped[datetime | None] = mapped_column(default=None)
    created_at: Mapped[datetime] = _today()

    person: Mapped[Person] = relationship(back_populates="identities")


class Invite(Base):
    __tablename__ = "invites"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = _now()
    expires_at: Mapped[datetime]
    redeemed_at: Mapped[datetime | None] = mapped_column(default=None)
    redeemed_by: Mapped[int | None] = mapped_column(
        ForeignKey("identities.id", ondelete="SET NULL"), default=None
    )

    person: Mapped[Person] = relationship(lazy="joined")


class DutyChat(Base):
    """A group chat an officer linked to the commune: alerts go there."""

    __tablename__ = "duty_chats"
    __table_args__ = (UniqueConstraint("commune_id", "channel"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    commune_id: Mapped[int] = mapped_column(ForeignKey("communes.id", ondelete="CASCADE"))
    channel: Mapped[str] = mapped_column(String(16))
    chat_id: Mapped[str] = mapped_column(String(64))
    linked_by: Mapped[int | None] = mapped_column(
        ForeignKey("people.id", ondelete="SET NULL"), default=None
    )
    linked_at: Mapped[datetime] = _now()


# --- reports --------------------------------------------------------------------------


class Incident(Base):
    __tablename__ = "incidents"
    __table_args__ = (
        Index(None, "commune_id", "occurred_at"),
        Index(None, "status", "received_at"),  # urgent alerts still waiting, in every commune
        # Open cases by kind (the disputes that drag on): reads only the open rows, however
        # many years of closed ones lie beside them.
        Index(None, "commune_id", "status", "category", "occurred_at"),
        # A province's period, every commune at once: covered by the index, no table reads.
        Index(None, "occurred_at", "commune_id", "category"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    commune_id: Mapped[int] = mapped_column(ForeignKey("communes.id", ondelete="CASCADE"))
    hamlet_id: Mapped[int] = mapped_column(
        ForeignKey("hamlets.id", ondelete="RESTRICT"), index=True
    )
    reporter_id: Mapped[int | None] = mapped_column(
        ForeignKey("people.id", ondelete="SET NULL"), default=None
    )
    category: Mapped[str] = mapped_column(String(32))
    severity: Mapped[str] = mapped_column(String(16))
    occurred_at: Mapped[datetime]
    occurred_precision: Mapped[str] = mapped_column(String(8), default="exact")  # exact / day
    received_at: Mapped[datetime] = _now()
    place_text: Mapped[str | None] = mapped_column(Text, default=None)
    latitude: Mapped[float | None] = mapped_column(Float, default=None)
    longitude: Mapped[float | None] = mapped_column(Float, default=None)
    description: Mapped[str | None] = mapped_column(Text, default=None)
    status: Mapped[str] = mapped_column(String(16), default=Status.NEW)
    assignee_id: Mapped[int | None] = mapped_column(
        ForeignKey("people.id", ondelete="SET NULL"), default=None
    )
    outcome: Mapped[str | None] = mapped_column(Text, default=None)
    # An urgent incident nobody acknowledged in time is alerted once more, to every officer.
    alert_repeated_at: Mapped[datetime | None] = mapped_column(default=None)

    hamlet: Mapped[Hamlet] = relationship(lazy="joined")


class AlertDelivery(Base):
    """Where an urgent alert went: one row per chat and round (1: at once; 2: repeated)."""

    __tablename__ = "alert_deliveries"
    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(
        ForeignKey("incidents.id", ondelete="CASCADE"), index=True
    )
    round: Mapped[int] = mapped_column(Integer)
    channel: Mapped[str] = mapped_column(String(16))
    chat_id: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = _now()


class Activity(Base):
    __tablename__ = "activities"
    __table_args__ = (
        Index(None, "commune_id", "held_on"),
        Index(None, "commune_id", "kind", "held_on"),  # standings: commitments and models
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    commune_id: Mapped[int] = mapped_column(ForeignKey("communes.id", ondelete="CASCADE"))
    hamlet_id: Mapped[int] = mapped_column(
        ForeignKey("hamlets.id", ondelete="RESTRICT"), index=True
    )
    team_id: Mapped[int | None] = mapped_column(
        ForeignKey("teams.id", ondelete="SET NULL"), default=None
    )
    reporter_id: Mapped[int | None] = mapped_column(
        ForeignKey("people.id", ondelete="SET NULL"), default=None
    )
    kind: Mapped[str] = mapped_column(String(32))
    held_on: Mapped[date] = mapped_column(Date)
    received_at: Mapped[datetime] = _now()
    description: Mapped[str | None] = mapped_column(Text, default=None)
    shifts: Mapped[int | None] = mapped_column(Integer, default=None)
    people_count: Mapped[int | None] = mapped_column(Integer, default=None)
    sessions: Mapped[int | None] = mapped_column(Integer, default=None)
    attendees: Mapped[int | None] = mapped_column(Integer, default=None)
    cases: Mapped[int | None] = mapped_column(Integer, default=None)
    cases_successful: Mapped[int | None] = mapped_column(Integer, default=None)
    participants: Mapped[int | None] = mapped_column(Integer, default=None)
    persons_helped: Mapped[int | None] = mapped_column(Integer, default=None)
    persons_educated: Mapped[int | None] = mapped_column(Integer, default=None)
    commended: Mapped[int | None] = mapped_column(Integer, default=None)
    households_signed: Mapped[int | None] = mapped_column(Integer, default=None)
    households_total: Mapped[int | None] = mapped_column(Integer, default=None)
    models_active: Mapped[int | None] = mapped_column(Integer, default=None)
    models_new: Mapped[int | None] = mapped_column(Integer, default=None)


class WeeklyReport(Base):
    __tablename__ = "weekly_reports"
    __table_args__ = (
        UniqueConstraint("hamlet_id", "week_start"),
        Index(None, "commune_id", "week_start"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    commune_id: Mapped[int] = mapped_column(ForeignKey("communes.id", ondelete="CASCADE"))
    hamlet_id: Mapped[int] = mapped_column(ForeignKey("hamlets.id", ondelete="RESTRICT"))
    reporter_id: Mapped[int | None] = mapped_column(
        ForeignKey("people.id", ondelete="SET NULL"), default=None
    )
    week_start: Mapped[date] = mapped_column(Date)  # the Monday, in the commune's time zone
    quiet: Mapped[bool] = mapped_column(Boolean)
    incidents: Mapped[int] = mapped_column(Integer, default=0)
    disputes: Mapped[int] = mapped_column(Integer, default=0)
    complaints: Mapped[int] = mapped_column(Integer, default=0)
    strangers: Mapped[int] = mapped_column(Integer, default=0)
    patrols: Mapped[int] = mapped_column(Integer, default=0)
    outreach_sessions: Mapped[int] = mapped_column(Integer, default=0)
    mediations: Mapped[int] = mapped_column(Integer, default=0)
    mediations_successful: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    meetings: Mapped[int] = mapped_column(Integer, default=0)
    fire_safety: Mapped[str | None] = mapped_column(Text, default=None)
    proposals: Mapped[str | None] = mapped_column(Text, default=None)
    received_at: Mapped[datetime] = _now()
    # The deadline of that week (Sunday 18:00 in the commune's time zone), fixed when written,
    # so that "on time" is a plain comparison in SQL on every database.
    due_at: Mapped[datetime | None] = mapped_column(default=None)
    amended_at: Mapped[datetime | None] = mapped_column(default=None)
    status: Mapped[str] = mapped_column(String(16), default=Status.NEW)


# --- the movement's own records ---------------------------------------------------------


class MovementModel(Base):
    """A named model of the movement ("mô hình"): in a hamlet, or the whole commune when the
    hamlet is empty. ended_on is the day it was marked inactive."""

    __tablename__ = "movement_models"
    __table_args__ = (Index(None, "commune_id", "started_on"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    commune_id: Mapped[int] = mapped_column(ForeignKey("communes.id", ondelete="CASCADE"))
    hamlet_id: Mapped[int | None] = mapped_column(
        ForeignKey("hamlets.id", ondelete="SET NULL"), default=None
    )
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(32))
    kind_text: Mapped[str | None] = mapped_column(String(120), default=None)  # kind "other"
    started_on: Mapped[date] = mapped_column(Date)
    members: Mapped[int | None] = mapped_column(Integer, default=None)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    ended_on: Mapped[date | None] = mapped_column(Date, default=None)
    created_by: Mapped[int | None] = mapped_column(
        ForeignKey("people.id", ondelete="SET NULL"), default=None
    )
    updated_at: Mapped[datetime] = _now()

    hamlet: Mapped[Hamlet | None] = relationship(lazy="joined")


class Commitment(Base):
    """Safety commitments of one kind of signer in a year: signed of total. Households are
    counted per hamlet (hamlet_id set); agencies, businesses, schools and conditional
    businesses for the whole commune."""

    __tablename__ = "commitments"
    __table_args__ = (Index(None, "commune_id", "year"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    commune_id: Mapped[int] = mapped_column(ForeignKey("communes.id", ondelete="CASCADE"))
    hamlet_id: Mapped[int | None] = mapped_column(
        ForeignKey("hamlets.id", ondelete="CASCADE"), default=None
    )
    year: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(16))
    signed: Mapped[int] = mapped_column(Integer)
    total: Mapped[int] = mapped_column(Integer)
    recorded_by: Mapped[int | None] = mapped_column(
        ForeignKey("people.id", ondelete="SET NULL"), default=None
    )
    updated_at: Mapped[datetime] = _now()


class Recognition(Base):
    """A year's recognition of units as "an toàn về ANTT": recognised of total, per kind."""

    __tablename__ = "recognitions"
    __table_args__ = (UniqueConstraint("commune_id", "year", "unit_kind"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    commune_id: Mapped[int] = mapped_column(ForeignKey("communes.id", ondelete="CASCADE"))
    year: Mapped[int] = mapped_column(Integer)
    unit_kind: Mapped[str] = mapped_column(String(16))
    recognised: Mapped[int] = mapped_column(Integer)
    total: Mapped[int] = mapped_column(Integer)
    recorded_by: Mapped[int | None] = mapped_column(
        ForeignKey("people.id", ondelete="SET NULL"), default=None
    )
    updated_at: Mapped[datetime] = _now()


class Tip(Base):
    """A resident's tip. Keyed by a pseudonym only: officers never see who sent it, and the
    database alone does not tell (storage.way_back)."""

    __tablename__ = "tips"
    __table_args__ = (
        Index(None, "commune_id", "received_at"),
        Index(None, "commune_id", "status", "received_at"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    case_code: Mapped[str] = mapped_column(String(16), unique=True)
    commune_id: Mapped[int] = mapped_column(ForeignKey("communes.id", ondelete="CASCADE"))
    hamlet_id: Mapped[int | None] = mapped_column(
        ForeignKey("hamlets.id", ondelete="SET NULL"), default=None
    )
    reporter_key: Mapped[str] = mapped_column(String(64), index=True)
    description: Mapped[str | None] = mapped_column(Text, default=None)
    place_text: Mapped[str | None] = mapped_column(Text, default=None)
    latitude: Mapped[float | None] = mapped_column(Float, default=None)
    longitude: Mapped[float | None] = mapped_column(Float, default=None)
    contact: Mapped[str | None] = mapped_column(Text, default=None)  # only if the tipster chose
    # The tipster's access code (shown once): a locator that finds the tip and a keyed hash of
    # the whole code. Neither alone opens it, and the key is not in the database.
    access_locator: Mapped[str | None] = mapped_column(String(8), index=True, default=None)
    access_hash: Mapped[str | None] = mapped_column(String(64), default=None)
    # The tipster's channel and chat, sealed with the tip key (storage.way_back); deleted
    # when the tip is closed.
    reply_to: Mapped[str | None] = mapped_column(Text, default=None)
    received_at: Mapped[datetime] = _now()
    status: Mapped[str] = mapped_column(String(16), default=Status.NEW)
    assignee_id: Mapped[int | None] = mapped_column(
        ForeignKey("people.id", ondelete="SET NULL"), default=None
    )
    outcome: Mapped[str | None] = mapped_column(Text, default=None)


class GuessCounter(Base):
    """Wrong guesses of a secret code in the current window, per scope and key (a tip's
    locator, or "all" for every tip at once)."""

    __tablename__ = "guess_counters"
    scope: Mapped[str] = mapped_column(String(16), primary_key=True)
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    window_start: Mapped[datetime]
    count: Mapped[int] = mapped_column(Integer, default=0)


class TipMessage(Base):
    """Later additions by the tipster and questions from officers, under a tip."""

    __tablename__ = "tip_messages"
    id: Mapped[int] = mapped_column(primary_key=True)
    tip_id: Mapped[int] = mapped_column(ForeignKey("tips.id", ondelete="CASCADE"), index=True)
    from_tipster: Mapped[bool] = mapped_column(Boolean)
    officer_id: Mapped[int | None] = mapped_column(
        ForeignKey("people.id", ondelete="SET NULL"), default=None
    )
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = _now()


class Attachment(Base):
    __tablename__ = "attachments"
    __table_args__ = (Index(None, "record_kind", "record_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    record_kind: Mapped[str] = mapped_column(String(16))
    record_id: Mapped[int] = mapped_column(Integer)
    channel: Mapped[str] = mapped_column(String(16))
    file_id: Mapped[str] = mapped_column(String(255))
    media_type: Mapped[str] = mapped_column(String(16))
    size_bytes: Mapped[int | None] = mapped_column(BigInteger, default=None)
    created_at: Mapped[datetime] = _now()


class StatusChange(Base):
    __tablename__ = "status_history"
    __table_args__ = (Index(None, "record_kind", "record_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    record_kind: Mapped[str] = mapped_column(String(16))
    record_id: Mapped[int] = mapped_column(Integer)
    # What the entry records (HistoryEntry): a status change, a note or an assignment.
    # status is the case's status after it, whatever the kind.
    entry: Mapped[str] = mapped_column(String(16), default="status", server_default="status")
    status: Mapped[str] = mapped_column(String(16))
    actor_id: Mapped[int | None] = mapped_column(
        ForeignKey("people.id", ondelete="SET NULL"), default=None
    )
    assignee_id: Mapped[int | None] = mapped_column(
        ForeignKey("people.id", ondelete="SET NULL"), default=None
    )
    note: Mapped[str | None] = mapped_column(Text, default=None)
    created_at: Mapped[datetime] = _now()


# --- the bot's own state --------------------------------------------------------------


class Conversation(Base):
    """Where a chat stands in a flow; written after every answer."""

    __tablename__ = "conversations"
    __table_args__ = (UniqueConstraint("channel", "chat_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    chat_id: Mapped[str] = mapped_column(String(64))
    flow: Mapped[str | None] = mapped_column(String(32), default=None)
    step: Mapped[str | None] = mapped_column(String(48), default=None)
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)  # the flow's answers
    # The engine's own: steps answered, a word awaiting confirmation (conversations.state).
    state: Mapped[dict[str, Any]] = mapped_column(default=dict)
    history: Mapped[list[Any]] = mapped_column(default=list)
    paused: Mapped[bool] = mapped_column(Boolean, default=False)
    # The numbered choices last shown here ([label, data]): on channels without buttons a
    # typed number answers them, even when they came with an alert or a reminder.
    menu: Mapped[list[Any]] = mapped_column(default=list)
    # Coarse, so that it cannot be matched to a tip's time (storage.queries.touch): to the day
    # when no draft is open, to ten minutes (rounded up) while one is.
    updated_at: Mapped[datetime] = _today()
    # Wrong invite codes typed in this chat, counted per window, to stop guessing.
    failed_codes: Mapped[int] = mapped_column(Integer, default=0)
    failed_codes_since: Mapped[datetime | None] = mapped_column(default=None)
    version: Mapped[int] = mapped_column(Integer, default=0)

    # A second worker writing the same conversation fails instead of overwriting it.
    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012


class ProcessedUpdate(Base):
    __tablename__ = "processed_updates"
    channel: Mapped[str] = mapped_column(String(16), primary_key=True)
    update_key: Mapped[str] = mapped_column(String(64), primary_key=True)
    processed_at: Mapped[datetime] = _now()  # written to the hour (storage.queries)


class OutboxMessage(Base):
    __tablename__ = "outbox"
    __table_args__ = (
        Index(None, "status", "not_before"),
        Index(None, "chat_id", "status"),  # a chat's unsent messages, to keep their order
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    chat_id: Mapped[str] = mapped_column(String(64))
    text: Mapped[str] = mapped_column(Text)
    buttons: Mapped[list[Any]] = mapped_column(default=list)
    media_kind: Mapped[str | None] = mapped_column(String(16), default=None)  # photo / document
    media_path: Mapped[str | None] = mapped_column(Text, default=None)
    purpose: Mapped[str] = mapped_column(String(32), default="notice")
    # A message to a tipster: deleted once sent or given up, so that no row ties their chat
    # to a tip's code, a question or a time.
    ephemeral: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    commune_id: Mapped[int | None] = mapped_column(
        ForeignKey("communes.id", ondelete="SET NULL"), default=None
    )
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    not_before: Mapped[datetime] = _now()
    last_error: Mapped[str | None] = mapped_column(Text, default=None)
    created_at: Mapped[datetime] = _now()
    sent_at: Mapped[datetime | None] = mapped_column(default=None)
    # Parts of a long message (split to the platform's limit) already delivered: a retry
    # sends only the rest.
    parts_sent: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class InboxUpdate(Base):
    """An update as received, kept only until it has been handled and answered.

    It holds the raw update (account ids, the text of a tip): deleted once processed
    (storage.inbox). chat_key is a hash of the chat, for handling each chat in order."""

    __tablename__ = "inbox"
    __table_args__ = (
        UniqueConstraint("channel", "update_key"),
        Index(None, "chat_key", "id"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    update_key: Mapped[str] = mapped_column(String(64))
    chat_key: Mapped[str] = mapped_column(String(32))
    payload: Mapped[dict[str, Any]] = mapped_column()
    received_at: Mapped[datetime] = _now()
    # Claimed by a worker until then; a worker that died leaves it to be claimed again.
    claimed_until: Mapped[datetime | None] = mapped_column(default=None)
    attempts: Mapped[int] = mapped_column(Integer, default=0)


class DigestRun(Base):
    __tablename__ = "digest_runs"
    __table_args__ = (UniqueConstraint("commune_id", "kind", "period_start"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    commune_id: Mapped[int] = mapped_column(ForeignKey("communes.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)
    started_at: Mapped[datetime] = _now()
    note: Mapped[str | None] = mapped_column(Text, default=None)


class Schedule(Base):
    """When a commune's jobs fire: a crontab expression in the commune's time zone."""

    __tablename__ = "schedules"
    __table_args__ = (UniqueConstraint("commune_id", "job"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    commune_id: Mapped[int] = mapped_column(ForeignKey("communes.id", ondelete="CASCADE"))
    job: Mapped[str] = mapped_column(String(32))
    cron: Mapped[str] = mapped_column(String(64))
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)


class JobRun(Base):
    """One row per job, commune and occasion: a second attempt finds it and does nothing."""

    __tablename__ = "job_runs"
    __table_args__ = (UniqueConstraint("commune_id", "job", "run_key"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    commune_id: Mapped[int] = mapped_column(ForeignKey("communes.id", ondelete="CASCADE"))
    job: Mapped[str] = mapped_column(String(32))
    run_key: Mapped[str] = mapped_column(String(32))
    ran_at: Mapped[datetime] = _now()


# --- the web desk -----------------------------------------------------------------------


class WebLogin(Base):
    """A one-time sign-in link sent in a chat: only its hash is kept, used once, short-lived."""

    __tablename__ = "web_logins"
    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = _now()
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None] = mapped_column(default=None)


class WebSession(Base):
    """A signed-in browser: its cookie names this row by a token whose hash is kept."""

    __tablename__ = "web_sessions"
    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = _now()
    last_seen_at: Mapped[datetime] = _now()


class AuditEntry(Base):
    """Who did what on the web desk, and when: tip views, exports, every change. Never
    deleted from the web."""

    __tablename__ = "audit_log"
    __table_args__ = (Index(None, "commune_id", "at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = _now()
    commune_id: Mapped[int | None] = mapped_column(
        ForeignKey("communes.id", ondelete="CASCADE"), default=None
    )
    person_id: Mapped[int | None] = mapped_column(
        ForeignKey("people.id", ondelete="SET NULL"), default=None
    )
    actor: Mapped[str] = mapped_column(String(160), default="")  # the name, kept after a delete
    action: Mapped[str] = mapped_column(String(32))
    target: Mapped[str] = mapped_column(String(64), default="")
    detail: Mapped[str] = mapped_column(Text, default="")
