"""The engine that runs flows: one answer in, the state saved, the next question out.

Back, cancel, edit from the summary, stale buttons, resuming a draft after a pause and
the re-ask on unexpected input live here, so that flows only declare their steps.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from conversations.callbacks import (
    BACK,
    CANCEL,
    CaseAction,
    MenuPick,
    Nav,
    OfficerScreen,
    OptionPick,
    decode,
)
from conversations.context import Ctx
from conversations.events import Button, Incoming, Reply
from conversations.flow import Data, Flow, Kind, Step
from conversations.matching import Match, match
from conversations.menu import menu_reply
from conversations.parse import parse_number, parse_when
from conversations.steps import DONE_VALUE, SKIP_VALUE, prompt_for_step, quick_value, step_buttons
from locales import t_list
from storage.models import Conversation

SUMMARY, EDIT, CONFIRM = "__summary", "__edit", "__confirm"
DONE, PENDING, HELD = "__done", "__pending", "__held"


def _nav(ctx: Ctx) -> list[Button]:
    return [
        Button(ctx.t("nav.back"), BACK.encode(), nav=True),
        Button(ctx.t("nav.cancel"), CANCEL.encode(), nav=True),
    ]


def _option(step: str, value: str) -> str:
    return OptionPick(step, value).encode()


Action = Callable[[Ctx, Conversation, str], Awaitable[list[Reply]]]


def _answers_step(data: str, step: str | None) -> bool:
    pressed = decode(data)
    return isinstance(pressed, OptionPick) and pressed.step == step


class Engine:
    def __init__(self, flows: Mapping[str, Flow], actions: Action | None = None) -> None:
        self.flows = dict(flows)
        self.actions = actions  # buttons outside flows ("a:…"), handled by the caller

    # --- rendering -------------------------------------------------------------------

    def prompt(self, ctx: Ctx, conv: Conversation) -> Reply:
        """The question the chat stands at; typed answers are matched against its buttons."""
        if conv.flow is None or conv.flow not in self.flows:
            return menu_reply(ctx, self.flows)
        flow = self.flows[conv.flow]
        data = conv.data
        if conv.paused:
            return Reply(
                ctx.t("resume.prompt", flow=ctx.t(flow.title)),
                [
                    [Button(ctx.t("resume.continue"), MenuPick("resume").encode())],
                    [Button(ctx.t("resume.discard"), MenuPick("discard").encode())],
                ],
                numbered=True,
            )
        if conv.step == SUMMARY:
            text = ctx.t("summary.title", flow=ctx.t(flow.title)) + "\n\n" + flow.summary(ctx, data)
            return Reply(
                text,
                [
                    [Button(ctx.t(flow.confirm_label), _option(SUMMARY, "submit"))],
                    [Button(ctx.t("nav.edit"), _option(SUMMARY, "edit"))],
                    _nav(ctx),
                ],
                numbered=True,
            )
        if conv.step == EDIT:
            rows = [
                [Button(ctx.t(s.summary_label), _option(EDIT, s.key))]
                for s in flow.steps
                if s.summary_label and s.key in data.get(DONE, []) and s.applies(ctx, data)
            ]
            return Reply(ctx.t("summary.edit_which"), [*rows, _nav(ctx)], numbered=True)
        if conv.step == CONFIRM:
            pending = data.get(PENDING, {})
            return Reply(
                ctx.t("match.confirm", label=pending.get("label", "")),
                [
                    [
                        Button(ctx.t("match.yes"), _option(CONFIRM, "yes")),
                        Button(ctx.t("match.no"), _option(CONFIRM, "no")),
                    ],
                ],
                numbered=True,
            )
        step = flow.step(conv.step or "")
        text = prompt_for_step(ctx, flow, step, data)
        buttons, numbered = step_buttons(ctx, step, data)
        return Reply(text, [*buttons, _nav(ctx)], numbered=numbered)

    # --- starting and leaving ----------------------------------------------------------

    def allowed(self, ctx: Ctx, name: str) -> bool:
        flow = self.flows.get(name)
        return flow is not None and ctx.person.role in flow.roles

    async def start(
        self, ctx: Ctx, conv: Conversation, name: str, preset: Data | None = None
    ) -> list[Reply]:
        """Start a flow; preset answers (a case an officer acts on) count as answered."""
        if not self.allowed(ctx, name):
            return [Reply(ctx.t("menu.not_allowed")), menu_reply(ctx, self.flows)]
        flow = self.flows[name]
        data: Data = {**(preset or {}), DONE: list(preset or {})}
        if flow.start is not None:
            refusal = await flow.start(ctx, data)
            if refusal:
                self.clear(conv)
                return [Reply(refusal), menu_reply(ctx, self.flows)]
        conv.flow, conv.data, conv.history, conv.paused = name, data, [], False
        return await self._advance(ctx, conv, flow, after=None)

    def clear(self, conv: Conversation) -> None:
        conv.flow, conv.step, conv.data, conv.history, conv.paused = None, None, {}, [], False

    def pause(self, conv: Conversation) -> None:
        if conv.flow is not None:
            conv.paused = True

    def menu(self, ctx: Ctx, conv: Conversation) -> Reply:
        return self.prompt(ctx, conv) if conv.paused else menu_reply(ctx, self.flows)

    # --- input -------------------------------------------------------------------------

    async def handle(self, ctx: Ctx, conv: Conversation, event: Incoming) -> list[Reply]:
        data = event.callback
        if data is None and event.text is not None:
            shown = self.prompt(ctx, conv)
            found = match(
                event.text,
                shown.flat_buttons(),
                ambiguous=frozenset(t_list(ctx.lang, "match.ambiguous")),
            )
            if isinstance(found, list):
                return [Reply(ctx.t("match.which"), [[b] for b in found], numbered=True)]
            if isinstance(found, Match):
                if found.confirm and conv.flow and not conv.paused:
                    conv.data = {
                        **conv.data,
                        PENDING: {
                            "data": found.button.data,
                            "label": found.button.label,
                            "back_to": conv.step,
                        },
                    }
                    conv.step = CONFIRM
                    return [self.prompt(ctx, conv)]
                data = found.button.data
        if (
            conv.flow
            and not conv.paused
            and self._stale(ctx, conv)
            and not (data and _answers_step(data, conv.step))
        ):
            conv.paused = True
            held = {
                "text": event.text,
                "media": event.media and event.media.__dict__,
                "location": event.location,
            }
            if data is None and any(held.values()):
                conv.data = {**conv.data, HELD: held}
            return [self.prompt(ctx, conv)]
        if data is not None:
            return await self._on_button(ctx, conv, data)
        return await self._on_free(ctx, conv, event)

    def _stale(self, ctx: Ctx, conv: Conversation) -> bool:
        return ctx.now - conv.updated_at > ctx.config.timeout

    async def _on_button(self, ctx: Ctx, conv: Conversation, data: str) -> list[Reply]:
        pressed = decode(data)
        if pressed == CANCEL:
            had = conv.flow is not None
            self.clear(conv)
            return [
                Reply(ctx.t("nav.cancelled" if had else "nav.nothing_to_cancel")),
                menu_reply(ctx, self.flows),
            ]
        if isinstance(pressed, Nav):
            return self._back(ctx, conv)
        if isinstance(pressed, MenuPick):
            return await self._on_menu(ctx, conv, pressed.name)
        if isinstance(pressed, CaseAction | OfficerScreen) and self.actions is not None:
            return await self.actions(ctx, conv, data)
        if isinstance(pressed, OptionPick):
            if conv.flow is None or conv.paused or pressed.step != conv.step:
                return [Reply(ctx.t("stale.button")), self.prompt(ctx, conv)]
            return await self._on_option(ctx, conv, pressed.step, pressed.value)
        return [Reply(ctx.t("stale.button")), self.prompt(ctx, conv)]

    async def _on_menu(self, ctx: Ctx, conv: Conversation, action: str) -> list[Reply]:
        if action == "resume" and conv.flow:
            conv.paused = False
            held = conv.data.get(HELD)
            conv.data = {k: v for k, v in conv.data.items() if k != HELD}
            if held:
                from conversations.events import MediaIn

                media = MediaIn(**held["media"]) if held.get("media") else None
                place = held.get("location")
                location = (float(place[0]), float(place[1])) if place else None
                event = Incoming(
                    ctx.event.channel,
                    ctx.event.chat_id,
                    ctx.event.user_id,
                    text=held.get("text"),
                    media=media,
                    location=location,
                )
                return await self.handle(ctx, conv, event)
            return [self.prompt(ctx, conv)]
        if action == "discard":
            self.clear(conv)
            return [Reply(ctx.t("nav.cancelled")), menu_reply(ctx, self.flows)]
        if action == "menu":
            return [self.menu(ctx, conv)]
        if action not in self.flows:
            return [Reply(ctx.t("stale.button")), self.prompt(ctx, conv)]
        if conv.flow and not conv.paused and conv.flow != action:
            conv.paused = True  # keep the draft; the person chooses
            return [self.prompt(ctx, conv)]
        if conv.flow == action and not conv.paused:
            return [self.prompt(ctx, conv)]
        return await self.start(ctx, conv, action)

    def _back(self, ctx: Ctx, conv: Conversation) -> list[Reply]:
        if conv.flow is None:
            return [menu_reply(ctx, self.flows)]
        if conv.step == CONFIRM:
            conv.step = conv.data.get(PENDING, {}).get("back_to")
            return [self.prompt(ctx, conv)]
        history = list(conv.history)
        if not history:
            self.clear(conv)
            return [Reply(ctx.t("nav.cancelled")), menu_reply(ctx, self.flows)]
        previous = history.pop()
        conv.history = history
        conv.data = {**conv.data, DONE: [k for k in conv.data.get(DONE, []) if k != previous]}
        conv.step = previous
        return [self.prompt(ctx, conv)]

    async def _on_option(
        self, ctx: Ctx, conv: Conversation, step_key: str, value: str
    ) -> list[Reply]:
        flow = self.flows[conv.flow or ""]
        if step_key == SUMMARY:
            if value == "submit":
                message = await flow.submit(ctx, conv.data)
                self.clear(conv)
                return [Reply(message), menu_reply(ctx, self.flows)]
            if value == "edit":
                conv.step = EDIT
                return [self.prompt(ctx, conv)]
            return [self.prompt(ctx, conv)]
        if step_key == EDIT:
            if value not in conv.data.get(DONE, []):
                return [Reply(ctx.t("stale.button")), self.prompt(ctx, conv)]
            conv.history = [*conv.history, SUMMARY]
            conv.step = value
            return [self.prompt(ctx, conv)]
        if step_key == CONFIRM:
            pending = conv.data.get(PENDING, {})
            conv.step = pending.get("back_to")
            conv.data = {k: v for k, v in conv.data.items() if k != PENDING}
            if value == "yes" and pending.get("data"):
                return await self._on_button(ctx, conv, pending["data"])
            return [self.prompt(ctx, conv)]
        step = flow.step(step_key)
        if not step.applies(ctx, conv.data):
            return [Reply(ctx.t("stale.button")), self.prompt(ctx, conv)]
        if value == SKIP_VALUE and step.optional:
            return await self._answer(ctx, conv, flow, step, None)
        if step.kind == Kind.MEDIA and value == DONE_VALUE:
            return await self._answer(ctx, conv, flow, step, conv.data.get(step.key) or [])
        buttons, _ = step_buttons(ctx, step, conv.data)
        if not any(decode(b.data) == OptionPick(step.key, value) for row in buttons for b in row):
            return [Reply(ctx.t("stale.button")), self.prompt(ctx, conv)]
        return await self._checked(ctx, conv, flow, step, quick_value(ctx, step, value))

    async def _on_free(self, ctx: Ctx, conv: Conversation, event: Incoming) -> list[Reply]:
        if conv.flow is None or conv.paused:
            greeting = (
                ctx.t("menu.hint") if event.text or event.media else ctx.t("input.unsupported")
            )
            return [Reply(greeting), self.menu(ctx, conv)]
        if conv.step in (SUMMARY, EDIT, CONFIRM):
            return [Reply(ctx.t("hint.choose")), self.prompt(ctx, conv)]
        flow = self.flows[conv.flow]
        step = flow.step(conv.step or "")
        value, error = self._read(ctx, conv, step, event)
        if error:
            return [Reply(error), self.prompt(ctx, conv)]
        if step.kind == Kind.MEDIA:
            return self._add_media(ctx, conv, step, event, value)
        return await self._checked(ctx, conv, flow, step, value)

    def _read(
        self, ctx: Ctx, conv: Conversation, step: Step, event: Incoming
    ) -> tuple[Any, str | None]:
        """The answer event gives to step, or the hint to re-ask with."""
        text = (event.text or "").strip()
        if step.kind == Kind.MEDIA:
            if event.media is not None or (text and step.append_text_to):
                return None, None
            return None, ctx.t("hint.media")
        if step.kind == Kind.TEXT:
            if (
                event.media is not None
                and step.voice_ok
                and event.media.media_type in ("voice", "audio")
            ):
                return {"voice": event.media.as_dict(ctx.event.channel)}, None
            if not text:
                return None, ctx.t("hint.voice_or_text" if step.voice_ok else "hint.text")
            if len(text) > ctx.config.max_text:
                return None, ctx.t("hint.too_long", length=len(text), limit=ctx.config.max_text)
            return text, None
        if step.kind == Kind.NUMBER:
            number = parse_number(text) if text else None
            if number is None:
                return None, ctx.t("hint.number", minimum=step.minimum, maximum=step.maximum)
            if not step.minimum <= number <= step.maximum:
                return None, ctx.t("hint.number_range", minimum=step.minimum, maximum=step.maximum)
            return number, None
        if step.kind == Kind.DATETIME:
            when = parse_when(text, ctx.now, ctx.tz) if text else None
            if when is None:
                return None, ctx.t("hint.datetime")
            return {"at": when.at.isoformat(), "precision": when.precision}, None
        if step.kind == Kind.LOCATION:
            if event.location is not None:
                return {"lat": event.location[0], "lon": event.location[1]}, None
            if text:
                if len(text) > ctx.config.max_text:
                    return None, ctx.t("hint.too_long", length=len(text), limit=ctx.config.max_text)
                return {"text": text}, None
            return None, ctx.t("hint.location")
        return None, ctx.t("hint.choose")

    def _add_media(
        self, ctx: Ctx, conv: Conversation, step: Step, event: Incoming, _: Any
    ) -> list[Reply]:
        data = dict(conv.data)
        if event.media is None:
            target = step.append_text_to or ""
            previous = data.get(target) if isinstance(data.get(target), str) else ""
            data[target] = f"{previous}\n{(event.text or '').strip()}".strip()
            conv.data = data
            return [Reply(ctx.t("media.text_added")), self.prompt(ctx, conv)]
        items = list(data.get(step.key) or [])
        if len(items) >= ctx.config.max_attachments:
            return [
                Reply(ctx.t("media.too_many", limit=ctx.config.max_attachments)),
                self.prompt(ctx, conv),
            ]
        if event.media.size_bytes and event.media.size_bytes > ctx.config.max_media_bytes:
            return [
                Reply(ctx.t("media.too_big", limit=ctx.config.max_media_bytes // 2**20)),
                self.prompt(ctx, conv),
            ]
        items.append(event.media.as_dict(ctx.event.channel))
        data[step.key] = items
        if event.media.caption and step.append_text_to:
            previous = data.get(step.append_text_to) or ""
            if isinstance(previous, str):
                data[step.append_text_to] = f"{previous}\n{event.media.caption}".strip()
        conv.data = data
        return [
            Reply(
                ctx.t("media.received", count=len(items)),
                [[Button(ctx.t("media.done"), _option(step.key, DONE_VALUE))], _nav(ctx)],
                numbered=True,
            )
        ]

    async def _checked(
        self, ctx: Ctx, conv: Conversation, flow: Flow, step: Step, value: Any
    ) -> list[Reply]:
        if step.validate is not None:
            error = step.validate(ctx, conv.data, value)
            if error:
                return [Reply(ctx.t(error)), self.prompt(ctx, conv)]
        return await self._answer(ctx, conv, flow, step, value)

    async def _answer(
        self, ctx: Ctx, conv: Conversation, flow: Flow, step: Step, value: Any
    ) -> list[Reply]:
        done = [k for k in conv.data.get(DONE, []) if k != step.key] + [step.key]
        conv.data = {**conv.data, step.key: value, DONE: done}
        conv.history = [*conv.history, step.key]
        return await self._advance(ctx, conv, flow, after=step.key)

    async def _advance(
        self, ctx: Ctx, conv: Conversation, flow: Flow, after: str | None
    ) -> list[Reply]:
        keys = [s.key for s in flow.steps]
        start = keys.index(after) + 1 if after in keys else 0
        done = set(conv.data.get(DONE, []))
        for step in flow.steps[start:]:
            if step.key not in done and step.applies(ctx, conv.data):
                conv.step = step.key
                return [self.prompt(ctx, conv)]
        # After an edit, earlier steps may have become necessary (another activity type).
        for step in flow.steps[:start]:
            if step.key not in done and step.applies(ctx, conv.data):
                conv.step = step.key
                return [self.prompt(ctx, conv)]
        if not flow.confirm:
            message = await flow.submit(ctx, conv.data)
            self.clear(conv)
            return [Reply(message), menu_reply(ctx, self.flows)]
        conv.step = SUMMARY
        return [self.prompt(ctx, conv)]
