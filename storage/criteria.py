"""What the data can show of the "safe residential area" and "safe commune" criteria.

Circular 124/2021/TT-BCA and the new-rural-commune indicator (DOMAIN.md): every household
signed (the commune's threshold, 100% unless set lower); no serious crime, unlawful mass
complaint, prolonged dispute or complex spot of social disorder; crime reduced against last
year; an active self-management model; meetings held; reports full and on time.

Households signed and models come from the registers (storage.movement): the commitments
of the period's year, and the models running at the period's end.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.enums import UnitKind
from storage.models import Commune, Hamlet
from storage.movement import (
    MovementFigures,
    has_models,
    household_commitments,
    models_by_hamlet,
    movement_figures,
)
from storage.periods import Period
from storage.rollups import (
    compliance,
    flags_by_hamlet,
    incidents_by_hamlet,
    meetings_by_hamlet,
    rate,
    weekly_complaints_by_hamlet,
)

SAFE_AREA_SHARE = 70.0  # share of residential areas recognised, for a "safe" commune (older rule)
CRITERIA = (
    "households",
    "serious_crime",
    "mass_complaints",
    "prolonged_disputes",
    "hotspots",
    "crime_reduced",
    "models",
    "meetings",
    "reports_on_time",
)


class Verdict(StrEnum):
    MET = "met"
    NOT_MET = "not_met"
    NO_DATA = "no_data"


def _zero(n: int) -> Verdict:
    return Verdict.MET if n == 0 else Verdict.NOT_MET


@dataclass
class HamletCriteria:
    hamlet_id: int
    name: str
    verdicts: dict[str, Verdict] = field(default_factory=dict)

    @property
    def all_met(self) -> bool:
        return all(v == Verdict.MET for v in self.verdicts.values())


@dataclass
class CriteriaView:
    period: Period
    hamlets: list[HamletCriteria]
    commune: dict[str, Verdict]
    records: MovementFigures | None = None

    @property
    def areas_met(self) -> int:
        return sum(1 for h in self.hamlets if h.all_met)


async def criteria_view(
    session: AsyncSession, commune_id: int, period: Period, tz: ZoneInfo, now: datetime
) -> CriteriaView:
    commune_row = await session.get(Commune, commune_id)
    assert commune_row is not None
    threshold = commune_row.commitment_threshold
    hamlet_rows = (
        await session.execute(
            select(Hamlet.id, Hamlet.label, Hamlet.name)
            .where(Hamlet.commune_id == commune_id)
            .order_by(Hamlet.name)
        )
    ).all()
    signed = await household_commitments(session, commune_id, period.start.year)
    models = await models_by_hamlet(session, commune_id, period)
    registered = await has_models(session, commune_id)
    flagged = await flags_by_hamlet(session, commune_id, period, tz, now)
    counts = await incidents_by_hamlet(session, commune_id, period, tz)
    before = await incidents_by_hamlet(session, commune_id, period.last_year(), tz)
    meetings = await meetings_by_hamlet(session, commune_id, period)
    reporting = await compliance(session, commune_id, period, tz, until=now)
    reports = {r.hamlet_id: r for r in reporting}
    weekly_complaints = await weekly_complaints_by_hamlet(session, commune_id, period)
    # Without any incident a year earlier in the whole commune there is nothing to compare:
    # "reduced against the same period" cannot be judged, which is not the same as failing.
    compared = any(before.values())
    hamlets = []
    for hamlet_id, label, name in hamlet_rows:
        f = flagged.get(hamlet_id)
        now_n, before_n = counts.get(hamlet_id, 0), before.get(hamlet_id, 0)
        r = reports.get(hamlet_id)
        share = rate(*signed[hamlet_id]) if hamlet_id in signed else None
        running = models.get(hamlet_id)
        v = {
            "households": Verdict.NO_DATA
            if share is None
            else Verdict.MET
            if share >= threshold
            else Verdict.NOT_MET,
            "serious_crime": _zero(f.serious_crimes if f else 0),
            # Incidents of that kind, and complaints the hamlet head counted in weekly reports.
            "mass_complaints": _zero(
                (f.mass_complaints if f else 0) + weekly_complaints.get(hamlet_id, 0)
            ),
            "prolonged_disputes": _zero(f.prolonged_disputes if f else 0),
            "hotspots": _zero(f.hotspots if f else 0),
            "crime_reduced": Verdict.NO_DATA
            if not compared
            else Verdict.MET
            if now_n < before_n or now_n == before_n == 0
            else Verdict.NOT_MET,
            # With nothing in the register there is no knowing; once the commune keeps it,
            # a hamlet with no model running does not meet the condition.
            "models": Verdict.NO_DATA
            if not registered
            else Verdict.MET
            if running is not None and running.active > 0
            else Verdict.NOT_MET,
            "meetings": Verdict.MET if meetings.get(hamlet_id, 0) > 0 else Verdict.NOT_MET,
            "reports_on_time": Verdict.NO_DATA
            if r is None or r.weeks == 0
            else Verdict.MET
            if r.on_time == r.weeks
            else Verdict.NOT_MET,
        }
        hamlets.append(HamletCriteria(hamlet_id, f"{label[:1].upper()}{label[1:]} {name}", v))
    commune = {
        key: Verdict.NO_DATA
        if all(h.verdicts[key] == Verdict.NO_DATA for h in hamlets)
        else Verdict.MET
        if all(h.verdicts[key] in (Verdict.MET, Verdict.NO_DATA) for h in hamlets)
        else Verdict.NOT_MET
        for key in CRITERIA
    }
    records = await movement_figures(session, commune_row, period)
    # A safe commune needs one effective model, not one in every hamlet: the commune's own
    # count too.
    if records.models.active > 0:
        commune["models"] = Verdict.MET
    # The areas recognised that year, where the commune recorded them; else the areas
    # meeting every condition the data shows.
    areas = records.recognitions.get(UnitKind.AREAS)
    if areas and areas[1]:
        share = 100 * areas[0] / areas[1]
    else:
        share = 100 * sum(1 for h in hamlets if h.all_met) / len(hamlets) if hamlets else 0
    commune["safe_areas"] = Verdict.MET if share >= SAFE_AREA_SHARE else Verdict.NOT_MET
    return CriteriaView(period, hamlets, commune, records)
