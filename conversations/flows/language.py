"""Choosing the language the bot speaks; languages come from the catalogue files."""

from __future__ import annotations

from conversations.context import Ctx
from conversations.flow import Data, Flow, Kind, Option, Step
from conversations.flows.common import EVERYONE
from locales import available_languages


async def _submit(ctx: Ctx, data: Data) -> str:
    ctx.person.language = data["language"]
    return ctx.t("language.changed", language=available_languages()[data["language"]])


FLOW = Flow(
    name="language",
    title="language.title",
    roles=EVERYONE,
    steps=(
        Step(
            "language",
            Kind.CHOICE,
            "language.ask",
            options=lambda ctx, d: [
                Option(code, name) for code, name in available_languages().items()
            ],
        ),
    ),
    summary=lambda ctx, data: "",
    submit=_submit,
    confirm=False,
)
