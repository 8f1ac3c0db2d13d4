"""Flows as data: steps with a prompt, a kind of answer, validation and a condition."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from conversations.context import Ctx

# What a flow's callbacks are given: its answers by step key, typed by the step's kind
# (conversations.answers), and whatever its start or its caller preset.
Data = dict[str, Any]


class Kind(StrEnum):
    CHOICE = "choice"
    TEXT = "text"
    NUMBER = "number"
    DATETIME = "datetime"
    LOCATION = "location"
    MEDIA = "media"


@dataclass(frozen=True)
class Option:
    value: str
    label: str
    keywords: tuple[str, ...] = ()


@dataclass(frozen=True)
class Step:
    key: str
    kind: Kind
    prompt: str  # catalogue key, formatted with the flow's values
    options: Callable[[Ctx, Data], list[Option]] | None = None
    when: Callable[[Ctx, Data], bool] | None = None
    optional: bool = False  # offers "Bỏ qua"
    minimum: int = 0
    maximum: int = 100_000
    quick_numbers: tuple[int, ...] = (0, 1, 2, 3, 5)
    validate: Callable[[Ctx, Data, Any], str | None] | None = None  # an error catalogue key
    voice_ok: bool = False  # a TEXT step that takes a voice note too
    append_text_to: str | None = None  # a MEDIA step: typed text is added to this answer
    hint: Callable[[Ctx, Data], str | None] | None = None  # a catalogue key said after the prompt
    summary_label: str | None = None  # shown in the edit list; None: not editable
    # Runs once the step is answered (an urgent alert raised as soon as the place is known):
    # a message said before the next question, and presets to keep with the answers.
    after: Callable[[Ctx, Data], Awaitable[tuple[str | None, Data]]] | None = None

    def applies(self, ctx: Ctx, data: Data) -> bool:
        return self.when is None or self.when(ctx, data)


@dataclass(frozen=True)
class Flow:
    name: str
    title: str  # catalogue key
    roles: frozenset[str]
    steps: tuple[Step, ...]
    summary: Callable[[Ctx, Data], str]
    submit: Callable[[Ctx, Data], Awaitable[str]]
    start: Callable[[Ctx, Data], Awaitable[str | None]] | None = None  # loads data; or a refusal
    confirm_label: str = "nav.submit"
    confirm: bool = True  # False: submitted as soon as the last step is answered
    values: Callable[[Ctx, Data], dict[str, Any]] = field(default=lambda ctx, data: {})
    # The step that words typed at the main menu can begin ("co trom vao nha ong Tu").
    free_text_step: str | None = None
    # What to say on "Hủy" when something was already sent before the summary.
    cancelled: Callable[[Ctx, Data], str | None] | None = None

    def step(self, key: str) -> Step:
        for step in self.steps:
            if step.key == key:
                return step
        raise KeyError(key)
