"""Khmer, the third language: its text kept as typed, its words and digits read, its charts
drawn, and a Khmer-speaking resident's tip from start to end."""

from __future__ import annotations

import unicodedata
import warnings
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from conversations.events import Button
from conversations.matching import Match, match
from conversations.parse import read_number, read_when
from locales import available_languages, catalogue, keywords, t
from locales.text import canonical, fold, strip_diacritics

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
NOW = datetime(2026, 11, 20, 20, 0, tzinfo=TZ)  # a Friday evening
KHMER_SAMPLES = ["ភូមិ ក្រាំង", "ស្រុកត្រាំកក់", "ព្រះពុទ្ធសាសនា", "ម្សិលមិញ", "ប្រាំពីរ"]


@pytest.mark.parametrize("text", KHMER_SAMPLES)
def test_khmer_text_is_never_changed_by_folding(text):
    assert "\u17d2" in fold("ភូមិ ក្រាំង")  # the coeng sign, which wrote the cluster ក្រ
    for rule in (fold, canonical, strip_diacritics):
        assert rule(text) == text, rule.__name__
    assert fold(unicodedata.normalize("NFD", text)) == text


def test_latin_text_is_still_folded_next_to_khmer():
    assert fold("Ấp Chợ Dưới ភូមិ") == "ap cho duoi ភូមិ"
    assert strip_diacritics("🕊 Tuần này bình yên!") == "tuan nay binh yen"


def _buttons(lang: str, *keys: str) -> list[Button]:
    return [Button(t(lang, key), f"d{i}") for i, key in enumerate(keys)]


def test_a_khmer_label_a_number_and_khmer_digits_choose_the_button():
    buttons = _buttons("km", "category.theft", "category.drugs", "category.fire")
    ambiguous = frozenset(t_list_vi_ambiguous())
    assert match("គ្រឿងញៀន", buttons, ambiguous=ambiguous) == Match(buttons[1])
    assert match(" អគ្គិភ័យ ការផ្ទុះ ", buttons, ambiguous=ambiguous) == Match(buttons[2])
    assert match("2", buttons, ambiguous=ambiguous) == Match(buttons[1])
    assert match("៣", buttons, ambiguous=ambiguous) == Match(buttons[2])
    assert match("៤", buttons, ambiguous=ambiguous) is None  # there is no fourth
    assert match("-១", buttons, ambiguous=ambiguous) is None  # a number typed, not a choice


def t_list_vi_ambiguous() -> list[str]:
    return [str(w) for w in catalogue("vi")["match.ambiguous"]]


def test_a_khmer_label_ending_in_a_vowel_sign_is_matched_whole():
    # "ភូមិ" ends in a vowel sign, which is no letter: it must not be cut off as punctuation.
    first, second = Button("✅ ភូមិ", "a"), Button("✅ ភូម", "b")
    assert match("ភូមិ", [first, second], ambiguous=frozenset()) == Match(first)


@pytest.mark.parametrize(
    ("typed", "value"),
    [("១២", 12), ("១២ នាក់", 12), ("ប្រាំពីរ", 7), ("គ្មាន", 0), ("ពីរ", 2), ("hai", 2)],
)
def test_khmer_numbers_are_read(typed, value):
    assert read_number(typed, "km") == value


def test_a_negative_khmer_number_is_refused_as_negative():
    assert read_number("-៣", "km") == "negative"


@pytest.mark.parametrize(
    ("typed", "at"),
    [
        ("ម្សិលមិញ ម៉ោង ៩ យប់", datetime(2026, 11, 19, 21, 0, tzinfo=TZ)),
        ("ម្សិលមិញម៉ោង៩យប់", datetime(2026, 11, 19, 21, 0, tzinfo=TZ)),
        ("១៨/១១ ១៩:៣០", datetime(2026, 11, 18, 19, 30, tzinfo=TZ)),
        ("ថ្ងៃនេះ ម៉ោង ៨ ព្រឹក", datetime(2026, 11, 20, 8, 0, tzinfo=TZ)),
        ("hôm qua 21h", datetime(2026, 11, 19, 21, 0, tzinfo=TZ)),  # Vietnamese, typed too
    ],
)
def test_khmer_days_hours_and_digits_are_read_as_a_time(typed, at):
    found = read_when(typed, NOW.astimezone(UTC), TZ, "km")
    assert not isinstance(found, str), found
    assert found.at == at


@pytest.mark.parametrize("typed", ["ថ្ងៃស្អែក ម៉ោង ៨", "ស្អែកម៉ោង៨ព្រឹក", "ngày mai 8h", "tomorrow 8h"])
def test_tomorrow_in_khmer_or_typed_in_another_language_is_a_time_to_come(typed):
    assert read_when(typed, NOW.astimezone(UTC), TZ, "km") == "future"


def test_khmer_has_its_own_words_and_reads_vietnamese_ones_too():
    done = keywords("km", "keyword.done")
    assert done[0] == "រួចរាល់" and "xong" in done
    assert "khmer" not in keywords("vi", "menu.language_keywords")


def test_the_khmer_catalogue_is_complete_and_keeps_placeholders_and_emoji():
    import re

    assert "km" in available_languages()
    assert available_languages()["km"] == "ភាសាខ្មែរ"
    placeholder = re.compile(r"\{[a-z_]*\}")
    vi, km = catalogue("vi"), catalogue("km")
    for key, text in vi.items():
        if isinstance(text, str):
            assert sorted(placeholder.findall(text)) == sorted(placeholder.findall(km[key])), key
            if text and unicodedata.category(text[0])[0] == "S":  # an emoji in front
                assert km[key].startswith(text[0]), key


def _khmer_chart_data():
    from scheduler.digest import DigestData
    from storage.periods import Period
    from storage.rollups import ActivityFigures, CategoryRow, Compliance, Flags

    return DigestData(
        commune="ឃុំ ល្វែ",
        period=Period("month", date(2026, 11, 1), date(2026, 12, 1)),
        categories=[CategoryRow("theft", 3, 1), CategoryRow("dispute", 2, 4)],
        flags=Flags(0, 0, 0),
        activities=ActivityFigures(),
        reporting=[
            Compliance(1, "ភូមិ ក្រាំង", 4, 3, 1),
            Compliance(2, "ភូមិ ស្រែព្រីង", 4, 2, 0),
        ],
        open_cases=[],
        open_total=0,
        now=NOW,
    )


def _missing_glyphs(draw) -> list[str]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        draw()
    return [str(w.message) for w in caught if "missing from font" in str(w.message)]


def test_a_khmer_chart_is_drawn_with_no_missing_glyph():
    import io

    from scheduler.digest import render_chart
    from scheduler.digest_chart import chart_figure

    data = _khmer_chart_data()
    png: list[bytes] = []
    assert _missing_glyphs(lambda: png.append(render_chart(data, "km"))) == []
    assert png[0].startswith(b"\x89PNG")
    # The same chart without the Khmer fallback does warn: the check above can fail.
    without = _missing_glyphs(lambda: chart_figure(data, "km").savefig(io.BytesIO()))
    assert without and "Glyph" in without[0]


async def _seed_tra_vinh(sessions, clock):
    from sqlalchemy import select

    from storage.demo_tra_vinh import seed_tra_vinh_demo
    from storage.models import Person
    from tests.helpers import link

    async with sessions() as session, session.begin():
        commune = await seed_tra_vinh_demo(session, now=clock())
        people = {p.full_name: p for p in await session.scalars(select(Person))}
        await link(session, people["ថាច់ ស្រីនាង"], "srey")
        await link(session, people["ថាច់ សុភា"], "sophea")
        await link(session, people["Sơn Thị Bích"], "officer")
        return commune.id


async def test_a_khmer_resident_of_the_tra_vinh_demo_sends_a_tip_in_khmer(sessions, clock):
    from sqlalchemy import select

    from storage.models import OutboxMessage, Tip
    from tests.helpers import Chat, make_router

    await _seed_tra_vinh(sessions, clock)
    router = make_router(sessions, clock)
    srey = Chat(router, "srey")
    await srey.command("start")
    assert "លោកស្រី ស្រីនាង ចង់រាយការណ៍អ្វី?" in srey.text  # the menu, in Khmer
    from bot.rendering import numbered_text

    # On a text channel (Zalo, the console, Vietnamese by default) the menu's hint is Khmer too.
    assert "ឆ្លើយដោយលេខ 1–" in numbered_text(srey.last[-1], "vi")
    steps = [
        "ផ្ញើព័ត៌មាន (រក្សាការសម្ងាត់)",  # the menu's label, typed
        "មានមនុស្សចម្លែកលួចត្រីពីស្រះ ម៉ោង ២ យប់។",
        "រំលង",
        "រួចរាល់",
        "អនាមិក",
    ]
    for typed in steps:
        await srey.say(typed)
    assert "សូមពិនិត្យម្តងទៀត — ព័ត៌មាន៖" in srey.text  # the summary
    assert "• អត្តសញ្ញាណ: រក្សាការសម្ងាត់" in srey.text
    await srey.say("ផ្ញើ")
    assert "✅ បានទទួលព័ត៌មានហើយ។" in srey.text and "🔑" in srey.text
    async with sessions() as session:
        tip = await session.scalar(select(Tip).order_by(Tip.id.desc()).limit(1))
        assert tip.description == steps[1]  # stored as typed, NFC, the coeng signs kept
        told = [m.text for m in await session.scalars(select(OutboxMessage))]
    assert any("🔒 Tin báo mới" in text and steps[1] in text for text in told)  # officer: vi


async def test_a_phone_number_typed_in_khmer_digits_reaches_the_officer_dialable(sessions, clock):
    from sqlalchemy import select

    from storage.models import Tip
    from tests.helpers import Chat, make_router

    await _seed_tra_vinh(sessions, clock)
    router = make_router(sessions, clock)
    srey = Chat(router, "srey")
    await srey.command("start")
    for typed in ("ផ្ញើព័ត៌មាន (រក្សាការសម្ងាត់)", "មានមនុស្សចម្លែកលួចត្រីពីស្រះ", "រំលង", "រួចរាល់"):
        await srey.say(typed)
    await srey.tap("ទុកលេខទូរស័ព្ទ")
    await srey.say("០៩១២៣៤៥៦៧៨ (ស្រីនាង)")
    assert "0912345678 (ស្រីនាង)" in srey.text  # the summary: digits read, the name as typed
    await srey.say("ផ្ញើ")
    async with sessions() as session:
        tip = await session.scalar(select(Tip).order_by(Tip.id.desc()).limit(1))
    assert tip.contact == "0912345678 (ស្រីនាង)"
    officer = Chat(router, "officer")
    await officer.command("cases")
    await officer.tap(tip.case_code)
    assert "0912345678" in officer.text and "០៩១២" not in officer.text


async def test_a_khmer_hamlet_head_reports_a_quiet_week_in_khmer(sessions, clock):
    from tests.helpers import Chat, make_router

    await _seed_tra_vinh(sessions, clock)
    head = Chat(router := make_router(sessions, clock), "sophea")
    await head.command("start")
    assert "សួស្តី លោក សុភា!" in head.text
    await head.say("១")  # the first choice, in Khmer digits
    assert "សប្តាហ៍នេះសុខសាន្ត" in head.text
    await head.tap("ផ្ញើ")
    assert "✅ បានផ្ញើរបាយការណ៍សប្តាហ៍" in head.text and "Ấp Sóc Chùa" in head.text
    officer = Chat(router, "officer")
    await officer.command("thongke", "tuan")
    assert "1/8" in officer.text  # this week's report counted, in Vietnamese for the officer


def _people_languages(db_url: str) -> dict[str, str]:
    import asyncio

    from sqlalchemy import select

    from storage.db import make_engine, make_sessionmaker
    from storage.models import Person

    async def read() -> dict[str, str]:
        engine = make_engine(db_url)
        async with make_sessionmaker(engine)() as session:
            found = {p.full_name: p.language for p in await session.scalars(select(Person))}
        await engine.dispose()
        return found

    return asyncio.run(read())


def test_the_tra_vinh_demo_seeds_beside_the_first_and_only_once(cli_db, db_url, capsys):
    from bot.cli import main

    assert main(["demo"]) == 0
    assert main(["demo", "--commune", "tra-vinh"]) == 0
    assert "Vĩnh Long" in capsys.readouterr().out
    assert main(["list"]) == 0
    listing = capsys.readouterr().out
    assert "Xã Tân Hòa" in listing and "Xã Sóc Tre, tỉnh Vĩnh Long" in listing
    assert "Ấp Sóc Chùa" in listing and "ថាច់ សុភា" in listing
    languages = _people_languages(db_url)
    assert languages["ថាច់ សុភា"] == "km" and languages["Nguyễn Văn Tư"] == "vi"
    assert sum(lang == "km" for lang in languages.values()) == 17  # 5 heads, 10 members, 2
    assert main(["demo", "--commune", "tra-vinh"]) == 0
    assert "đã có dữ liệu mẫu Trà Vinh" in capsys.readouterr().out
    assert len(_people_languages(db_url)) == len(languages)  # nothing seeded twice


def test_a_roster_takes_khmer_speakers(cli_db, db_url, capsys, tmp_path):
    from bot.cli import main

    main(["commune", "add", "--province", "Vĩnh Long", "--name", "Sóc Tre", "--hamlet", "Ô Rồm"])
    roster = tmp_path / "roster.csv"
    roster.write_text(
        "full_name,role,hamlet,team,team_kind,phone,title,language\n"
        "ថាច់ សុភា,hamlet_head,Ô Rồm,,,,លោក,km\n",
        encoding="utf-8",
    )
    assert main(["roster", "import", "--commune", "Sóc Tre", str(roster)]) == 0
    assert _people_languages(db_url) == {"ថាច់ សុភា": "km"}


async def test_the_export_is_written_in_khmer_for_a_khmer_reader(sessions, clock):
    import io

    from openpyxl import load_workbook
    from sqlalchemy import select

    from storage.export import export_xlsx
    from storage.models import Commune
    from storage.periods import containing

    commune_id = await _seed_tra_vinh(sessions, clock)
    async with sessions() as session:
        commune = await session.scalar(select(Commune).where(Commune.id == commune_id))
        period = containing("month", clock().date())
        name, content = await export_xlsx(session, commune, period, "km", clock())
    book = load_workbook(io.BytesIO(content))
    assert book.sheetnames[:2] == ["សរុប", "ហេតុការណ៍"]
    assert name.startswith("binhyen-soc-tre-month")
    cells = [c.value for row in book["ហេតុការណ៍"].iter_rows() for c in row if c.value]
    assert "ប្រភេទហេតុការណ៍" in cells  # the header
