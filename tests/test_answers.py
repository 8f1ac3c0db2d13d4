"""The answer codec and the engine's state: what is stored reads back as it was, in the JSON
forms conversations have always been saved in."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

from hypothesis import example, given
from hypothesis import strategies as st

from conversations.answers import Answer, Place, Voice, When, dump, load, load_all
from conversations.events import MediaIn
from conversations.flow import Kind
from conversations.flows import incident
from conversations.state import EngineState, Held, Pending, read, write
from storage.models import Conversation
from storage.reports import Media

finite = st.floats(allow_nan=False, allow_infinity=False)
words = st.text(max_size=40)
media = st.builds(
    Media,
    channel=st.sampled_from(["telegram", "zalo", "console"]),
    file_id=words,
    media_type=st.sampled_from(["photo", "video", "voice", "audio", "document"]),
    size_bytes=st.none() | st.integers(0, 2**40),
)
whens = st.builds(
    When,
    at=st.datetimes(timezones=st.timezones()),
    precision=st.sampled_from(["exact", "day"]),
)
places = st.builds(
    Place,
    text=st.none() | words,
    lat=st.none() | finite,
    lon=st.none() | finite,
    choice=st.none() | st.sampled_from(["hamlet", "share"]),
)
answers_by_kind: dict[Kind, st.SearchStrategy[Any]] = {
    Kind.CHOICE: words,
    Kind.NUMBER: st.integers(-(2**31), 2**31),
    Kind.TEXT: words | st.builds(Voice, media),
    Kind.DATETIME: whens,
    Kind.LOCATION: places,
    Kind.MEDIA: st.lists(media, max_size=5).map(tuple),
}
kinds_and_answers = st.sampled_from(list(Kind)).flatmap(
    lambda kind: st.tuples(st.just(kind), st.none() | answers_by_kind[kind])
)


def through_json(value: Any) -> Any:
    """What the database gives back: the JSON text, parsed."""
    return json.loads(json.dumps(value, allow_nan=False))


def as_stored(answer: Answer | None) -> Answer | None:
    """A time keeps its instant and its offset, the local time it was said in; not the name
    of its zone (which only matters to compare a time in a daylight-saving change)."""
    if isinstance(answer, When):
        offset = answer.at.utcoffset()
        assert offset is not None
        return When(answer.at.astimezone(timezone(offset)), answer.precision)
    return answer


@given(kinds_and_answers)
@example((Kind.DATETIME, When(datetime(2001, 10, 7, tzinfo=ZoneInfo("America/Asuncion")), "day")))
def test_every_answer_reads_back_as_it_was_stored(kind_and_answer: tuple[Kind, Answer | None]):
    kind, answer = kind_and_answer
    again = load(kind, through_json(dump(answer)))
    assert again == as_stored(answer)
    if isinstance(answer, When) and isinstance(again, When):
        assert again.at.utcoffset() == answer.at.utcoffset()
        assert again.at.replace(tzinfo=None) == answer.at.replace(tzinfo=None)


@given(kinds_and_answers)
def test_a_stored_answer_is_stored_again_the_same(kind_and_answer: tuple[Kind, Answer | None]):
    kind, answer = kind_and_answer
    stored = through_json(dump(answer))
    assert dump(load(kind, stored)) == stored


PHOTO = {"channel": "telegram", "file_id": "p1", "media_type": "photo", "size_bytes": 50_000}
VOICE = {"channel": "zalo", "file_id": "v1", "media_type": "voice", "size_bytes": None}
ICT = timezone(timedelta(hours=7))


def test_the_json_forms_saved_before_the_types_existed_read_as_typed_answers():
    """Each form the engine wrote before answers had types, exactly as it wrote them."""
    old = {
        (Kind.DATETIME, '{"at": "2026-11-19T18:40:00.123456+07:00", "precision": "exact"}'): When(
            datetime(2026, 11, 19, 18, 40, 0, 123456, ICT), "exact"
        ),
        (Kind.DATETIME, '{"at": "2026-11-18T12:00:00+07:00", "precision": "day"}'): When(
            datetime(2026, 11, 18, 12, tzinfo=ICT), "day"
        ),
        (Kind.LOCATION, '{"lat": 10.95, "lon": 106.82}'): Place(lat=10.95, lon=106.82),
        (Kind.LOCATION, '{"text": "Bãi đất trống cạnh cầu"}'): Place(text="Bãi đất trống cạnh cầu"),
        (Kind.LOCATION, '{"choice": "hamlet"}'): Place(choice="hamlet"),
        (Kind.MEDIA, json.dumps([PHOTO, VOICE])): (
            Media("telegram", "p1", "photo", 50_000),
            Media("zalo", "v1", "voice", None),
        ),
        (Kind.MEDIA, "[]"): (),
        (Kind.TEXT, json.dumps({"voice": VOICE})): Voice(Media("zalo", "v1", "voice")),
        (Kind.TEXT, '"Hai nhóm xô xát"'): "Hai nhóm xô xát",
        (Kind.NUMBER, "5"): 5,
        (Kind.CHOICE, '"theft"'): "theft",
        (Kind.TEXT, "null"): None,
    }
    for (kind, text), typed in old.items():
        raw = json.loads(text)
        assert load(kind, raw) == typed, text
        assert dump(typed) == raw, text  # and is written again in the same form


def test_a_flow_sees_its_answers_typed_and_its_presets_as_they_are():
    data = {
        "category": "theft",
        "when": {"at": "2026-11-19T18:40:00+07:00", "precision": "exact"},
        "where": None,
        "description": {"voice": VOICE},
        "media": [PHOTO],
        "id": 7,  # not a step of the flow: kept as it is
    }
    seen = load_all(incident.FLOW, data)
    assert seen == {
        "category": "theft",
        "when": When(datetime(2026, 11, 19, 18, 40, tzinfo=ICT), "exact"),
        "where": None,
        "description": Voice(Media("zalo", "v1", "voice")),
        "media": (Media("telegram", "p1", "photo", 50_000),),
        "id": 7,
    }


states = st.builds(
    EngineState,
    done=st.lists(words, max_size=6).map(tuple),
    pending=st.none() | st.builds(Pending, words, words, st.none() | words),
    held=st.none()
    | st.builds(
        Held,
        text=st.none() | words,
        media=st.none() | st.builds(MediaIn, words, words, st.none() | st.integers(0), words),
        location=st.none() | st.tuples(finite, finite),
    ),
)


@given(states)
def test_the_engine_state_reads_back_as_it_was_stored(state: EngineState):
    assert EngineState.load(through_json(state.dump())) == state


def test_a_conversation_in_the_old_form_gives_its_answers_apart_from_the_state():
    conv = Conversation(
        data={
            "category": "fire",
            "__done": ["category"],
            "__pending": {"data": "o:c:fire", "label": "Cháy, nổ", "back_to": "category"},
            "__held": {
                "text": None,
                "media": {"media_type": "photo", "file_id": "p", "size_bytes": 9, "caption": "c"},
                "location": [10.5, 106.25],
            },
        },
        state={},
    )
    answers, state = read(conv)
    assert answers == {"category": "fire"}
    assert state == EngineState(
        done=("category",),
        pending=Pending("o:c:fire", "Cháy, nổ", "category"),
        held=Held(media=MediaIn("photo", "p", 9, "c"), location=(10.5, 106.25)),
    )
    write(conv, answers, state)
    assert conv.data == {"category": "fire"}
    assert read(conv) == (answers, state)
