"""How each kind of step asks, which quick answers it offers, and what they mean."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from conversations.answers import Answer, Place, When
from conversations.callbacks import OptionPick
from conversations.context import Ctx
from conversations.events import Button
from conversations.flow import Data, Flow, Kind, Step
from locales import keywords

DONE_VALUE, SKIP_VALUE = "__done", "__skip"  # "no more media", "skip this step"


def prompt_for_step(ctx: Ctx, flow: Flow, step: Step, data: Data) -> str:
    values = flow.values(ctx, data)
    text = ctx.t(step.prompt, **values)
    if step.kind == Kind.MEDIA and data.get(step.key):
        text += "\n" + ctx.t(
            "media.so_far",
            files=ctx.media_words(i.media_type for i in data[step.key]),
            count=len(data[step.key]),  # the placeholder of catalogues written before {files}
        )
    hint = step.hint(ctx, data) if step.hint else None
    if hint:
        text += "\n\n" + ctx.t(hint, **values)
    return text


def step_buttons(ctx: Ctx, step: Step, data: Data) -> tuple[list[list[Button]], bool]:
    """The step's answer buttons (without back and cancel) and whether they are numbered."""

    def button(value: str, label: str, keywords: tuple[str, ...] = ()) -> Button:
        return Button(label, OptionPick(step.key, value).encode(), keywords=keywords)

    rows: list[list[Button]] = []
    numbered = True
    if step.options is not None:
        rows = [
            [
                Button(
                    o.label,
                    OptionPick(step.key, o.value).encode(),
                    keywords=o.keywords,
                    share_location=step.kind == Kind.LOCATION and o.value == "share",
                )
            ]
            for o in step.options(ctx, data)
        ]
    elif step.kind == Kind.NUMBER:
        numbers = [n for n in step.quick_numbers if step.minimum <= n <= step.maximum]
        rows = [[button(str(n), str(n)) for n in numbers]] if numbers else []
        numbered = False
    elif step.kind == Kind.DATETIME:
        rows = [[button(v, ctx.t(f"when.{v}"))] for v in ("now", "today", "yesterday")]
    elif step.kind == Kind.MEDIA:
        label = "media.done" if data.get(step.key) else "media.none"
        rows = [[button(DONE_VALUE, ctx.t(label), tuple(keywords(ctx.lang, "keyword.done")))]]
    if step.kind == Kind.TEXT:
        numbered = False
    if step.optional:
        rows.append(
            [Button(ctx.t("nav.skip"), OptionPick(step.key, SKIP_VALUE).encode(), nav=True)]
        )
    return rows, numbered


EXACT_TIME = "@"  # an option value naming a typed time: "@<unix seconds><e|d>"


def exact_time_value(when: When) -> str:
    """A typed time as an option value, to confirm it with a button (it fits in 64 bytes)."""
    return f"{EXACT_TIME}{int(when.at.timestamp())}{when.precision[0]}"


def exact_time(ctx: Ctx, value: str) -> When | None:
    body = value[len(EXACT_TIME) :]
    if len(body) < 2 or not body[:-1].isdecimal() or body[-1] not in "ed":
        return None
    at = datetime.fromtimestamp(int(body[:-1]), UTC).astimezone(ctx.tz)
    return When(at, "exact" if body[-1] == "e" else "day")


def quick_value(ctx: Ctx, step: Step, value: str) -> Answer:
    """What a quick-answer button stands for, as a typed answer would be."""
    if step.kind == Kind.NUMBER:
        return int(value)
    if step.kind == Kind.DATETIME:
        local = ctx.local(ctx.now)
        if value == "now":
            return When(local, "exact")
        day = local - timedelta(days=0 if value == "today" else 1)
        at = day.replace(hour=12, minute=0, second=0, microsecond=0)
        return When(min(at, local), "day")
    if step.kind == Kind.LOCATION:
        return Place(choice=value)
    return value
