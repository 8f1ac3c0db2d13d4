"""The movement's own records: the register of models ("mô hình"), the safety commitments
of households, agencies, businesses, schools and conditional businesses, and the yearly
recognition of units as "an toàn về ANTT"; with the figures digests and the criteria read.

Every interface (the chat flows, the command line, the demo) writes through these
functions, which take a session and keyword arguments and check what they are given.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import ColumnElement, and_, case, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.admin import AdminError
from storage.enums import CommitmentKind, ModelKind, TeamKind, UnitKind
from storage.models import Commitment, Commune, Hamlet, MovementModel, Recognition, Team
from storage.periods import Period

MAX_NAME = 200
MAX_KIND_TEXT = 120
LIST_LIMIT = 30  # the models a chat offers to choose from, newest first


class RecordError(AdminError):
    """A value the movement's records do not take; the message names it (in English for
    the command line; flows check their answers before they get here)."""


async def hamlet_names(session: AsyncSession, *, commune_id: int) -> list[tuple[int, str]]:
    """A commune's hamlets by name, as within a sentence ("ấp Phú Mỹ")."""
    rows = await session.execute(
        select(Hamlet.id, Hamlet.label, Hamlet.name)
        .where(Hamlet.commune_id == commune_id)
        .order_by(Hamlet.name)
    )
    return [(int(i), f"{label} {name}") for i, label, name in rows.all()]


# --- the register of models -----------------------------------------------------------


async def add_model(
    session: AsyncSession,
    *,
    commune_id: int,
    hamlet_id: int | None,
    name: str,
    kind: str,
    started_on: date,
    now: datetime,
    kind_text: str | None = None,
    members: int | None = None,
    created_by: int | None = None,
) -> MovementModel:
    name = " ".join(name.split())
    if not name or len(name) > MAX_NAME:
        raise RecordError(f"a model's name is 1 to {MAX_NAME} characters")
    if kind not in tuple(ModelKind):
        raise RecordError(f"unknown model kind {kind!r}: one of {', '.join(ModelKind)}")
    if kind_text is not None:
        kind_text = " ".join(kind_text.split())[:MAX_KIND_TEXT] or None
    if members is not None and members < 0:
        raise RecordError("members cannot be negative")
    if hamlet_id is not None:
        hamlet = await session.get(Hamlet, hamlet_id)
        if hamlet is None or hamlet.commune_id != commune_id:
            raise RecordError("that hamlet is not in the commune")
    model = MovementModel(
        commune_id=commune_id,
        hamlet_id=hamlet_id,
        name=name,
        kind=kind,
        kind_text=kind_text if kind == ModelKind.OTHER else None,
        started_on=started_on,
        members=members,
        active=True,
        created_by=created_by,
        updated_at=now,
    )
    session.add(model)
    await session.flush()
    return model


async def get_model(
    session: AsyncSession, *, commune_id: int, model_id: int
) -> MovementModel | None:
    model = await session.get(MovementModel, model_id) if 0 < model_id < 2**31 else None
    return model if model is not None and model.commune_id == commune_id else None


async def update_model(
    session: AsyncSession,
    *,
    model: MovementModel,
    today: date,
    now: datetime,
    active: bool | None = None,
    members: int | None = None,
    name: str | None = None,
) -> MovementModel:
    """Mark a model inactive (ended today) or active again, or change its members or name."""
    if active is not None and active != model.active:
        model.active = active
        model.ended_on = None if active else today
    if members is not None:
        if members < 0:
            raise RecordError("members cannot be negative")
        model.members = members
    if name is not None:
        cleaned = " ".join(name.split())
        if not cleaned or len(cleaned) > MAX_NAME:
            raise RecordError(f"a model's name is 1 to {MAX_NAME} characters")
        model.name = cleaned
    model.updated_at = now
    await session.flush()
    return model


async def list_models(
    session: AsyncSession,
    *,
    commune_id: int,
    hamlet_id: int | None = None,
    active_only: bool = False,
    limit: int | None = None,
) -> list[MovementModel]:
    """A commune's models, newest first; with hamlet_id, that hamlet's and the commune-wide."""
    query = select(MovementModel).where(MovementModel.commune_id == commune_id)
    if hamlet_id is not None:
        query = query.where(
            or_(MovementModel.hamlet_id == hamlet_id, MovementModel.hamlet_id.is_(None))
        )
    if active_only:
        query = query.where(MovementModel.active.is_(True))
    query = query.order_by(MovementModel.started_on.desc(), MovementModel.id.desc())
    if limit is not None:
        query = query.limit(limit)
    return list((await session.scalars(query)).all())


def model_kind_label(model: MovementModel, label: str) -> str:
    """The kind as shown: the catalogue's label, or the typed kind of an "other" model."""
    return model.kind_text if model.kind == ModelKind.OTHER and model.kind_text else label


@dataclass(frozen=True)
class ModelCounts:
    active: int = 0  # active at the end of the period
    new: int = 0  # started in the period's year, up to its end


def _running_at(end: date) -> ColumnElement[bool]:
    """Started before end, and not stopped before it."""
    return and_(
        MovementModel.started_on < end,
        or_(MovementModel.ended_on.is_(None), MovementModel.ended_on >= end),
    )


async def models_by_hamlet(
    session: AsyncSession, commune_id: int, period: Period
) -> dict[int | None, ModelCounts]:
    """Active and new models per hamlet (None: the whole commune's own), one aggregate."""
    year_start = date(period.start.year, 1, 1)
    active = func.coalesce(func.sum(case((_running_at(period.end), 1), else_=0)), 0)
    new = func.coalesce(
        func.sum(
            case(
                (
                    and_(
                        MovementModel.started_on >= year_start,
                        MovementModel.started_on < period.end,
                    ),
                    1,
                ),
                else_=0,
            )
        ),
        0,
    )
    rows = await session.execute(
        select(MovementModel.hamlet_id, active, new)
        .where(MovementModel.commune_id == commune_id, MovementModel.started_on < period.end)
        .group_by(MovementModel.hamlet_id)
    )
    return {h: ModelCounts(int(a), int(n)) for h, a, n in rows.all()}


async def has_models(session: AsyncSession, commune_id: int) -> bool:
    found = await session.scalar(
        select(MovementModel.id).where(MovementModel.commune_id == commune_id).limit(1)
    )
    return found is not None


# --- commitments ----------------------------------------------------------------------


def _check_counts(part: int, total: int) -> None:
    if part < 0 or total < 0:
        raise RecordError("counts cannot be negative")
    if part > total:
        raise RecordError("the part cannot be larger than the total")


async def record_commitment(
    session: AsyncSession,
    *,
    commune_id: int,
    year: int,
    kind: str,
    signed: int,
    total: int,
    now: datetime,
    hamlet_id: int | None = None,
    recorded_by: int | None = None,
) -> Commitment:
    """The year's figure for one kind of signer (households: per hamlet), replacing any
    earlier figure of the same year, kind and hamlet."""
    if kind not in tuple(CommitmentKind):
        raise RecordError(f"unknown commitment kind {kind!r}: one of {', '.join(CommitmentKind)}")
    if (kind == CommitmentKind.HOUSEHOLDS) != (hamlet_id is not None):
        raise RecordError("households are counted per hamlet, other signers per commune")
    _check_counts(signed, total)
    same = (
        Commitment.hamlet_id == hamlet_id
        if hamlet_id is not None
        else Commitment.hamlet_id.is_(None)
    )
    row = await session.scalar(
        select(Commitment).where(
            Commitment.commune_id == commune_id,
            Commitment.year == year,
            Commitment.kind == kind,
            same,
        )
    )
    if row is None:
        row = Commitment(commune_id=commune_id, hamlet_id=hamlet_id, year=year, kind=kind)
        session.add(row)
    row.signed, row.total, row.recorded_by, row.updated_at = signed, total, recorded_by, now
    await session.flush()
    return row


async def household_commitments(
    session: AsyncSession, commune_id: int, year: int
) -> dict[int, tuple[int, int]]:
    """Households signed and total per hamlet in a year."""
    rows = await session.execute(
        select(Commitment.hamlet_id, Commitment.signed, Commitment.total).where(
            Commitment.commune_id == commune_id,
            Commitment.year == year,
            Commitment.kind == CommitmentKind.HOUSEHOLDS,
        )
    )
    return {int(h): (int(s), int(t)) for h, s, t in rows.all() if h is not None}


async def commitment_totals(
    session: AsyncSession, commune_id: int, year: int
) -> dict[str, tuple[int, int]]:
    """Signed and total per kind of signer in a year (households summed over hamlets)."""
    rows = await session.execute(
        select(Commitment.kind, func.sum(Commitment.signed), func.sum(Commitment.total))
        .where(Commitment.commune_id == commune_id, Commitment.year == year)
        .group_by(Commitment.kind)
    )
    found = {str(k): (int(s), int(t)) for k, s, t in rows.all()}
    return {k.value: found[k.value] for k in CommitmentKind if k.value in found}


async def set_threshold(session: AsyncSession, *, commune: Commune, percent: float) -> None:
    if not 0 < percent <= 100:
        raise RecordError("the threshold is a percentage above 0 and at most 100")
    commune.commitment_threshold = percent
    await session.flush()


# --- recognitions ---------------------------------------------------------------------


async def record_recognition(
    session: AsyncSession,
    *,
    commune_id: int,
    year: int,
    unit_kind: str,
    recognised: int,
    total: int,
    now: datetime,
    recorded_by: int | None = None,
) -> Recognition:
    """How many units of a kind were recognised "an toàn về ANTT" in a year, of how many;
    replaces the year's earlier figure."""
    if unit_kind not in tuple(UnitKind):
        raise RecordError(f"unknown unit kind {unit_kind!r}: one of {', '.join(UnitKind)}")
    _check_counts(recognised, total)
    row = await session.scalar(
        select(Recognition).where(
            Recognition.commune_id == commune_id,
            Recognition.year == year,
            Recognition.unit_kind == unit_kind,
        )
    )
    if row is None:
        row = Recognition(commune_id=commune_id, year=year, unit_kind=unit_kind)
        session.add(row)
    row.recognised, row.total, row.recorded_by, row.updated_at = recognised, total, recorded_by, now
    await session.flush()
    return row


async def recognitions(
    session: AsyncSession, commune_id: int, year: int
) -> dict[str, tuple[int, int]]:
    rows = await session.execute(
        select(Recognition.unit_kind, Recognition.recognised, Recognition.total).where(
            Recognition.commune_id == commune_id, Recognition.year == year
        )
    )
    found = {str(k): (int(r), int(t)) for k, r, t in rows.all()}
    return {k.value: found[k.value] for k in UnitKind if k.value in found}


# --- what digests and the criteria show ------------------------------------------------


async def mediation_teams(session: AsyncSession, commune_id: int) -> int:
    """The commune's mediation teams ("tổ hòa giải"), from its roster of teams."""
    return int(
        await session.scalar(
            select(func.count())
            .select_from(Team)
            .join(Hamlet, Hamlet.id == Team.hamlet_id)
            .where(Hamlet.commune_id == commune_id, Team.kind == TeamKind.MEDIATION)
        )
        or 0
    )


@dataclass
class MovementFigures:
    """A commune's models, commitments and recognitions for the year of a period."""

    year: int
    models: ModelCounts
    commitments: dict[str, tuple[int, int]] = field(default_factory=dict)
    recognitions: dict[str, tuple[int, int]] = field(default_factory=dict)
    mediation_teams: int = 0
    threshold: float = 100.0


async def movement_figures(
    session: AsyncSession, commune: Commune, period: Period
) -> MovementFigures:
    year = period.start.year
    by_hamlet = await models_by_hamlet(session, commune.id, period)
    return MovementFigures(
        year=year,
        models=ModelCounts(
            sum(c.active for c in by_hamlet.values()), sum(c.new for c in by_hamlet.values())
        ),
        commitments=await commitment_totals(session, commune.id, year),
        recognitions=await recognitions(session, commune.id, year),
        mediation_teams=await mediation_teams(session, commune.id),
        threshold=commune.commitment_threshold,
    )
