"""The Vietnamese text rules: NFC, one canonical form, matching without diacritics, times."""

from __future__ import annotations

import unicodedata
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from conversations.events import Button
from conversations.matching import Match, match
from conversations.parse import parse_number, parse_when
from locales import available_languages, catalogue, t
from locales.text import canonical, clean, nfc, split_text, strip_diacritics

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
NOW = datetime(2026, 11, 22, 10, 0, tzinfo=TZ)


def test_old_and_new_tone_placement_compare_equal():
    assert canonical("Hoà giải") == canonical("hòa giải")
    assert canonical("THUỶ") == canonical("thủy")
    assert canonical(unicodedata.normalize("NFD", "Trộm cắp")) == canonical("trộm cắp")


def test_stripping_maps_d_bar_by_hand():
    assert strip_diacritics("Đánh nhau, gây rối") == "danh nhau gay roi"
    assert nfc("tro\u0302\u0300m") == "trồm"


def test_other_scripts_are_kept_as_given():
    khmer = "ព័ត៌មាន"
    assert nfc(khmer) == unicodedata.normalize("NFC", khmer)
    assert canonical("Tus Hmoob txoj") == "tus hmoob txoj"


CHOICES = [
    Button("Trộm cắp, cướp giật tài sản", "o:c:theft"),
    Button("Cháy, nổ", "o:c:fire"),
    Button("Ma túy", "o:c:drugs"),
    Button("↩ Quay lại", "n:back", nav=True),
]


@pytest.mark.parametrize(
    ("typed", "data"),
    [
        ("1", "o:c:theft"),
        ("3", "o:c:drugs"),
        ("MA TUY", "o:c:drugs"),
        ("ma túy", "o:c:drugs"),
        ("trom cap", "o:c:theft"),
        ("quay lai", "n:back"),
        ("Cháy, nổ", "o:c:fire"),
    ],
)
def test_choices_by_number_label_and_stripped_label(typed, data):
    found = match(typed, CHOICES, ambiguous=frozenset())
    assert isinstance(found, Match) and found.button.data == data


def test_numbers_do_not_choose_nav_buttons_and_out_of_range_is_no_match():
    assert match("4", CHOICES, ambiguous=frozenset()) is None


def test_a_number_typed_where_the_quick_answers_are_numbers_is_that_number():
    quick = [Button(str(n), f"o:shifts:{n}") for n in (0, 1, 2, 3, 5)]
    three = match("3", [*quick, CHOICES[-1]], ambiguous=frozenset())
    assert isinstance(three, Match) and three.button.data == "o:shifts:3"  # not the third, "2"
    assert match("4", quick, ambiguous=frozenset()) is None  # typed, read by the step as 4


def test_superscripts_are_no_number_and_full_width_digits_are():
    assert match("²", CHOICES, ambiguous=frozenset()) is None
    found = match("３", CHOICES, ambiguous=frozenset())
    assert isinstance(found, Match) and found.button.data == "o:c:drugs"


def test_an_ambiguous_stripped_word_asks_for_confirmation():
    found = match("chay", CHOICES, ambiguous=frozenset({"chay"}))
    assert isinstance(found, Match) and found.confirm and found.button.data == "o:c:fire"
    sure = match("cháy", CHOICES, ambiguous=frozenset({"chay"}))
    assert isinstance(sure, Match) and not sure.confirm


@pytest.mark.parametrize(
    ("typed", "expected", "precision"),
    [
        ("20/11 19h30", "2026-11-20 19:30", "exact"),
        ("19:30 20/11/2026", "2026-11-20 19:30", "exact"),
        ("hôm qua 21h", "2026-11-21 21:00", "exact"),
        ("hom qua 21h", "2026-11-21 21:00", "exact"),
        ("7h tối", "2026-11-21 19:00", "exact"),  # said at 10:00: yesterday evening
        ("8 giờ 15 sáng", "2026-11-22 08:15", "exact"),
        ("18/11", "2026-11-18 12:00", "day"),
    ],
)
def test_times_typed_in_common_vietnamese_forms(typed, expected, precision):
    when = parse_when(typed, NOW, TZ)
    assert when is not None and when.at.strftime("%Y-%m-%d %H:%M") == expected
    assert when.precision == precision


@pytest.mark.parametrize("typed", ["trom cap", "23/11 8h", "32/13", "25h"])
def test_not_a_time_or_in_the_future(typed):
    assert parse_when(typed, NOW, TZ) is None


@pytest.mark.parametrize(
    ("typed", "value"),
    [("12", 12), ("12 người", 12), ("không", 0), ("khong", 0), ("hai", 2), ("1.000", 1000)],
)
def test_numbers(typed, value):
    assert parse_number(typed) == value


def test_long_text_is_split_within_the_limit_at_word_boundaries():
    text = "Sự việc kéo dài. " * 600
    parts = split_text(text, 4096)
    assert len(parts) == 3 and all(len(p) <= 4096 for p in parts)
    assert " ".join(parts).split() == text.split()


def test_catalogues_have_correct_forms_and_a_missing_key_falls_back():
    assert list(available_languages()) == ["vi", "en", "km"]
    for lang in available_languages():
        for key, value in catalogue(lang).items():
            texts = value if isinstance(value, list) else [value]
            assert all(unicodedata.is_normalized("NFC", str(x)) for x in texts), (lang, key)
    assert t("en", "match.ambiguous") == t("vi", "match.ambiguous")
    assert t("vi", "menu.weekly_quiet") == "🕊 Tuần này bình yên"


@pytest.mark.parametrize(
    ("typed", "is_code"),
    [
        ("ABCD-EFGH-JKMN", True),
        ("abcd efgh jkmn", True),
        ("7K3F9QAB2XYZ", True),
        ("xin chào", False),
        ("ABCD-EFGH", False),
        ("trom cap xe may", False),
    ],
)
def test_typed_invite_codes_are_recognised(typed, is_code):
    from handlers.onboarding import looks_like_invite

    assert looks_like_invite(typed) is is_code


def test_clean_keeps_lines_and_tabs_and_drops_other_control_characters():
    assert clean("tro\u0302\u0300m\x00 xe\r\nmáy\tđỏ\x1b\x85") == "trồm xe\nmáy\tđỏ"


@pytest.mark.parametrize(
    ("typed", "answer"),
    [
        ("-1", "negative"),
        ("- 5 ca", "negative"),
        ("99999999999", "too_large"),
        ("10000000", "too_large"),
        ("9999999", 9_999_999),
        ("ba mươi", "not_number"),
        ("-0", 0),
    ],
)
def test_numbers_that_a_report_cannot_hold_say_why(typed, answer):
    from conversations.parse import read_number

    assert read_number(typed) == answer


def test_a_signed_number_never_picks_a_button():
    from conversations.events import Button
    from conversations.matching import match

    buttons = [Button(str(n), f"o:n:{n}") for n in (0, 1, 2, 3, 5)]
    assert match("-1", buttons, ambiguous=frozenset()) is None
    assert match("1", buttons, ambiguous=frozenset()).button.label == "1"


@pytest.mark.parametrize(
    ("typed", "at_hour", "expected"),
    [
        ("2 giờ trước", 10, "2026-11-22 08:00"),
        ("30 phút trước", 10, "2026-11-22 09:30"),
        ("sáng nay", 10, "2026-11-22 08:00"),
        ("chiều nay", 15, "2026-11-22 15:00"),  # said in the afternoon: so far today
        ("chiều nay", 10, "future"),
        ("hôm nay 15h", 10, "future"),
        ("23/11 8h", 10, "future"),
        ("01/01/0001 1h", 10, "impossible"),
        ("31/02 9h", 10, "impossible"),
        ("25h", 10, "impossible"),
        ("trộm cắp", 10, "not_time"),
    ],
)
def test_times_later_today_relative_or_impossible_are_read_as_meant(typed, at_hour, expected):
    from conversations.parse import When, read_when

    now = datetime(2026, 11, 22, at_hour, 0, tzinfo=TZ)
    found = read_when(typed, now, TZ)
    shown = found.at.strftime("%Y-%m-%d %H:%M") if isinstance(found, When) else found
    assert shown == expected
