"""A report that is one voice message: sent at the main menu, kept after one confirmation as
an incident "to be classified" with the voice attached, so that a hamlet head who does not
read menus easily can report by speaking. An officer classifies it from the case card."""

from __future__ import annotations

from conversations.context import Ctx
from conversations.flow import Data, Flow, Kind, Step
from conversations.flows.common import REPORTERS, attachments, lines, text_of
from conversations.flows.incident import raise_alert
from storage.cases import case_code
from storage.enums import IncidentCategory, Severity
from storage.reports import add_incident

NAME = "voice_report"


def _summary(ctx: Ctx, data: Data) -> str:
    hamlet = ctx.person.hamlet
    return "\n".join(
        (
            lines(
                (ctx.t("field.what"), text_of(ctx, data.get("voice"))),
                (ctx.t("field.where"), hamlet.display_name if hamlet else None),
            ),
            "",
            ctx.t("voice.explain"),
        )
    )


async def _submit(ctx: Ctx, data: Data) -> str:
    person = ctx.person
    assert person.hamlet is not None and person.commune_id is not None
    incident = await add_incident(
        ctx.session,
        media=attachments(data.get("voice"), ()),
        commune_id=person.commune_id,
        hamlet_id=person.hamlet.id,
        reporter_id=person.id,
        category=IncidentCategory.UNCLASSIFIED,
        severity=Severity.ORDINARY,
        occurred_at=ctx.now,
        occurred_precision="day",  # when it happened is in the voice, not known here
        received_at=ctx.now,
        place_text=person.hamlet.display_name,
        description=text_of(ctx, data.get("voice")),
    )
    await raise_alert(ctx, incident, urgent=False)
    return ctx.t("voice.sent", code=case_code(incident), address=ctx.address)


async def _start(ctx: Ctx, data: Data) -> str | None:
    return ctx.t("menu.not_allowed") if ctx.person.hamlet is None else None


FLOW = Flow(
    name=NAME,
    title="voice.title",
    roles=REPORTERS,
    steps=(Step("voice", Kind.TEXT, "voice.ask", voice_ok=True),),
    start=_start,
    summary=_summary,
    submit=_submit,
    confirm_label="voice.send",
)
