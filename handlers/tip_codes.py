"""A tip's secret code typed into any chat: it opens that tip's questions and lets the
tipster add to it, from a phone the tip was not sent from."""

from __future__ import annotations

from conversations.context import Ctx
from conversations.engine import Engine
from conversations.events import Reply
from storage import cases, tip_access
from storage.enums import Status
from storage.models import Conversation


async def open_by_code(ctx: Ctx, conv: Conversation, engine: Engine, typed: str) -> list[Reply]:
    found = await tip_access.open_tip(
        session=ctx.session, typed=typed, key=ctx.config.secret, now=ctx.now
    )
    if isinstance(found, str):
        key = "tip_add.limited" if found == "limited" else "tip_add.wrong_code"
        return [Reply(ctx.t(key)), engine.menu(ctx, conv)]
    if found.status == Status.CLOSED:
        return [Reply(ctx.t("tip_add.closed", code=found.case_code)), engine.menu(ctx, conv)]
    lines = [ctx.t("tip_add.opened", code=found.case_code)]
    messages = await cases.tip_messages(session=ctx.session, tip=found)
    asked = [m for m in messages if not m.from_tipster]
    if asked:
        lines.append(ctx.t("tip_add.questions"))
        lines += [f"• {ctx.local(m.at):%d/%m %H:%M}: {m.body}" for m in asked]
    else:
        lines.append(ctx.t("tip_add.no_questions"))
    preset = {"code": found.case_code, "tip_id": found.id}
    started = await engine.start(ctx, conv, "tip_add", preset)
    return [Reply("\n".join(lines)), *started]
