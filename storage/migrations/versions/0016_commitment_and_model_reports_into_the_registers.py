"""the households signed and the models reported in activity reports move into the registers

Households: per hamlet and year, the largest signed and total reported (the rule the
criteria read them by until now). Models: per hamlet, as many register entries as the
largest number reported active; those reported new in a year start on the day of that
year's first report of new models, the others on 1 January of the year before the first
report (they were already running). Their kind is "other", named as coming from the reports,
so an officer can rename them. The activity reports themselves stay as they are. A
downgrade leaves the rows (0015's downgrade drops their tables).

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-03
"""

from collections.abc import Sequence
from datetime import UTC, date, datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FROM_REPORTS = "từ báo cáo hoạt động"

activities = sa.table(
    "activities",
    sa.column("commune_id", sa.Integer()),
    sa.column("hamlet_id", sa.Integer()),
    sa.column("kind", sa.String()),
    sa.column("held_on", sa.Date()),
    sa.column("households_signed", sa.Integer()),
    sa.column("households_total", sa.Integer()),
    sa.column("models_active", sa.Integer()),
    sa.column("models_new", sa.Integer()),
)
commitments = sa.table(
    "commitments",
    sa.column("commune_id", sa.Integer()),
    sa.column("hamlet_id", sa.Integer()),
    sa.column("year", sa.Integer()),
    sa.column("kind", sa.String()),
    sa.column("signed", sa.Integer()),
    sa.column("total", sa.Integer()),
    sa.column("updated_at", sa.DateTime(timezone=True)),
)
models = sa.table(
    "movement_models",
    sa.column("commune_id", sa.Integer()),
    sa.column("hamlet_id", sa.Integer()),
    sa.column("name", sa.String()),
    sa.column("kind", sa.String()),
    sa.column("kind_text", sa.String()),
    sa.column("started_on", sa.Date()),
    sa.column("active", sa.Boolean()),
    sa.column("updated_at", sa.DateTime(timezone=True)),
)


def _day(value: object) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def upgrade() -> None:
    conn = op.get_bind()
    now = datetime.now(UTC)
    signed: dict[tuple[int, int, int], list[int]] = {}
    reports: dict[tuple[int, int], list[tuple[date, int, int]]] = {}
    rows = conn.execute(
        sa.select(activities).where(activities.c.kind.in_(["commitment", "model"]))
    ).all()
    for row in rows:
        day = _day(row.held_on)
        if row.kind == "commitment" and row.households_signed is not None:
            best = signed.setdefault((row.commune_id, row.hamlet_id, day.year), [0, 0])
            best[0] = max(best[0], row.households_signed)
            best[1] = max(best[1], row.households_total or 0, best[0])
        if row.kind == "model" and row.models_active is not None:
            reports.setdefault((row.commune_id, row.hamlet_id), []).append(
                (day, row.models_active, row.models_new or 0)
            )
    if signed:
        conn.execute(
            commitments.insert(),
            [
                {
                    "commune_id": c,
                    "hamlet_id": h,
                    "year": y,
                    "kind": "households",
                    "signed": s,
                    "total": t,
                    "updated_at": now,
                }
                for (c, h, y), (s, t) in sorted(signed.items())
            ],
        )
    made = []
    for (commune_id, hamlet_id), seen in sorted(reports.items()):
        seen.sort()
        left = max(active for _, active, _ in seen)
        starts: list[date] = []
        for year in sorted({day.year for day, _, _ in seen}):
            new = [(day, n) for day, _, n in seen if day.year == year and n]
            if new:
                starts += [new[0][0]] * min(sum(n for _, n in new), left - len(starts))
        starts += [date(seen[0][0].year - 1, 1, 1)] * (left - len(starts))
        made += [
            {
                "commune_id": commune_id,
                "hamlet_id": hamlet_id,
                "name": f"Mô hình tự quản số {i}",
                "kind": "other",
                "kind_text": FROM_REPORTS,
                "started_on": start,
                "active": True,
                "updated_at": now,
            }
            for i, start in enumerate(sorted(starts), start=1)
        ]
    if made:
        conn.execute(models.insert(), made)


def downgrade() -> None:
    pass
