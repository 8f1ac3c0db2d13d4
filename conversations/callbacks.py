"""Button data: what a button carries back when it is pressed, encoded in one place.

Every producer of a button builds one of these values and every consumer decodes one, so the
wire form ("o:kind:theft", "a:ack:i:21"), the 64-byte limit and the handling of forged or
stale data live here alone. The wire form is the one buttons already sent in chats carry, so
those keep working. Decoding never raises: anything it does not know is Stale.

Written here rather than taken from a library: the platforms give 1 to 64 bytes of opaque
text and nothing more, and the forms are five short colon-separated records.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

LIMIT = 64  # bytes: Telegram's limit on callback_data, the strictest of the channels


class Verb(StrEnum):
    """What an officer does to a case (and the tipster's answer to a question)."""

    VIEW = "view"
    ACK = "ack"
    STATUS = "st"
    ASSIGN = "asg"
    NOTE = "note"
    CLOSE = "close"
    ASK = "ask"
    REPLY = "reply"
    CLASSIFY = "cls"  # an incident's category, set by an officer (a voice-only report)


class Screen(StrEnum):
    """Officer screens that are not about one case."""

    CASES = "cases"
    STATS = "stats"
    CRITERIA = "crit"
    EXPORT = "export"
    DESK = "desk"  # a sign-in link to the web desk


@dataclass(frozen=True)
class Nav:
    """Back or cancel: the same on every step."""

    action: str  # "back" or "cancel"

    def encode(self) -> str:
        return _checked(f"n:{self.action}")


@dataclass(frozen=True)
class MenuPick:
    """A main-menu entry (a flow's name) or a menu action: resume, discard, menu."""

    name: str

    def encode(self) -> str:
        return _checked(f"m:{self.name}")


@dataclass(frozen=True)
class OptionPick:
    """An answer to the step the chat stands at: only valid while it stands there."""

    step: str
    value: str

    def encode(self) -> str:
        return _checked(f"o:{self.step}:{self.value}")


@dataclass(frozen=True)
class CaseAction:
    """An action on one case; arg is the new status or the chosen assignee."""

    verb: Verb
    kind: str  # "i" (incident) or "t" (tip)
    case_id: int
    arg: str | None = None

    def encode(self) -> str:
        tail = f":{self.arg}" if self.arg is not None else ""
        return _checked(f"a:{self.verb}:{self.kind}:{self.case_id}{tail}")


@dataclass(frozen=True)
class OfficerScreen:
    """The case queue (page), statistics (period), criteria, or an export (period, format)."""

    screen: Screen
    args: tuple[str, ...] = ()

    def encode(self) -> str:
        return _checked(":".join(("a", self.screen, *self.args)))

    def arg(self, index: int, default: str) -> str:
        return self.args[index] if len(self.args) > index and self.args[index] else default


@dataclass(frozen=True)
class Stale:
    """Data this version does not understand: forged, or from a button of an older menu."""

    raw: str


Callback = Nav | MenuPick | OptionPick | CaseAction | OfficerScreen | Stale

BACK = Nav("back")
CANCEL = Nav("cancel")


def _checked(data: str) -> str:
    size = len(data.encode())
    if not 1 <= size <= LIMIT:
        raise ValueError(f"button data of {size} bytes does not fit in {LIMIT}: {data[:80]!r}")
    return data


def fits(data: str) -> bool:
    return 1 <= len(data.encode()) <= LIMIT


def decode(data: str | bytes | None) -> Callback:
    """The value a button carries; Stale for anything unknown, oversized or malformed."""
    if isinstance(data, bytes):
        try:
            data = data.decode()
        except UnicodeDecodeError:
            return Stale(repr(data[:LIMIT]))
    if not data or not fits(data):
        return Stale(data or "")
    head, _, rest = data.partition(":")
    if head == "n" and rest in ("back", "cancel"):
        return Nav(rest)
    if head == "m" and rest and ":" not in rest:
        return MenuPick(rest)
    if head == "o":
        step, sep, value = rest.partition(":")
        if step and sep:
            return OptionPick(step, value)
    if head == "a":
        return _action(data, rest.split(":"))
    return Stale(data)


def _action(data: str, parts: list[str]) -> Callback:
    name, args = parts[0], parts[1:]
    if name in tuple(Screen):
        if all(a == "" or _word(a) for a in args):
            return OfficerScreen(Screen(name), tuple(args))
        return Stale(data)
    if name not in tuple(Verb) or len(args) not in (2, 3):
        return Stale(data)
    kind, case_id = args[0], args[1]
    # An unknown kind letter still decodes: the case lookup finds no such case and the
    # presser is told it is not theirs, as for any case outside their reach.
    if not _word(kind) or not (case_id.isascii() and case_id.isdecimal()):
        return Stale(data)
    if not 0 < int(case_id) < 2**31:  # an integer column: larger ids name no case
        return Stale(data)
    arg = args[2] if len(args) == 3 else None
    if arg is not None and not _word(arg):
        return Stale(data)
    return CaseAction(Verb(name), kind, int(case_id), arg)


def _word(text: str) -> bool:
    return text.isascii() and text.replace("_", "").isalnum()
