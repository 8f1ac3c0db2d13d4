"""The map of incidents, the figures, and the exports (XLSX, CSV, GeoJSON) for any period.

GeoJSON carries incidents with coordinates only: a tip's place never leaves the server."""

from __future__ import annotations

from typing import Any

from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from bot.web.app import WebCtx, desk_page
from bot.web.case_pages import tz_of
from bot.web.periods import KINDS, picked
from storage import audit, cases, desk
from storage.models import Commune
from storage.periods import Period


def _period(ctx: WebCtx) -> Period:
    q = ctx.request.query_params
    return picked(
        q.get("period", "month"), q.get("back", "0"), ctx.now.astimezone(tz_of(ctx)).date()
    )


def _picker(ctx: WebCtx, period: Period) -> dict[str, Any]:
    q = ctx.request.query_params
    back = q.get("back", "0")
    return {
        "period": period,
        "kind": period.kind,
        "back": int(back) if back.isdecimal() else 0,
        "kinds": KINDS,
    }


async def _commune(ctx: WebCtx) -> Commune:
    commune = await desk.commune_with_hamlets(session=ctx.session, commune_id=ctx.commune_id)
    assert commune is not None
    return commune


async def geojson(ctx: WebCtx, period: Period) -> dict[str, Any]:
    since, until = period.utc(tz_of(ctx))
    incidents = await desk.incidents_between(
        session=ctx.session, commune_id=ctx.commune_id, since=since, until=until
    )
    features = [
        {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [i.longitude, i.latitude]},
            "properties": {
                "code": cases.incident_code(i.id),
                "id": i.id,
                "category": i.category,
                "category_label": ctx_t(ctx, f"category.{i.category}"),
                "severity": i.severity,
                "status": i.status,
                "hamlet": i.hamlet.name,
                "occurred_at": i.occurred_at.astimezone(tz_of(ctx)).isoformat(),
            },
        }
        for i in incidents
        if i.latitude is not None and i.longitude is not None
    ]
    return {"type": "FeatureCollection", "features": features}


def ctx_t(ctx: WebCtx, key: str) -> str:
    from locales import t

    return t(ctx.lang, key)


async def map_page(ctx: WebCtx) -> Response:
    period = _period(ctx)
    since, until = period.utc(tz_of(ctx))
    incidents = await desk.incidents_between(
        session=ctx.session, commune_id=ctx.commune_id, since=since, until=until
    )
    unplaced: dict[str, list[Any]] = {}
    for i in incidents:
        if i.latitude is None or i.longitude is None:
            unplaced.setdefault(i.hamlet.name, []).append(i)
    return ctx.render(
        "map.html",
        **_picker(ctx, period),
        placed=sum(1 for i in incidents if i.latitude is not None),
        unplaced=dict(sorted(unplaced.items())),
        tile_url=ctx.services.config.tile_url,
        code=cases.incident_code,
    )


async def map_data(ctx: WebCtx) -> Response:
    return JSONResponse(await geojson(ctx, _period(ctx)))


async def export(ctx: WebCtx) -> Response:
    from storage.export import export_csv_zip, export_xlsx

    fmt = ctx.request.path_params["fmt"]
    period = _period(ctx)
    commune = await _commune(ctx)
    if fmt == "xlsx":
        name, content = await export_xlsx(ctx.session, commune, period, ctx.lang, ctx.now)
        media = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    elif fmt == "csv":
        name, content = await export_csv_zip(ctx.session, commune, period, ctx.lang, ctx.now)
        media = "application/zip"
    elif fmt == "geojson":
        import json

        content = json.dumps(await geojson(ctx, period), ensure_ascii=False).encode()
        name, media = f"incidents-{period.start}-{period.end}.geojson", "application/geo+json"
    else:
        return ctx.render("failure.html", 404, message_key="web.not_found")
    await audit.record(
        session=ctx.session,
        person=ctx.person,
        action="export",
        target=fmt,
        now=ctx.now,
        detail=f"{period.start}–{period.end}",
    )
    return Response(
        content, media_type=media, headers={"Content-Disposition": f'attachment; filename="{name}"'}
    )


async def exports_page(ctx: WebCtx) -> Response:
    return ctx.render("exports.html", **_picker(ctx, _period(ctx)))


async def figures(ctx: WebCtx) -> Response:
    from locales.text import hamlets_word
    from scheduler.digest import collect, render_text
    from storage.criteria import criteria_view

    period = _period(ctx)
    commune = await _commune(ctx)
    data = await collect(ctx.session, commune, period, ctx.now)
    kind = {"week": "weekly", "month": "monthly", "quarter": "quarterly", "year": "yearly"}
    from scheduler.digest import render_criteria

    view = await criteria_view(ctx.session, commune.id, period, tz_of(ctx), ctx.now)
    weeks, grid = await _weekly_grid(ctx, period)
    return ctx.render(
        "figures.html",
        **_picker(ctx, period),
        text=render_text(data, ctx.lang, kind[period.kind]),
        criteria=render_criteria(view, ctx.lang),
        query=ctx.request.url.query,
        weeks=weeks,
        grid=grid,
        hamlet_word=hamlets_word(ctx.lang, [r.kind for r in data.reporting]),
    )


async def _weekly_grid(ctx: WebCtx, period: Period) -> tuple[list[Any], dict[str, list[str]]]:
    """Each hamlet's weekly report, week by week: on time, late, missing, or not yet due
    (a report already in for this week shows as in). Weeks still to come are left out."""
    from datetime import timedelta

    from storage.reports import week_due
    from storage.rollups import compliance

    tz = tz_of(ctx)
    today = ctx.now.astimezone(tz).date()
    mondays = [m for m in period.mondays() if m <= today][-26:]  # a year: its last half
    grid: dict[str, list[str]] = {}
    for monday in mondays:
        week = Period("week", monday, monday + timedelta(days=7))
        due = week_due(monday, tz) <= ctx.now
        for row in await compliance(ctx.session, ctx.commune_id, week, tz):
            in_time = "ok" if row.on_time else "late" if row.late else ""
            grid.setdefault(row.name, []).append(in_time or ("no" if due else ""))
    if not mondays:  # a period whose first Monday is still to come: the hamlets, no weeks
        grid = {row.name: [] for row in await compliance(ctx.session, ctx.commune_id, period, tz)}
    return mondays, grid


async def chart(ctx: WebCtx) -> Response:
    from scheduler.digest import collect, draw_chart

    period = _period(ctx)
    data = await collect(ctx.session, await _commune(ctx), period, ctx.now)
    return Response(await draw_chart(data, ctx.lang), media_type="image/png")


def routes() -> list[BaseRoute]:
    return [
        Route("/map", desk_page(map_page)),
        Route("/map/incidents.geojson", desk_page(map_data)),
        Route("/exports", desk_page(exports_page)),
        Route("/export/{fmt}", desk_page(export)),
        Route("/figures", desk_page(figures)),
        Route("/figures/chart.png", desk_page(chart)),
    ]
