"""The movement's records in chat: a model added to the register or updated (team leads for
their hamlet, officers for the commune), and the year's commitments and recognitions
(officers). Each flow asks, shows a summary, and writes through storage.movement."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from conversations.context import Ctx
from conversations.flow import Data, Flow, Kind, Option, Step
from conversations.flows.common import OFFICERS, code_options, lines, show_when
from locales.text import first_upper
from storage import movement
from storage.enums import CommitmentKind, ModelKind, Role, UnitKind

MODEL_KEEPERS = OFFICERS | {Role.TEAM_LEAD.value}
WHOLE_COMMUNE = "commune"


def _is_officer(ctx: Ctx) -> bool:
    return ctx.person.role in OFFICERS


async def _hamlets(ctx: Ctx) -> list[list[Any]]:
    assert ctx.person.commune_id is not None
    found = await movement.hamlet_names(ctx.session, commune_id=ctx.person.commune_id)
    return [[i, name] for i, name in found]


def _hamlet_options(ctx: Ctx, data: Data) -> list[Option]:
    return [Option(str(i), first_upper(name)) for i, name in data.get("hamlets", [])]


def _place(ctx: Ctx, data: Data) -> str:
    """Where a new model is: the team lead's hamlet, or the officer's choice."""
    scope = data.get("scope")
    if not _is_officer(ctx):
        return ctx.person.hamlet.display_name if ctx.person.hamlet else ""
    if scope == WHOLE_COMMUNE or scope is None:
        commune = ctx.person.commune
        return commune.display_name if commune else ""
    return next((name for i, name in data.get("hamlets", []) if str(i) == scope), "")


def _options(ctx: Ctx, family: str, codes: list[str]) -> list[Option]:
    """Choices labelled from a family of keys ("model.kind." + code), first letter upper."""
    return [
        Option(o.value, first_upper(o.label), o.keywords)
        for o in code_options(ctx, family.rstrip("."), codes)
    ]


def _years(ctx: Ctx, data: Data) -> list[Option]:
    year = ctx.local(ctx.now).year
    return [Option(str(y), ctx.t("commitment.year", year=y)) for y in (year, year - 1)]


def _at_most(other: str, error: str) -> Any:
    def check(ctx: Ctx, data: Data, value: int) -> str | None:
        limit = data.get(other)
        return error if isinstance(limit, int) and value > limit else None

    return check


def _at_least(other: str, error: str) -> Any:
    """A total changed from the summary stays at least the part already given."""

    def check(ctx: Ctx, data: Data, value: int) -> str | None:
        part = data.get(other)
        return error if isinstance(part, int) and value < part else None

    return check


# --- adding a model ---------------------------------------------------------------------


async def _start_add(ctx: Ctx, data: Data) -> str | None:
    if ctx.person.commune_id is None:
        return ctx.t("menu.not_allowed")
    if _is_officer(ctx):
        data["hamlets"] = await _hamlets(ctx)
    elif ctx.person.hamlet is None:
        return ctx.t("menu.not_allowed")
    return None


def _kind_label(ctx: Ctx, data: Data) -> str:
    if data.get("kind") == ModelKind.OTHER and data.get("kind_text"):
        return str(data["kind_text"])
    return ctx.t(f"model.kind.{data.get('kind', 'other')}")


def _add_summary(ctx: Ctx, data: Data) -> str:
    members = data.get("members")
    return lines(
        (ctx.t("model.field_kind"), _kind_label(ctx, data)),
        (ctx.t("model.field_name"), data.get("name")),
        (ctx.t("model.field_place"), _place(ctx, data)),
        (ctx.t("model.field_started"), show_when(ctx, data["started"])),
        (
            ctx.t("model.field_members"),
            str(members) if members is not None else ctx.t("summary.none"),
        ),
    )


async def _submit_add(ctx: Ctx, data: Data) -> str:
    person = ctx.person
    assert person.commune_id is not None
    if _is_officer(ctx):
        scope = data.get("scope")
        hamlet_id = None if scope in (None, WHOLE_COMMUNE) else int(scope)
    else:
        assert person.hamlet is not None
        hamlet_id = person.hamlet.id
    model = await movement.add_model(
        ctx.session,
        commune_id=person.commune_id,
        hamlet_id=hamlet_id,
        name=data["name"],
        kind=data["kind"],
        kind_text=data.get("kind_text"),
        started_on=ctx.local(data["started"].at).date(),
        members=data.get("members"),
        created_by=person.id,
        now=ctx.now,
    )
    return ctx.t("model.added", name=model.name, place=_place(ctx, data), address=ctx.address)


def _text_limit(limit: int) -> Any:
    def check(ctx: Ctx, data: Data, value: Any) -> str | None:
        return "model.error_long" if isinstance(value, str) and len(value) > limit else None

    return check


ADD = Flow(
    name="model_add",
    title="model.add_title",
    roles=MODEL_KEEPERS,
    steps=(
        Step(
            "kind",
            Kind.CHOICE,
            "model.ask_kind",
            options=lambda ctx, d: _options(ctx, "model.kind.", list(ModelKind)),
            summary_label="model.field_kind",
        ),
        Step(
            "kind_text",
            Kind.TEXT,
            "model.ask_kind_text",
            when=lambda ctx, d: d.get("kind") == ModelKind.OTHER,
            validate=_text_limit(movement.MAX_KIND_TEXT),
            summary_label="model.field_kind",
        ),
        Step(
            "name",
            Kind.TEXT,
            "model.ask_name",
            validate=_text_limit(movement.MAX_NAME),
            summary_label="model.field_name",
        ),
        Step(
            "scope",
            Kind.CHOICE,
            "model.ask_place",
            when=lambda ctx, d: _is_officer(ctx),
            options=lambda ctx, d: [
                Option(WHOLE_COMMUNE, ctx.t("model.whole_commune")),
                *_hamlet_options(ctx, d),
            ],
            summary_label="model.field_place",
        ),
        Step("started", Kind.DATETIME, "model.ask_started", summary_label="model.field_started"),
        Step(
            "members",
            Kind.NUMBER,
            "model.ask_members",
            optional=True,
            quick_numbers=(5, 10, 15, 20, 30),
            maximum=100_000,
            summary_label="model.field_members",
        ),
    ),
    start=_start_add,
    summary=_add_summary,
    submit=_submit_add,
)


# --- updating a model -------------------------------------------------------------------


async def _start_update(ctx: Ctx, data: Data) -> str | None:
    person = ctx.person
    if person.commune_id is None or (not _is_officer(ctx) and person.hamlet is None):
        return ctx.t("menu.not_allowed")
    found = await movement.list_models(
        ctx.session,
        commune_id=person.commune_id,
        hamlet_id=None if _is_officer(ctx) else person.hamlet_id,
        limit=movement.LIST_LIMIT,
    )
    if not _is_officer(ctx):  # a team lead keeps their own hamlet's models
        found = [m for m in found if m.hamlet_id == person.hamlet_id]
    if not found:
        return ctx.t("model.none")
    data["models"] = [
        [m.id, m.name, m.active, m.hamlet.display_name if m.hamlet else ""] for m in found
    ]
    return None


def _chosen(data: Data) -> list[Any] | None:
    return next((m for m in data.get("models", []) if str(m[0]) == data.get("model")), None)


def _model_options(ctx: Ctx, data: Data) -> list[Option]:
    options = []
    for i, name, active, place in data.get("models", []):
        parts = [name, *([place] if place else []), *([] if active else [ctx.t("model.inactive")])]
        options.append(Option(str(i), " · ".join(parts)))
    return options


def _change_options(ctx: Ctx, data: Data) -> list[Option]:
    chosen = _chosen(data)
    toggle = "stop" if chosen is None or chosen[2] else "restart"
    return [
        Option(toggle, ctx.t(f"model.change_{toggle}")),
        Option("members", ctx.t("model.change_members")),
    ]


def _update_summary(ctx: Ctx, data: Data) -> str:
    chosen = _chosen(data)
    change = data.get("change", "")
    what = ctx.t(f"model.change_{change}") if change else ""
    if change == "members":
        what = f"{what}: {data.get('members')}"
    return lines(
        (ctx.t("model.field_name"), chosen[1] if chosen else ""),
        (ctx.t("model.field_change"), what),
    )


async def _submit_update(ctx: Ctx, data: Data) -> str:
    person = ctx.person
    assert person.commune_id is not None
    model = await movement.get_model(
        ctx.session, commune_id=person.commune_id, model_id=int(data["model"])
    )
    if model is None or (not _is_officer(ctx) and model.hamlet_id != person.hamlet_id):
        return ctx.t("model.none")
    change = data["change"]
    await movement.update_model(
        ctx.session,
        model=model,
        today=ctx.local(ctx.now).date(),
        now=ctx.now,
        active=True if change == "restart" else False if change == "stop" else None,
        members=data.get("members") if change == "members" else None,
    )
    return ctx.t("model.updated", name=model.name)


UPDATE = Flow(
    name="model_update",
    title="model.update_title",
    roles=MODEL_KEEPERS,
    steps=(
        Step(
            "model",
            Kind.CHOICE,
            "model.ask_which",
            options=_model_options,
            summary_label="model.field_name",
        ),
        Step(
            "change",
            Kind.CHOICE,
            "model.ask_change",
            options=_change_options,
            summary_label="model.field_change",
        ),
        Step(
            "members",
            Kind.NUMBER,
            "model.ask_members",
            when=lambda ctx, d: d.get("change") == "members",
            quick_numbers=(5, 10, 15, 20, 30),
            maximum=100_000,
        ),
    ),
    start=_start_update,
    summary=_update_summary,
    submit=_submit_update,
)


# --- commitments and recognitions: a part of a total, in a year -------------------------


def _year_step(prompt: str) -> Step:
    return Step("year", Kind.CHOICE, prompt, options=_years, summary_label="commitment.field_year")


def _part_of_total(
    section: str,
    part: str,
    *,
    maximum: int,
    hint: Callable[[Ctx, Data], str | None] | None = None,
) -> tuple[Step, Step]:
    """The total, then the part of it (signed, recognised), each checked against the other
    so that an edit from the summary cannot make the part the larger."""
    error = f"{section}.error_more"
    return (
        Step(
            "total",
            Kind.NUMBER,
            f"{section}.ask_total",
            hint=hint,
            quick_numbers=(),
            maximum=maximum,
            validate=_at_least(part, error),
            summary_label=f"{section}.field_total",
        ),
        Step(
            part,
            Kind.NUMBER,
            f"{section}.ask_{part}",
            quick_numbers=(),
            maximum=maximum,
            validate=_at_most("total", error),
            summary_label=f"{section}.field_{'signed' if part == 'signed' else 'count'}",
        ),
    )


# --- commitments ------------------------------------------------------------------------


async def _start_officer(ctx: Ctx, data: Data) -> str | None:
    if ctx.person.commune_id is None:
        return ctx.t("menu.not_allowed")
    data["hamlets"] = await _hamlets(ctx)
    return None


def _commitment_summary(ctx: Ctx, data: Data) -> str:
    kind = data.get("kind", "")
    place = (
        next((n for i, n in data.get("hamlets", []) if str(i) == data.get("hamlet")), "")
        if kind == CommitmentKind.HOUSEHOLDS
        else ""
    )
    return lines(
        (ctx.t("commitment.field_kind"), first_upper(ctx.t(f"commitment.kind.{kind}"))),
        (ctx.t("model.field_place"), place or None),
        (ctx.t("commitment.field_year"), str(data.get("year", ""))),
        (ctx.t("commitment.field_signed"), f"{data.get('signed')}/{data.get('total')}"),
    )


async def _submit_commitment(ctx: Ctx, data: Data) -> str:
    person = ctx.person
    assert person.commune_id is not None
    households = data["kind"] == CommitmentKind.HOUSEHOLDS
    await movement.record_commitment(
        ctx.session,
        commune_id=person.commune_id,
        hamlet_id=int(data["hamlet"]) if households else None,
        year=int(data["year"]),
        kind=data["kind"],
        signed=data["signed"],
        total=data["total"],
        recorded_by=person.id,
        now=ctx.now,
    )
    return ctx.t(
        "commitment.recorded",
        kind=ctx.t(f"commitment.kind.{data['kind']}"),
        signed=data["signed"],
        total=data["total"],
        year=data["year"],
    )


COMMITMENT = Flow(
    name="commitment",
    title="commitment.title",
    roles=OFFICERS,
    steps=(
        Step(
            "kind",
            Kind.CHOICE,
            "commitment.ask_kind",
            options=lambda ctx, d: _options(ctx, "commitment.kind.", list(CommitmentKind)),
            summary_label="commitment.field_kind",
        ),
        Step(
            "hamlet",
            Kind.CHOICE,
            "commitment.ask_hamlet",
            when=lambda ctx, d: d.get("kind") == CommitmentKind.HOUSEHOLDS,
            options=_hamlet_options,
            summary_label="model.field_place",
        ),
        _year_step("commitment.ask_year"),
        *_part_of_total("commitment", "signed", maximum=1_000_000),
    ),
    start=_start_officer,
    summary=_commitment_summary,
    submit=_submit_commitment,
)


# --- recognitions -----------------------------------------------------------------------


def _recognition_summary(ctx: Ctx, data: Data) -> str:
    unit = data.get("unit", "")
    return lines(
        (ctx.t("recognition.field_unit"), first_upper(ctx.t(f"recognition.unit.{unit}"))),
        (ctx.t("commitment.field_year"), str(data.get("year", ""))),
        (ctx.t("recognition.field_count"), f"{data.get('recognised')}/{data.get('total')}"),
    )


async def _submit_recognition(ctx: Ctx, data: Data) -> str:
    person = ctx.person
    assert person.commune_id is not None
    await movement.record_recognition(
        ctx.session,
        commune_id=person.commune_id,
        year=int(data["year"]),
        unit_kind=data["unit"],
        recognised=data["recognised"],
        total=data["total"],
        recorded_by=person.id,
        now=ctx.now,
    )
    return ctx.t(
        "recognition.recorded",
        unit=ctx.t(f"recognition.unit.{data['unit']}"),
        recognised=data["recognised"],
        total=data["total"],
        year=data["year"],
    )


def _areas_total(ctx: Ctx, data: Data) -> str | None:
    return "recognition.hint_areas" if data.get("unit") == UnitKind.AREAS else None


RECOGNITION = Flow(
    name="recognition",
    title="recognition.title",
    roles=OFFICERS,
    steps=(
        Step(
            "unit",
            Kind.CHOICE,
            "recognition.ask_unit",
            options=lambda ctx, d: _options(ctx, "recognition.unit.", list(UnitKind)),
            summary_label="recognition.field_unit",
        ),
        _year_step("recognition.ask_year"),
        *_part_of_total("recognition", "recognised", maximum=100_000, hint=_areas_total),
    ),
    start=_start_officer,
    values=lambda ctx, d: {"hamlets": len(d.get("hamlets", []))},
    summary=_recognition_summary,
    submit=_submit_recognition,
)
