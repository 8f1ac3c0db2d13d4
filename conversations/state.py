"""What the engine keeps about a conversation beside the flow's answers: which steps are
answered, a word awaiting "did you mean…?", and input that came while the draft was paused.

It is stored in the conversation's own `state` column, so that a conversation's `data` is
the flow's answers (and the flow's presets) and nothing else. Conversations saved before
that column existed kept it in `data`, under "__done", "__pending" and "__held"; read()
takes either form, and write() stores the new one, so such a draft moves over at its next
answer. Migration 0007 moves the rows there were when it ran; read() covers those a worker
of the previous release still writes during a deploy.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from conversations.events import MediaIn
from conversations.flow import Data
from storage.models import Conversation

# Where the state was kept in `data` before it had a column: old key -> EngineState field.
LEGACY = {"__done": "done", "__pending": "pending", "__held": "held"}


@dataclass(frozen=True)
class Pending:
    """A typed word that matched a button only loosely, awaiting a yes or a no."""

    data: str  # the button's data: what "yes" presses
    label: str
    back_to: str | None  # the step it was typed at
    question: str = "match.confirm"  # the catalogue key that asks, with {label}


@dataclass(frozen=True)
class Held:
    """What was sent at a stale draft: replayed as the answer if the person continues."""

    text: str | None = None
    media: MediaIn | None = None
    location: tuple[float, float] | None = None


@dataclass(frozen=True)
class EngineState:
    done: tuple[str, ...] = ()  # the steps answered (or preset), in the order answered
    pending: Pending | None = None
    held: Held | None = None

    def dump(self) -> dict[str, Any]:
        state: dict[str, Any] = {"done": list(self.done)}
        if self.pending is not None:
            pending = self.pending
            state["pending"] = {
                "data": pending.data,
                "label": pending.label,
                "back_to": pending.back_to,
                "question": pending.question,
            }
        if self.held is not None:
            held = self.held
            state["held"] = {
                "text": held.text,
                "media": asdict(held.media) if held.media else None,
                "location": list(held.location) if held.location else None,
            }
        return state

    @classmethod
    def load(cls, raw: Mapping[str, Any]) -> EngineState:
        pending, held = raw.get("pending"), raw.get("held")
        return cls(
            done=tuple(raw.get("done") or ()),
            pending=(
                Pending(
                    pending.get("data", ""),
                    pending.get("label", ""),
                    pending.get("back_to"),
                    pending.get("question") or "match.confirm",
                )
                if pending
                else None
            ),
            held=(
                Held(
                    text=held.get("text"),
                    media=MediaIn(**held["media"]) if held.get("media") else None,
                    location=(
                        (float(held["location"][0]), float(held["location"][1]))
                        if held.get("location")
                        else None
                    ),
                )
                if held
                else None
            ),
        )


def read(conv: Conversation) -> tuple[Data, EngineState]:
    """The stored answers of conv (as dumped by conversations.answers) and the engine's state."""
    data = conv.data or {}
    if LEGACY.keys().isdisjoint(data):
        return data, EngineState.load(conv.state or {})
    # Keys in data are newer than the column: only a worker of the previous release writes them.
    old = {field: data[key] for key, field in LEGACY.items() if key in data}
    return {k: v for k, v in data.items() if k not in LEGACY}, EngineState.load(old)


def write(conv: Conversation, data: Data, state: EngineState) -> None:
    # New objects, not changes in place: the JSON columns notice assignment only.
    conv.data, conv.state = dict(data), state.dump()
