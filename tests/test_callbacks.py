"""Button data: one codec, every value fits Telegram's 64 bytes, and anything else, forged or
left over from an older menu, decodes to Stale instead of raising."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from conversations.callbacks import (
    BACK,
    CANCEL,
    LIMIT,
    CaseAction,
    MenuPick,
    Nav,
    OfficerScreen,
    OptionPick,
    Screen,
    Stale,
    Verb,
    decode,
)

VALUES = [
    BACK,
    CANCEL,
    MenuPick("weekly_quiet"),
    MenuPick("resume"),
    OptionPick("category", "theft"),
    OptionPick("__summary", "submit"),
    OptionPick("media", "__done"),
    CaseAction(Verb.ACK, "i", 21),
    CaseAction(Verb.STATUS, "t", 7, "in_progress"),
    CaseAction(Verb.ASSIGN, "i", 2**31 - 1, "12345"),
    CaseAction(Verb.REPLY, "t", 3),
    OfficerScreen(Screen.CASES, ("0",)),
    OfficerScreen(Screen.CRITERIA),
    OfficerScreen(Screen.EXPORT, ("quarter", "csv")),
]


@pytest.mark.parametrize("value", VALUES, ids=str)
def test_every_value_round_trips_within_64_bytes(value):
    data = value.encode()
    assert len(data.encode()) <= LIMIT
    assert decode(data) == value


@pytest.mark.parametrize(
    "data",
    # Forms on buttons already sent before the codec existed, in chats and in the outbox.
    ["n:back", "n:cancel", "m:weekly", "o:when:now", "a:ack:i:21", "a:st:t:4:resolved", "a:crit"],
)
def test_buttons_sent_before_the_codec_still_decode(data):
    assert not isinstance(decode(data), Stale)
    assert decode(data).encode() == data


@pytest.mark.parametrize(
    "data",
    [
        "",
        "x",
        "n:sideways",
        "m:",
        "m:a:b",
        "o:",
        "o:step",
        "a:",
        "a:fly:i:1",
        "a:ack:i:x",
        "a:ack:i:-1",
        "a:ack:i:0",
        "a:ack:i:99999999999",
        "a:ack",
        "a:st:i:1:2:3",
        "a:stats:;DROP",
        "a:ack:i:1:' OR 1=1",
        "z" * 65,
        "o:" + "é" * 40,
    ],
)
def test_forged_or_unknown_data_is_stale(data):
    assert isinstance(decode(data), Stale)


def test_a_value_too_long_for_a_button_is_refused_when_made():
    with pytest.raises(ValueError, match="64"):
        OptionPick("step", "x" * 70).encode()


@given(st.binary(max_size=100))
def test_random_bytes_never_raise(raw):
    assert isinstance(decode(raw), Nav | MenuPick | OptionPick | CaseAction | OfficerScreen | Stale)


@given(st.text(max_size=80))
def test_random_text_never_raises_and_what_decodes_encodes_back(text):
    value = decode(text)
    if not isinstance(value, Stale):
        assert value.encode() == text
