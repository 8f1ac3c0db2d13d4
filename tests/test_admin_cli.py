"""The administration commands, run as an administrator would."""

from __future__ import annotations

import asyncio
import os
import re
import threading
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import zxingcpp
from PIL import Image

from bot.cli import main
from tests.fake_telegram import TOKEN, FakeBotApi


def run(capsys, *args: str) -> tuple[int, str, str]:
    try:
        code = main(list(args))
    except SystemExit as exc:  # argparse refused the arguments
        code = int(exc.code or 0)
    out = capsys.readouterr()
    return code, out.out, out.err


ROSTER_HEADER = "full_name,role,hamlet,team,team_kind,phone,title,language\n"


def tan_hoa(capsys, *hamlets: str, label: str | None = None) -> tuple[int, str, str]:
    """Xã Tân Hòa in Đồng Nai, with these hamlets."""
    args = ["commune", "add", "--province", "Đồng Nai", "--name", "Tân Hòa"]
    for hamlet in hamlets:
        args += ["--hamlet", hamlet]
    return run(capsys, *args, *(["--hamlet-label", label] if label else []))


def test_demo_then_list_shows_the_commune(cli_db, capsys):
    assert run(capsys, "demo")[0] == 0
    code, out, _ = run(capsys, "list")
    assert code == 0
    assert "Xã Tân Hòa, tỉnh Đồng Nai — 12 ấp, 18 tổ, 39 người" in out
    assert "Ấp Phú Mỹ" in out and "Ấp Suối Tre" in out
    assert "Tổ bảo vệ ANTT ấp Phú Mỹ (bảo vệ an ninh, trật tự)" in out
    assert "Nguyễn Văn Hùng — trưởng ấp" in out and "Trần Quốc Tuấn — cán bộ Công an" in out
    assert "hamlet_head" not in out and "officer" not in out and "người dân đã đăng ký" not in out
    again = run(capsys, "demo")
    assert again[0] == 0 and "đã có xã" in again[1]


# English a Vietnamese admin once read from the command line: the Trà Vinh demo's message, the
# help of model, commitment and recognition, the web desk's address at `binhyen run`.
ENGLISH_LEFT = re.compile(
    r"\b(Seeded|register|units?|recognised|signed|per|year|the|with|already|database|opens|"
    r"commitments|safety|Web desk|Sign in|once|within|minutes)\b"
)


def _english_left(text: str) -> list[str]:
    """English words in text, leaving out what the admin types: options (--signed), their
    placeholders (SIGNED) and their choices ({households,agencies})."""
    prose = re.sub(r"--?[\w-]+|\b[A-Z_]{2,}\b|\{[^}]*\}", " ", text)
    return ENGLISH_LEFT.findall(prose)


def test_the_tra_vinh_demo_and_the_help_read_in_vietnamese(cli_db, capsys):
    code, out, _ = run(capsys, "demo", "--commune", "tra-vinh")
    assert code == 0
    assert "Đã tạo dữ liệu mẫu xã Sóc Tre, tỉnh Vĩnh Long (tỉnh Trà Vinh cũ)" in out
    assert "nói tiếng Khmer" in out and "«binhyen run»" in out
    assert not _english_left(out), out
    code, out, _ = run(capsys, "demo", "--commune", "tra-vinh")
    assert code == 0 and "đã có dữ liệu mẫu Trà Vinh (xã Sóc Tre)" in out
    assert not _english_left(out), out

    code, out, _ = run(capsys, "--help")
    assert code == 0
    assert "sổ mô hình tự quản về ANTT" in out
    assert "số liệu ký cam kết an toàn về ANTT, theo năm" in out
    assert "số đơn vị được công nhận «an toàn về ANTT», theo năm" in out
    assert not _english_left(out), out
    for command in (
        ["model", "add"],
        ["model", "list"],
        ["model", "update"],
        ["commitment", "set"],
        ["commitment", "threshold"],
        ["recognition", "set"],
    ):
        code, out, _ = run(capsys, *command, "--help")
        assert code == 0 and "số hoặc tên xã" in out
        assert not _english_left(out), (command, out)


def test_the_web_desk_address_reads_in_vietnamese(capsys):
    from bot.web.server import WebServer

    class Officer:
        full_name = "Trần Quốc Tuấn"

    class Sessions:  # one session, its transaction, and desk.first_officer's answer
        async def __aenter__(self):
            return self

        async def __aexit__(self, *exc):
            return None

        def begin(self):
            return self

    import storage.desk as desk

    async def first_officer(*, session):
        return Officer()

    async def issue_link(*, session, person, now):
        return "3kT9xQ"

    class Services:
        sessions = Sessions

    server = WebServer(None, None, "https://binhyen.example", "vi")  # type: ignore[arg-type]
    saved = desk.first_officer, desk.issue_link
    desk.first_officer, desk.issue_link = first_officer, issue_link  # type: ignore[assignment]
    try:
        asyncio.run(server.announce(Services()))  # type: ignore[arg-type]
    finally:
        desk.first_officer, desk.issue_link = saved  # type: ignore[assignment]
    out = capsys.readouterr().out
    assert "Bàn làm việc trên web: https://binhyen.example/" in out
    assert "Đăng nhập với tư cách Trần Quốc Tuấn (dùng một lần, trong vòng 10 phút): " in out
    assert "https://binhyen.example/login/3kT9xQ" in out
    assert not _english_left(out), out


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
    assert code == 0 and "xã Vĩnh Hậu với 2 thôn/ấp" in out
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
        "PCCC",
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
        "trưởng ấp",
        "--hamlet",
        "Vĩnh Bình",
        "--title",
        "ông",
        "Châu Văn Sơn",
    )
    assert code == 0
    code, _, err = run(
        capsys, "person", "add", "--commune", "Vĩnh Hậu", "--role", "to vien", "Không Có Ấp"
    )
    assert code == 1 and "tổ viên phải thuộc một thôn/ấp" in err
    code, _, err = run(
        capsys, "person", "add", "--commune", "Vĩnh Hậu", "--role", "cán bộ", "Lâm Văn Tài"
    )
    assert code == 0
    listing = run(capsys, "list")[1]
    assert "Thôn Vĩnh Phú, 310 hộ" in listing and "Ấp Vĩnh Lợi" in listing
    assert "Tổ liên gia PCCC số 3 (liên gia an toàn PCCC)" in listing
    assert "Châu Văn Sơn — trưởng ấp (chưa liên kết tài khoản chat)" in listing
    assert "Lâm Văn Tài — cán bộ Công an" in listing
    code, _, err = run(
        capsys, "person", "add", "--commune", "Vĩnh Hậu", "--role", "admin", "--language", "xx", "Y"
    )
    assert code == 1 and "Chưa có bản dịch cho ngôn ngữ «xx» (có: vi, en" in err
    code, _, err = run(capsys, "hamlet", "add", "--commune", "Nowhere", "X")
    assert (
        code == 1
        and err == "Lỗi: Không tìm thấy xã «Nowhere». Lệnh «binhyen list» liệt kê các xã.\n"
    )


def test_a_role_typed_in_any_form_is_the_same_role():
    from storage.admin import parse_role
    from storage.enums import Role

    for typed in ("trưởng thôn", "Truong Ap", "trưởng bản", "hamlet_head", "tổ trưởng tổ dân phố"):
        assert parse_role(typed) == Role.HAMLET_HEAD, typed
    for typed, role in (
        ("tổ viên", Role.TEAM_MEMBER),
        ("to vien", Role.TEAM_MEMBER),
        ("tổ trưởng", Role.TEAM_LEAD),
        ("cán bộ", Role.OFFICER),
        ("CAN BO CONG AN", Role.OFFICER),
        ("quản trị", Role.ADMIN),
        ("người dân", Role.RESIDENT),
        ("team_member", Role.TEAM_MEMBER),
    ):
        assert parse_role(typed) == role, typed
    assert parse_role("chief") is None and parse_role("") is None


def test_a_duplicate_hamlet_team_or_person_is_refused_in_one_line(cli_db, capsys):
    tan_hoa(capsys, "Phú Mỹ", label="ấp")
    for typed in ("Ap Phu My", "Phu My", "phú  mỹ"):
        code, out, err = run(
            capsys, "hamlet", "add", "--commune", "Tan Hoa", "--label", "ấp", typed
        )
        assert code == 1 and out == ""
        assert err == "Lỗi: Ấp Phú Mỹ đã có trong xã Tân Hòa (số [1]); không tạo thêm.\n"
    code, _, err = run(
        capsys, "commune", "add", "--province", "Đồng Nai", "--name", "Tan Hoa", "--hamlet", "X"
    )
    assert code == 1 and err.count("\n") == 1 and "Xã Tân Hòa đã có trong Đồng Nai" in err
    code, _, err = run(
        capsys,
        "commune",
        "add",
        "--province",
        "Đồng Nai",
        "--name",
        "Phú Lợi",
        "--hamlet",
        "Ấp 1",
        "--hamlet",
        "ap 1",
    )
    assert code == 1 and err == "Lỗi: Thôn/ấp «ap 1» được ghi hai lần.\n"
    assert (
        run(capsys, "team", "add", "--commune", "Tân Hòa", "--hamlet", "Phú Mỹ", "Tổ ANTT")[0] == 0
    )
    code, _, err = run(
        capsys, "team", "add", "--commune", "Tân Hòa", "--hamlet", "Phu My", "to antt"
    )
    assert (
        code == 1 and err == "Lỗi: Tổ «Tổ ANTT» đã có trong ấp Phú Mỹ (số [1]); không tạo thêm.\n"
    )
    person = ("person", "add", "--commune", "Tân Hòa", "--role", "trưởng ấp", "--hamlet", "Phú Mỹ")
    assert run(capsys, *person, "--phone", "0912 345 678", "Nguyễn Văn Hùng")[0] == 0
    code, _, err = run(capsys, *person, "Nguyen Van Hung")
    assert code == 1 and err.count("\n") == 1
    assert "Nguyễn Văn Hùng đã có trong danh sách (ấp Phú Mỹ, số [1])" in err
    code, _, err = run(capsys, *person, "--phone", "+84912345678", "Nguyễn Hùng")
    assert code == 1 and "Nguyễn Văn Hùng đã có trong danh sách" in err
    code, _, err = run(capsys, "person", "add", "--commune", "Tân Hòa", "--role", "boss", "X")
    assert code == 2 and "Chưa rõ vai trò «boss»" in err and "Traceback" not in err


def test_roster_with_a_bad_row_imports_nothing_and_names_the_row(cli_db, capsys, tmp_path):
    tan_hoa(capsys, "Phú Mỹ", "An Lạc")
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
    assert "Chưa nhập người nào" in err and "Dòng 4: chưa rõ vai trò «chief»" in err
    assert "Nguyễn Văn Hùng" not in run(capsys, "list")[1]


def test_importing_the_same_roster_twice_changes_nothing(cli_db, capsys, tmp_path):
    tan_hoa(capsys, "Phú Mỹ", "An Lạc", label="ấp")
    roster = tmp_path / "roster.csv"
    rows = (
        "Nguyễn Văn Hùng,trưởng ấp,Phú Mỹ,,,0912 345 678,ông,\n"
        "Lê Thị Thu,tổ viên,Phu My,Tổ bảo vệ ANTT,an ninh,,bà,\n"
        "Trần Quốc Tuấn,cán bộ,,,,0987654321,anh,\n"
    )
    roster.write_text(ROSTER_HEADER + rows, encoding="utf-8")
    code, out, _ = run(capsys, "roster", "import", "--commune", "Tân Hòa", str(roster))
    assert (code, out) == (
        0,
        "Xã Tân Hòa: thêm mới 3 người, cập nhật 0 người, 0 người không thay đổi.\n",
    )
    before = run(capsys, "list")[1]
    code, out, _ = run(capsys, "roster", "import", "--commune", "Tân Hòa", str(roster))
    assert "thêm mới 0 người, cập nhật 0 người, 3 người không thay đổi" in out
    assert run(capsys, "list")[1] == before
    # The same people written otherwise, one moved to a new role and another hamlet: matched
    # by phone, else by name and hamlet; one new person.
    roster.write_text(
        ROSTER_HEADER
        + "Nguyễn Văn Hùng,tổ trưởng,An Lạc,,,+84 912 345 678,,\n"
        + "Le Thi Thu,to vien,Phú Mỹ,to bao ve antt,,,,\n"
        + "Trần Quốc Tuấn,officer,,,,0987 654 321,,\n"
        + "Phạm Văn Bình,người dân,,,,,,\n",
        encoding="utf-8",
    )
    code, out, _ = run(capsys, "roster", "import", "--commune", "Tân Hòa", str(roster))
    assert "thêm mới 1 người, cập nhật 1 người, 2 người không thay đổi" in out
    listing = run(capsys, "list")[1]
    assert listing.count("Nguyễn Văn Hùng") == 1 and listing.count("Lê Thị Thu") == 1
    assert "Ấp An Lạc" in listing.split("Nguyễn Văn Hùng")[0]
    assert "Nguyễn Văn Hùng — tổ trưởng" in listing
    assert listing.count("tổ [") == 1 and "1 người dân đã đăng ký" in listing


def test_a_roster_naming_one_person_twice_imports_nothing(cli_db, capsys, tmp_path):
    tan_hoa(capsys, "Phú Mỹ")
    roster = tmp_path / "roster.csv"
    roster.write_text(
        ROSTER_HEADER
        + "Nguyễn Văn Hùng,trưởng thôn,Phú Mỹ,,,0912345678,,\n"
        + "Lê Thị Thu,tổ viên,Phú Mỹ,,,0912 345 678,,\n"
        + "Nguyen Van Hung,to vien,phu my,,,,,\n",
        encoding="utf-8",
    )
    code, out, err = run(capsys, "roster", "import", "--commune", "Tân Hòa", str(roster))
    assert code == 1 and out == ""
    assert "Dòng 3: số điện thoại 0912 345 678 trùng với dòng 2" in err
    assert "Dòng 4: Nguyen Van Hung trùng với dòng 2 (cùng họ tên, cùng thôn/ấp)" in err
    assert "Traceback" not in err and "Nguyễn Văn Hùng" not in run(capsys, "list")[1]


def test_roster_normalises_names_to_nfc(cli_db, capsys, tmp_path):
    tan_hoa(capsys, "Phú Mỹ")
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
    assert code == 0 and "thêm mới 2 người" in out
    listing = run(capsys, "list")[1]
    assert "Nguyễn Văn Hùng — trưởng thôn" in listing  # the NFC form, as it was compared
    assert "tổ [1] Tổ bảo vệ ANTT (bảo vệ an ninh, trật tự)" in listing


def test_roster_that_is_not_utf8_is_refused(cli_db, capsys, tmp_path):
    tan_hoa(capsys)
    roster = tmp_path / "roster.csv"
    roster.write_bytes((ROSTER_HEADER + "Nguyễn Văn Hùng,resident,,,,,,\n").encode("utf-16"))
    code, _, err = run(capsys, "roster", "import", "--commune", "Tân Hòa", str(roster))
    assert code == 1 and "Tệp không phải UTF-8" in err and "CSV UTF-8" in err


@contextmanager
def fake_telegram() -> Iterator[FakeBotApi]:
    """The loopback Bot API on a loop of its own: the command line runs its own loop."""
    api = FakeBotApi()
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    asyncio.run_coroutine_threadsafe(api.start(), loop).result(10)
    try:
        yield api
    finally:
        asyncio.run_coroutine_threadsafe(api.stop(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()


def _qr_texts(png: Path) -> list[str]:
    return sorted(code.text for code in zxingcpp.read_barcodes(Image.open(png)))


def test_invite_refuses_a_link_without_the_bots_name(cli_db, capsys, monkeypatch):
    monkeypatch.delenv("TELEGRAM_BOT_USERNAME", raising=False)
    monkeypatch.delenv("TELEGRAM_BOT_TOKEN", raising=False)
    run(capsys, "demo")
    code, out, err = run(capsys, "invite", "--person", "4")
    assert code == 1 and out == "" and "https://" not in err
    assert "TELEGRAM_BOT_TOKEN" in err and "TELEGRAM_BOT_USERNAME" in err
    assert not (Path(cli_db) / "data" / "invites").exists()


def test_invite_asks_telegram_the_bots_name_and_writes_a_sheet_per_hamlet(
    cli_db, capsys, monkeypatch
):
    run(capsys, "demo")
    with fake_telegram() as api:
        monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TOKEN)
        monkeypatch.setenv("TELEGRAM_API_BASE_URL", api.base_url)
        monkeypatch.setenv("TELEGRAM_BOT_USERNAME", "placeholder_bot")  # Telegram's answer wins
        code, out, _ = run(capsys, "invite", "--person", "4", "--person", "5", "--format", "png")
        assert [m for m, _ in api.calls] == ["getMe"]
        monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "999:wrong")
        refused = run(capsys, "invite", "--person", "4")
    assert refused[0] == 1 and "Telegram từ chối TELEGRAM_BOT_TOKEN" in refused[2]
    assert code == 0
    links = re.findall(r"https://t\.me/\S+", out)
    assert len(links) == 2 and all(x.startswith("https://t.me/binhyen_bot?start=") for x in links)
    assert "Nguyễn Văn Hùng (trưởng ấp, ấp Phú Mỹ): https://t.me/binhyen_bot?start=" in out
    typed = re.findall(r"Mã mời gõ trên Zalo: (\S+)", out)
    assert len(typed) == 2 and all(len(x) == 14 and x.count("-") == 2 for x in typed)
    sheets = sorted((Path(cli_db) / "data" / "invites").glob("*.png"))
    assert [p.name for p in sheets] == ["invites-ap-phu-my.png"]  # persons 4 and 5: Phú Mỹ
    assert f"Phiếu in cho ấp Phú Mỹ: {sheets[0]}" in out
    assert _qr_texts(sheets[0]) == sorted(links)


def test_invite_for_a_commune_prints_a_pdf_per_hamlet(cli_db, capsys, monkeypatch):
    monkeypatch.setenv("TELEGRAM_BOT_USERNAME", "binhyen_tanhoa_bot")
    run(capsys, "demo")
    code, out, _ = run(capsys, "invite", "--commune", "Tân Hòa")
    # everyone of the demo commune not yet in a chat
    assert code == 0 and out.count("https://t.me/binhyen_tanhoa_bot?start=") == 39
    pdfs = sorted((Path(cli_db) / "data" / "invites").glob("*.pdf"))
    assert len(pdfs) == 13  # 12 hamlets, and the commune's own officers and admin
    sheet = (Path(cli_db) / "data" / "invites" / "invites-ap-phu-my.pdf").read_bytes()
    assert sheet.startswith(b"%PDF") and len(re.findall(rb"/Type /Page\b(?!s)", sheet)) == 1
    assert b"/MediaBox [ 0 0 595.44 841.68 ]" in sheet  # A4, in points
    code, out, _ = run(capsys, "invite", "--commune", "Tân Hòa")
    assert code == 0 and out.count("https://t.me/") == 39  # unused invites do not link anyone


def test_remind_names_the_hamlet_heads_it_could_not_reach(cli_db, capsys, tmp_path):
    tan_hoa(capsys, "Phú Mỹ", "An Lạc", "Bình An", label="ấp")
    roster = tmp_path / "roster.csv"
    roster.write_text(
        ROSTER_HEADER
        + "Nguyễn Văn Hùng,trưởng ấp,Phú Mỹ,,,,,\n"
        + "Trần Thị Lan,trưởng ấp,An Lạc,,,,,\n",
        encoding="utf-8",
    )
    assert run(capsys, "roster", "import", "--commune", "Tân Hòa", str(roster))[0] == 0
    asyncio.run(_link_blocked(os.environ["DATABASE_URL"], "Trần Thị Lan"))
    code, out, _ = run(capsys, "remind")
    assert code == 0
    assert "Xã Tân Hòa: đã nhắc 0 tài khoản chat của 3 thôn/ấp chưa gửi báo cáo tuần" in out
    assert "Ấp Phú Mỹ: chưa nhắc được Nguyễn Văn Hùng — chưa liên kết tài khoản chat" in out
    assert "Ấp An Lạc: chưa nhắc được Trần Thị Lan — tài khoản chat đã chặn bot" in out
    assert "Ấp Bình An: chưa có trưởng thôn trong danh sách" in out
    code, out, _ = run(capsys, "remind")
    assert code == 0 and "đã được gửi trước đó" in out


async def _link_blocked(url: str, name: str) -> None:
    from sqlalchemy import select

    from storage.db import make_engine, make_sessionmaker
    from storage.models import Identity, Person
    from storage.types import utcnow

    engine = make_engine(url)
    async with make_sessionmaker(engine)() as session, session.begin():
        person = await session.scalar(select(Person).where(Person.full_name == name))
        assert person is not None
        session.add(
            Identity(
                person_id=person.id,
                channel="telegram",
                external_id="555",
                chat_id="555",
                blocked_at=utcnow(),
            )
        )
    await engine.dispose()


def test_list_warns_of_a_commune_whose_urgent_alerts_reach_nobody(cli_db, capsys):
    run(capsys, "commune", "add", "--province", "An Giang", "--name", "Vĩnh Hậu")
    code, out, _ = run(capsys, "list")
    assert code == 0
    assert "⚠ Xã Vĩnh Hậu: cảnh báo khẩn chưa đến được ai" in out
    assert "binhyen invite" in out


def test_an_admin_error_is_said_in_the_admins_language():
    from bot.admin_commands import admin_error
    from storage.admin import AdminError

    refused = AdminError("needs_hamlet", role="team_member")
    assert admin_error("vi", refused) == (
        "Người có vai trò tổ viên phải thuộc một thôn/ấp: xin ghi thêm --hamlet."
    )
    assert admin_error("en", refused) == "A team member belongs to a hamlet: add --hamlet."
    assert admin_error("vi", AdminError("Ấp này đã giải thể.")) == "Ấp này đã giải thể."


def test_invite_on_zalo_alone_prints_codes_to_type_and_no_link(cli_db, capsys, monkeypatch):
    monkeypatch.delenv("TELEGRAM_BOT_USERNAME", raising=False)
    monkeypatch.delenv("TELEGRAM_BOT_TOKEN", raising=False)
    monkeypatch.setenv("ZALO_BOT_TOKEN", "12345:zalo-secret")
    run(capsys, "demo")
    code, out, _ = run(capsys, "invite", "--person", "4", "--format", "png")
    assert code == 0 and "https://" not in out and "(không có đường dẫn Telegram)" in out
    assert re.search(r"Mã mời gõ trên Zalo: [0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}", out)
    sheet = Path(cli_db) / "data" / "invites" / "invites-ap-phu-my.png"
    assert sheet.exists() and _qr_texts(sheet) == []
