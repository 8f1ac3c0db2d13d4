"""Activity report: the type, the day, the figures that type needs, a note, photos."""

from __future__ import annotations

from collections.abc import Callable

from conversations.context import Ctx
from conversations.flow import Data, Flow, Kind, Step
from conversations.flows.common import (
    REPORTERS,
    attachments,
    code_options,
    lines,
    show_media,
    show_when,
    text_of,
)
from storage.enums import ACTIVITY_FIGURES, FIGURES, REPORTED_KINDS, ActivityKind
from storage.reports import add_activity


def _needs(figure: str) -> Callable[[Ctx, Data], bool]:
    return lambda ctx, data: figure in ACTIVITY_FIGURES.get(ActivityKind(data["kind"]), ())


def _at_most(other: str, error: str) -> Callable[[Ctx, Data, int], str | None]:
    def check(ctx: Ctx, data: Data, value: int) -> str | None:
        limit = data.get(other)
        return error if isinstance(limit, int) and value > limit else None

    return check


def _figure_step(name: str) -> Step:
    validate = None
    if name == "cases_successful":
        validate = _at_most("cases", "activity.error_successful")
    if name == "households_signed":
        validate = _at_most("households_total", "activity.error_households")
    quick = (0, 1, 2, 3, 5) if name not in ("attendees", "participants") else (10, 20, 30, 50)
    return Step(
        name,
        Kind.NUMBER,
        f"activity.ask_{name}",
        when=_needs(name),
        validate=validate,
        quick_numbers=quick,
        maximum=100_000,
        summary_label=f"figure.{name}",
    )


def _summary(ctx: Ctx, data: Data) -> str:
    kind = ActivityKind(data["kind"])
    figures = [(ctx.t(f"figure.{n}"), str(data[n])) for n in ACTIVITY_FIGURES[kind] if n in data]
    return lines(
        (ctx.t("field.activity"), ctx.t(f"activity_kind.{kind}")),
        (ctx.t("field.day"), show_when(ctx, data["held"])),
        *figures,
        (ctx.t("field.note"), text_of(ctx, data.get("description"))),
        (
            ctx.t("field.media"),
            show_media(ctx, attachments(data.get("description"), data.get("media"))),
        ),
    )


async def _submit(ctx: Ctx, data: Data) -> str:
    person = ctx.person
    assert person.hamlet is not None and person.commune_id is not None
    kind = ActivityKind(data["kind"])
    figures = {n: data[n] for n in ACTIVITY_FIGURES[kind] if isinstance(data.get(n), int)}
    activity = await add_activity(
        ctx.session,
        media=attachments(data.get("description"), data.get("media")),
        commune_id=person.commune_id,
        hamlet_id=person.hamlet.id,
        team_id=person.team_id,
        reporter_id=person.id,
        kind=kind,
        received_at=ctx.now,
        held_on=ctx.local(data["held"].at).date(),
        description=text_of(ctx, data.get("description")),
        figures=figures,
    )
    return ctx.t("activity.sent", id=activity.id)


FLOW = Flow(
    name="activity",
    title="activity.title",
    roles=REPORTERS,
    steps=(
        Step(
            "kind",
            Kind.CHOICE,
            "activity.ask_kind",
            options=lambda ctx, d: code_options(ctx, "activity_kind", list(REPORTED_KINDS)),
            summary_label="field.activity",
        ),
        Step("held", Kind.DATETIME, "activity.ask_day", summary_label="field.day"),
        *(_figure_step(name) for name in FIGURES),
        Step(
            "description",
            Kind.TEXT,
            "activity.ask_note",
            voice_ok=True,
            optional=True,
            summary_label="field.note",
        ),
        Step(
            "media",
            Kind.MEDIA,
            "activity.ask_media",
            append_text_to="description",
            summary_label="field.media",
        ),
    ),
    summary=_summary,
    submit=_submit,
    values=lambda ctx, d: {"hamlet": ctx.person.hamlet.display_name if ctx.person.hamlet else ""},
)
