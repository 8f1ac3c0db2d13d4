"""The engine that runs flows: one answer in, the state saved, the next question out.

Back, cancel, edit from the summary, stale buttons, resuming a draft after a pause and
the re-ask on unexpected input live here, so that flows only declare their steps.

A conversation's data holds the flow's answers in their stored form (conversations.answers)
and the flow's presets; flows are handed the answers typed. What the engine keeps for itself
(steps answered, a word to confirm, input held over a pause) is its state (conversations.state).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import replace
from datetime import timedelta

from conversations.answers import Answer, Place, Voice, When, dump, load_all, received
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
from conversations.parse import read_number, read_when
from conversations.state import EngineState, Held, Pending, read, write
from conversations.steps import (
    DONE_VALUE,
    EXACT_TIME,
    SKIP_VALUE,
    exact_time,
    exact_time_value,
    prompt_for_step,
    quick_value,
    step_buttons,
)
from locales import keywords, t_list
from locales.text import fold
from storage.models import Conversation

SUMMARY, EDIT, CONFIRM = "__summary", "__edit", "__confirm"
VOICE_FLOW = "voice_report"  # conversations.flows.voice: one voice message, one report
VOICE_TYPES = ("voice", "audio")
LONG_AGO = timedelta(days=365)  # a typed time further back is confirmed before it is kept
FUTURE_SLACK = timedelta(minutes=10)  # clocks differ: "now" may be a little ahead


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
        if conv.paused:
            return Reply(
                ctx.t("resume.prompt", flow=ctx.t(flow.title)),
                [
                    [Button(ctx.t("resume.continue"), MenuPick("resume").encode())],
                    [Button(ctx.t("resume.discard"), MenuPick("discard").encode())],
                ],
                numbered=True,
            )
        stored, state = read(conv)
        data = load_all(flow, stored)
        editable = [
            [Button(ctx.t(s.summary_label), _option(EDIT, s.key))]
            for s in flow.steps
            if s.summary_label and s.key in state.done and s.applies(ctx, data)
        ]
        if conv.step == EDIT and not editable:
            conv.step = SUMMARY  # nothing to change (a quiet week): the summary again
        if conv.step == SUMMARY:
            text = ctx.t("summary.title", flow=ctx.t(flow.title)) + "\n\n" + flow.summary(ctx, data)
            edit = [[Button(ctx.t("nav.edit"), _option(SUMMARY, "edit"))]] if editable else []
            return Reply(
                text,
                [
                    [Button(ctx.t(flow.confirm_label), _option(SUMMARY, "submit"))],
                    *edit,
                    _nav(ctx),
                ],
                numbered=True,
            )
        if conv.step == EDIT:
            return Reply(ctx.t("summary.edit_which"), [*editable, _nav(ctx)], numbered=True)
        if conv.step == CONFIRM:
            return Reply(
                ctx.t(
                    state.pending.question if state.pending else "match.confirm",
                    label=state.pending.label if state.pending else "",
                ),
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
        data: Data = dict(preset or {})
        answered = tuple(data)
        _, before = read(conv)
        if conv.flow is None and before.held and before.held.text and flow.free_text_step:
            data.setdefault(flow.free_text_step, before.held.text)  # typed at the menu
            answered = (*answered, flow.free_text_step)
        if flow.start is not None:
            refusal = await flow.start(ctx, data)
            if refusal:
                self.clear(conv)
                return [Reply(refusal), menu_reply(ctx, self.flows)]
        conv.flow, conv.history, conv.paused = name, [], False
        write(conv, data, EngineState(done=answered))
        return await self._advance(ctx, conv, flow, after=None)

    def clear(self, conv: Conversation) -> None:
        conv.flow, conv.step, conv.history, conv.paused = None, None, [], False
        write(conv, {}, EngineState())

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
                    stored, state = read(conv)
                    pending = Pending(found.button.data, found.button.label, conv.step)
                    write(conv, stored, replace(state, pending=pending))
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
            if data is None and (event.text or event.media or event.location):
                stored, state = read(conv)
                held = Held(event.text, event.media, event.location)
                write(conv, stored, replace(state, held=held))
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
            note = None
            flow = self.flows.get(conv.flow or "")
            if flow is not None and flow.cancelled is not None:
                note = flow.cancelled(ctx, load_all(flow, read(conv)[0]))
            self.clear(conv)
            return [
                Reply(note or ctx.t("nav.cancelled" if had else "nav.nothing_to_cancel")),
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
            stored, state = read(conv)
            held = state.held
            write(conv, stored, replace(state, held=None))
            if held is not None:
                event = Incoming(
                    ctx.event.channel,
                    ctx.event.chat_id,
                    ctx.event.user_id,
                    text=held.text,
                    media=held.media,
                    location=held.location,
                )
                return await self.handle(ctx, conv, event)
            return [self.prompt(ctx, conv)]
        if action == "discard":
            self.clear(conv)
            return [Reply(ctx.t("nav.cancelled")), menu_reply(ctx, self.flows)]
        if action == "menu":
            if conv.flow is None:
                self.clear(conv)  # words typed at the menu, declined
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
        stored, state = read(conv)
        if conv.step == CONFIRM:
            conv.step = state.pending.back_to if state.pending else None
            write(conv, stored, replace(state, pending=None))
            return [self.prompt(ctx, conv)]
        history = list(conv.history)
        if not history:
            self.clear(conv)
            return [Reply(ctx.t("nav.back_to_menu")), menu_reply(ctx, self.flows)]
        previous = history.pop()
        conv.history = history
        write(conv, stored, replace(state, done=tuple(k for k in state.done if k != previous)))
        conv.step = previous
        return [self.prompt(ctx, conv)]

    async def _on_option(
        self, ctx: Ctx, conv: Conversation, step_key: str, value: str
    ) -> list[Reply]:
        flow = self.flows[conv.flow or ""]
        stored, state = read(conv)
        data = load_all(flow, stored)
        if step_key == SUMMARY:
            if value == "submit":
                message = await flow.submit(ctx, data)
                self.clear(conv)
                return [Reply(message), menu_reply(ctx, self.flows)]
            if value == "edit":
                conv.step = EDIT
                return [self.prompt(ctx, conv)]
            return [self.prompt(ctx, conv)]
        if step_key == EDIT:
            if value not in state.done:
                return [Reply(ctx.t("stale.button")), self.prompt(ctx, conv)]
            conv.history = [*conv.history, SUMMARY]
            conv.step = value
            return [self.prompt(ctx, conv)]
        if step_key == CONFIRM:
            pending = state.pending
            conv.step = pending.back_to if pending else None
            write(conv, stored, replace(state, pending=None))
            if value == "yes" and pending and pending.data:
                return await self._on_button(ctx, conv, pending.data)
            return [self.prompt(ctx, conv)]
        step = flow.step(step_key)
        if not step.applies(ctx, data):
            return [Reply(ctx.t("stale.button")), self.prompt(ctx, conv)]
        if value == SKIP_VALUE and step.optional:
            return await self._answer(ctx, conv, flow, step, None)
        if step.kind == Kind.MEDIA and value == DONE_VALUE:
            return await self._answer(ctx, conv, flow, step, data.get(step.key) or ())
        if step.kind == Kind.DATETIME and value.startswith(EXACT_TIME):
            when = exact_time(ctx, value)  # a typed time, confirmed
            if when is None or when.at > ctx.now + FUTURE_SLACK:
                return [Reply(ctx.t("stale.button")), self.prompt(ctx, conv)]
            return await self._checked(ctx, conv, flow, step, when)
        buttons, _ = step_buttons(ctx, step, data)
        if not any(decode(b.data) == OptionPick(step.key, value) for row in buttons for b in row):
            return [Reply(ctx.t("stale.button")), self.prompt(ctx, conv)]
        return await self._checked(ctx, conv, flow, step, quick_value(ctx, step, value))

    async def _on_free(self, ctx: Ctx, conv: Conversation, event: Incoming) -> list[Reply]:
        if (
            conv.flow is None
            and event.media is not None
            and event.media.media_type in VOICE_TYPES
            and self.allowed(ctx, VOICE_FLOW)
        ):
            # A voice message at the menu is a report in itself: kept after one confirmation.
            voice = Voice(received(event.media, ctx.event.channel))
            return await self.start(ctx, conv, VOICE_FLOW, {"voice": dump(voice)})
        if conv.flow is None and event.text and len(event.text) <= ctx.config.max_text:
            offer = self._offer_free_text(ctx, conv, event.text)
            if offer is not None:
                return [offer]
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
        if isinstance(value, When) and value.at < ctx.now - LONG_AGO:
            # "01/01/1900 10h" is more likely a slip than an old case: ask before keeping it.
            stored, state = read(conv)
            label = value.at.astimezone(ctx.tz).strftime(
                "%d/%m/%Y" if value.precision == "day" else "%H:%M %d/%m/%Y"
            )
            pending = Pending(
                _option(step.key, exact_time_value(value)), label, step.key, "hint.long_ago"
            )
            write(conv, stored, replace(state, pending=pending))
            conv.step = CONFIRM
            return [self.prompt(ctx, conv)]
        if step.kind == Kind.MEDIA:
            return self._add_media(ctx, conv, flow, step, event)
        return await self._checked(ctx, conv, flow, step, value)

    def _offer_free_text(self, ctx: Ctx, conv: Conversation, text: str) -> Reply | None:
        """Words typed at the menu are kept and offered as the start of a report or a tip:
        the first thing a hamlet head types is what happened, not a menu choice."""
        starts = [
            name
            for name in ("incident", "tip")
            if self.allowed(ctx, name) and self.flows[name].free_text_step
        ]
        if not starts or fold(text) in map(fold, keywords(ctx.lang, "free_text.greetings")):
            return None
        write(conv, {}, EngineState(held=Held(text=text)))
        rows = [[Button(ctx.t(f"free_text.{name}"), MenuPick(name).encode())] for name in starts]
        rows.append([Button(ctx.t("free_text.menu"), MenuPick("menu").encode())])
        return Reply(ctx.t("free_text.ask"), rows, numbered=True)

    def _read(
        self, ctx: Ctx, conv: Conversation, step: Step, event: Incoming
    ) -> tuple[Answer | None, str | None]:
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
                return Voice(received(event.media, ctx.event.channel)), None
            if not text:
                return None, ctx.t("hint.voice_or_text" if step.voice_ok else "hint.text")
            if len(text) > ctx.config.max_text:
                return None, ctx.t("hint.too_long", length=len(text), limit=ctx.config.max_text)
            return text, None
        if step.kind == Kind.NUMBER:
            number = read_number(text, ctx.lang) if text else "not_number"
            if number == "negative":
                return None, ctx.t("hint.negative")
            if number == "too_large":
                return None, ctx.t("hint.too_large", maximum=step.maximum)
            if not isinstance(number, int):
                return None, ctx.t("hint.number", minimum=step.minimum, maximum=step.maximum)
            if not step.minimum <= number <= step.maximum:
                return None, ctx.t("hint.number_range", minimum=step.minimum, maximum=step.maximum)
            return number, None
        if step.kind == Kind.DATETIME:
            when = read_when(text, ctx.now, ctx.tz, ctx.lang) if text else "not_time"
            if when == "future":
                return None, ctx.t("hint.future")
            if when == "impossible":
                return None, ctx.t("hint.impossible")
            if not isinstance(when, When):
                return None, ctx.t("hint.datetime")
            return when, None
        if step.kind == Kind.LOCATION:
            if event.location is not None:
                return Place(lat=event.location[0], lon=event.location[1]), None
            if text:
                if len(text) > ctx.config.max_text:
                    return None, ctx.t("hint.too_long", length=len(text), limit=ctx.config.max_text)
                return Place(text=text), None
            return None, ctx.t("hint.location")
        return None, ctx.t("hint.choose")

    def _add_media(
        self, ctx: Ctx, conv: Conversation, flow: Flow, step: Step, event: Incoming
    ) -> list[Reply]:
        stored, state = read(conv)
        data = load_all(flow, stored)
        if event.media is None:
            # Words typed at a media step add to the text answer (and replace a voice note).
            target = step.append_text_to or ""
            previous = data.get(target)
            text = f"{previous if isinstance(previous, str) else ''}\n{(event.text or '').strip()}"
            if len(text.strip()) > ctx.config.max_text:  # typed on and on at a media step
                limit = ctx.config.max_text
                return [
                    Reply(ctx.t("hint.too_long", length=len(text.strip()), limit=limit)),
                    self.prompt(ctx, conv),
                ]
            write(conv, {**stored, target: dump(text.strip())}, state)
            return [Reply(ctx.t("media.text_added")), self.prompt(ctx, conv)]
        items = list(data.get(step.key) or ())
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
        items.append(received(event.media, ctx.event.channel))
        stored = {**stored, step.key: dump(tuple(items))}
        if event.media.caption and step.append_text_to:
            previous = data.get(step.append_text_to) or ""
            if isinstance(previous, str):  # a caption is not added to a voice note
                caption = f"{previous}\n{event.media.caption}".strip()
                stored[step.append_text_to] = dump(caption)
        write(conv, stored, state)
        return [
            Reply(
                ctx.t(
                    "media.received",
                    files=ctx.media_words(i.media_type for i in items),
                    count=len(items),  # the placeholder of catalogues written before {files}
                ),
                [[Button(ctx.t("media.done"), _option(step.key, DONE_VALUE))], _nav(ctx)],
                numbered=True,
            )
        ]

    async def _checked(
        self, ctx: Ctx, conv: Conversation, flow: Flow, step: Step, value: Answer | None
    ) -> list[Reply]:
        if step.validate is not None:
            error = step.validate(ctx, load_all(flow, read(conv)[0]), value)
            if error:
                return [Reply(ctx.t(error)), self.prompt(ctx, conv)]
        return await self._answer(ctx, conv, flow, step, value)

    async def _answer(
        self, ctx: Ctx, conv: Conversation, flow: Flow, step: Step, value: Answer | None
    ) -> list[Reply]:
        stored, state = read(conv)
        done = (*(k for k in state.done if k != step.key), step.key)
        stored = {**stored, step.key: dump(value)}
        write(conv, stored, replace(state, done=done))
        conv.history = [*conv.history, step.key]
        said: list[Reply] = []
        if step.after is not None:
            message, keep = await step.after(ctx, load_all(flow, stored))
            write(conv, {**stored, **keep}, replace(state, done=done))
            said = [Reply(message)] if message else []
        return [*said, *await self._advance(ctx, conv, flow, after=step.key)]

    async def _advance(
        self, ctx: Ctx, conv: Conversation, flow: Flow, after: str | None
    ) -> list[Reply]:
        keys = [s.key for s in flow.steps]
        start = keys.index(after) + 1 if after in keys else 0
        stored, state = read(conv)
        data, done = load_all(flow, stored), set(state.done)
        for step in flow.steps[start:]:
            if step.key not in done and step.applies(ctx, data):
                conv.step = step.key
                return [self.prompt(ctx, conv)]
        # After an edit, earlier steps may have become necessary (another activity type).
        for step in flow.steps[:start]:
            if step.key not in done and step.applies(ctx, data):
                conv.step = step.key
                return [self.prompt(ctx, conv)]
        if not flow.confirm:
            message = await flow.submit(ctx, data)
            self.clear(conv)
            return [Reply(message), menu_reply(ctx, self.flows)]
        conv.step = SUMMARY
        return [self.prompt(ctx, conv)]
