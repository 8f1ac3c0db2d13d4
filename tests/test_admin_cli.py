"""The administration commands, run as an administrator would."""

from __future__ import annotations

import unicodedata
from pathlib import Path

from bot.cli import main


def run(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_demo_then_list_shows_the_commune(cli_db, capsys):
    assert run(capsys, "demo")[0] == 0
    code, out, _ = run(capsys, "list")
    assert code == 0
    assert "Xã Tân Hòa, tỉnh Đồng Nai — 12 hamlets" in out
    assert "Ấp Phú Mỹ" in out and "Ấp Suối Tre" in out
    assert "Tổ bảo vệ ANTT ấp Phú Mỹ" in out
    assert "Nguyễn Văn Hùng — hamlet_head" in out and "Trần Quốc Tuấn — officer" in out
    assert "residents registered" not in out
    again = run(capsys, "demo")
    assert again[0] == 0 and "already has a commune" in again[1]


def test_create_a_commune_with_hamlets_teams_and_people(cli_db, capsys):
    code, out, _ = run(
        capsys,
        "commune",
        "add",
        "--province",
        "An Giang",
        "--name",
        "Vĩnh Hậu",
        "--hamlet",
        "Vĩnh Bình",
        "--hamlet",
        "Vĩnh Lợi",
        "--hamlet-label",
        "ấp",
    )
    assert code == 0 and "Xã Vĩnh Hậu with 2 hamlets" in out
    assert (
        run(capsys, "hamlet", "add", "--commune", "vinh hau", "--households", "310", "Vĩnh Phú")[0]
        == 0
    )
    code, out, _ = run(
        capsys,
        "team",
        "add",
        "--commune",
        "Vĩnh Hậu",
        "--hamlet",
        "vinh binh",
        "--kind",
        "fire_safety",
        "Tổ liên gia PCCC số 3",
    )
    assert code == 0
    code, out, _ = run(
        capsys,
        "person",
        "add",
        "--commune",
        "Vĩnh Hậu",
        "--role",
        "hamlet_head",
        "--hamlet",
        "Vĩnh Bình",
        "--title",
        "ông",
        "Châu Văn Sơn",
    )
    assert code == 0
    code, _, err = run(
        capsys, "person", "add", "--commune", "Vĩnh Hậu", "--role", "team_member", "Không Có Ấp"
    )
    assert code == 1 and "belongs to a hamlet" in err
    listing = run(capsys, "list")[1]
    assert "Thôn Vĩnh Phú, 310 households" in listing and "Ấp Vĩnh Lợi" in listing
    assert "Tổ liên gia PCCC số 3 (fire_safety)" in listing
    assert "Châu Văn Sơn — hamlet_head (no chat yet)" in listing
    code, _, err = run(capsys, "hamlet", "add", "--commune", "Nowhere", "X")
    assert code == 1 and "no commune 'Nowhere'" in err


ROSTER_HEADER = "full_name,role,hamlet,team,team_kind,phone,title,language\n"


def test_roster_with_a_bad_row_imports_nothing_and_names_the_row(cli_db, capsys, tmp_path):
    run(
        capsys,
        "commune",
        "add",
        "--province",
        "Đồng Nai",
        "--name",
        "Tân Hòa",
        "--hamlet",
        "Phú Mỹ",
        "--hamlet",
        "An Lạc",
    )
    roster = tmp_path / "roster.csv"
    roster.write_text(
        ROSTER_HEADER
        + "Nguyễn Văn Hùng,trưởng thôn,Phú Mỹ,,,0912345678,ông,vi\n"
        + "Lê Thị Thu,to vien,Phu My,Tổ bảo vệ ANTT,an ninh,,,\n"
        + "Trần Văn Sai,chief,An Lạc,,,,,\n",
        encoding="utf-8",
    )
    code, _, err = run(capsys, "roster", "import", "--commune", "Tân Hòa", str(roster))
    assert code == 1
    assert "Nothing imported" in err and "line 4: unknown role 'chief'" in err
    assert "Nguyễn Văn Hùng" not in run(capsys, "list")[1]


def test_roster_normalises_names_to_nfc(cli_db, capsys, tmp_path):
    run(
        capsys,
        "commune",
        "add",
        "--province",
        "Đồng Nai",
        "--name",
        "Tân Hòa",
        "--hamlet",
        "Phú Mỹ",
    )
    nfd = unicodedata.normalize("NFD", "Nguyễn Văn Hùng")
    roster = tmp_path / "roster.csv"
    roster.write_bytes(
        (
            "\ufeff"
            + ROSTER_HEADER
            + f"{nfd},hamlet_head,Phú Mỹ,,,,ông,vi\n"
            + "Lê Thị Thu,team_member,Phú Mỹ,Tổ bảo vệ ANTT,,,,en\n"
        ).encode()
    )
    code, out, _ = run(capsys, "roster", "import", "--commune", "Tân Hòa", str(roster))
    assert code == 0 and "Imported 2 people" in out
    listing = run(capsys, "list")[1]
    assert "Nguyễn Văn Hùng — hamlet_head" in listing  # the NFC form, as it was compared
    assert "team [1] Tổ bảo vệ ANTT (security)" in listing


def test_roster_that_is_not_utf8_is_refused(cli_db, capsys, tmp_path):
    run(capsys, "commune", "add", "--province", "Đồng Nai", "--name", "Tân Hòa")
    roster = tmp_path / "roster.csv"
    roster.write_bytes((ROSTER_HEADER + "Nguyễn Văn Hùng,resident,,,,,,\n").encode("utf-16"))
    code, _, err = run(capsys, "roster", "import", "--commune", "Tân Hòa", str(roster))
    assert code == 1 and "not UTF-8" in err


def test_invite_prints_a_deep_link_and_writes_a_png(cli_db, capsys, monkeypatch):
    monkeypatch.setenv("TELEGRAM_BOT_USERNAME", "binhyen_tanhoa_bot")
    run(capsys, "demo")
    code, out, _ = run(capsys, "invite", "--person", "4", "--person", "5")
    assert code == 0
    lines = [line for line in out.splitlines() if "https://t.me/" in line]
    assert len(lines) == 2
    link = lines[0].split(": ", 1)[1]
    assert link.startswith("https://t.me/binhyen_tanhoa_bot?start=")
    code_part = link.rsplit("=", 1)[1]
    assert len(code_part) == 12 and code_part.isalnum()
    pngs = sorted((Path(cli_db) / "data" / "invites").glob("*.png"))
    assert len(pngs) == 2
    assert pngs[0].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and pngs[0].stat().st_size > 500
    code, out, _ = run(capsys, "invite", "--commune", "Tân Hòa")
    assert (
        code == 0 and out.count("https://t.me/") == 39
    )  # everyone of the demo commune not yet in a chat


def test_list_warns_of_a_commune_whose_urgent_alerts_reach_nobody(cli_db, capsys):
    run(capsys, "commune", "add", "--province", "An Giang", "--name", "Vĩnh Hậu")
    code, out, _ = run(capsys, "list")
    assert code == 0
    assert "⚠ Xã Vĩnh Hậu: cảnh báo khẩn chưa đến được ai" in out
    assert "binhyen invite" in out
