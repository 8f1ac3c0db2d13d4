"""The web desk's pages against the province of bench.data (a year of 1M reports): median
milliseconds of each page, rendered in-process through the ASGI app (no network), signed in
as an officer of commune 7."""

from __future__ import annotations

import statistics
import time
from typing import Any

import httpx

from bench.data import NOW
from bot.web.app import Services, WebConfig, build_web_app
from storage import admin, desk
from storage.enums import Role
from storage.keyring import Keyring
from storage.models import Commune

PAGES = (
    "/cases",
    "/cases?status=all",
    "/cases?status=all&category=theft&q=xe",
    "/cases/i/{incident}",
    "/map?period=quarter",
    "/map/incidents.geojson?period=quarter",
    "/figures?period=month",
    "/export/xlsx?period=month",
)


async def time_pages(sessions: Any, repeats: int = 9) -> dict[str, float]:
    async with sessions() as session, session.begin():
        commune = await session.get(Commune, 7)
        officer = await admin.add_person(
            session, commune=commune, full_name="Bench Officer", role=Role.OFFICER
        )
        token = await desk.issue_link(session=session, person=officer, now=NOW)
        rows = await desk.incidents_between(
            session=session, commune_id=7, since=NOW.replace(month=8), until=NOW
        )
    app = build_web_app(
        Services(
            WebConfig(b"bench secret", Keyring((b"bench tip key, not for real use!",))),
            sessions,
            _no_webhook,
            clock=lambda: NOW,
        )
    )
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://b") as http:
        assert (await http.post(f"/login/{token}")).status_code == 303
        results = {}
        for page in PAGES:
            path = page.format(incident=rows[0].id if rows else 1)
            samples = []
            for _ in range(repeats):
                began = time.perf_counter()
                answer = await http.get(path)
                samples.append((time.perf_counter() - began) * 1000)
                assert answer.status_code == 200, (path, answer.status_code)
            results[page] = statistics.median(samples)
    return results


async def _no_webhook(channel: str, payload: dict[str, Any]) -> None:
    raise LookupError("no webhook in the benchmark")
