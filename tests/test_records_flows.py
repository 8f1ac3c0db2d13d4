"""The movement's records kept in chat and from the command line: a model added and stopped,
the year's commitments and recognitions, all seen in the criteria view; back and cancel
lose nothing and keep nothing."""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select

from bot.cli import main
from storage import admin
from storage.enums import Role
from storage.models import Commitment, Hamlet, MovementModel, Recognition
from tests.helpers import Chat, link, make_commune, make_router


async def _count(sessions, model) -> int:
    async with sessions() as session:
        return await session.scalar(select(func.count()).select_from(model))


async def test_an_officer_adds_a_model_for_a_hamlet_then_marks_it_stopped(sessions, clock):
    await make_commune(sessions)
    chat = Chat(make_router(sessions, clock), "officer")
    await chat.command("start")
    await chat.tap("Thêm mô hình")
    await chat.tap("Loại khác")
    await chat.say("Tổ tự quản đường phố")
    await chat.say("Tổ tự quản đường số 5")
    await chat.tap("Phú Mỹ")
    await chat.say("01/03/2025")
    await chat.tap("Đúng")  # more than a year ago: confirmed once
    await chat.say("12")
    assert "Tổ tự quản đường số 5" in chat.text and "01/03/2025" in chat.text
    assert "Nơi: thôn Phú Mỹ" in chat.text and "12" in chat.text
    await chat.tap("Gửi")
    assert "Đã ghi mô hình «Tổ tự quản đường số 5» (thôn Phú Mỹ)" in chat.text
    async with sessions() as session:
        model = await session.scalar(select(MovementModel))
    assert (model.kind, model.kind_text, model.members) == ("other", "Tổ tự quản đường phố", 12)
    assert model.started_on == date(2025, 3, 1) and model.active

    await chat.tap("Cập nhật mô hình")
    await chat.tap("Tổ tự quản đường số 5")
    await chat.tap("Đã ngừng hoạt động")
    await chat.tap("Gửi")
    assert "Đã cập nhật mô hình" in chat.text
    async with sessions() as session:
        model = await session.get(MovementModel, model.id)
    assert not model.active and model.ended_on == date(2026, 11, 19)

    await chat.tap("Tiêu chí")
    assert "Mô hình tự quản: 0 đang hoạt động" in chat.text


async def test_a_team_lead_adds_a_model_of_their_own_hamlet_and_back_and_cancel_keep_nothing(
    sessions, clock
):
    c = await make_commune(sessions)
    async with sessions() as session, session.begin():
        hamlet = await session.get(Hamlet, c.hamlet_id)
        commune = await admin.find_commune(session, str(c.id))
        lead = await admin.add_person(
            session, commune=commune, full_name="Phạm Quốc Bảo", role=Role.TEAM_LEAD, hamlet=hamlet
        )
        await link(session, lead, "lead")
    chat = Chat(make_router(sessions, clock), "lead")
    await chat.command("start")
    assert "Số liệu ký cam kết" not in chat.text  # officers only
    await chat.tap("Thêm mô hình")
    await chat.tap("Camera an ninh")
    await chat.tap("Quay lại")
    await chat.tap("Bóng đèn an ninh")
    await chat.say("Bóng đèn an ninh xóm Bến")
    await chat.tap("Hôm nay")  # no hamlet asked: the lead's own
    await chat.tap("Bỏ qua")
    assert "Bóng đèn an ninh xóm Bến" in chat.text and "Nơi: thôn Phú Mỹ" in chat.text
    await chat.tap("Hủy")
    assert await _count(sessions, MovementModel) == 0
    await chat.tap("Cập nhật mô hình")
    assert "Chưa có mô hình nào" in chat.text


async def test_an_officer_records_commitments_and_recognitions_seen_in_the_criteria(
    sessions, clock
):
    await make_commune(sessions)
    chat = Chat(make_router(sessions, clock), "officer")
    await chat.command("start")
    await chat.tap("ký cam kết")
    await chat.tap("Hộ gia đình")
    await chat.tap("Phú Mỹ")
    await chat.tap("Năm 2026")
    await chat.say("400")
    await chat.say("401")
    assert "không thể lớn hơn tổng số" in chat.text
    await chat.say("400")
    await chat.tap("Gửi")
    assert "hộ gia đình ký cam kết 400/400, năm 2026" in chat.text
    await chat.tap("ký cam kết")
    await chat.tap("Trường học")
    await chat.tap("Năm 2026")
    await chat.say("2")
    await chat.say("2")
    await chat.tap("Gửi")
    for unit, total, recognised in (("Khu dân cư", "2", "2"), ("Cơ quan", "6", "6")):
        await chat.tap("Công nhận")
        await chat.tap(unit)
        await chat.tap("Năm 2026")
        if unit == "Khu dân cư":
            assert "Xã có 2 khu dân cư" in chat.text
        await chat.say(total)
        await chat.say(recognised)
        await chat.tap("Gửi")
    assert "6/6 cơ quan đạt chuẩn an toàn về ANTT năm 2026" in chat.text
    assert (await _count(sessions, Commitment), await _count(sessions, Recognition)) == (2, 2)
    await chat.command("tieuchi", "nam")
    assert "Ký cam kết năm 2026: 400/400 hộ gia đình, 2/2 trường học" in chat.text
    assert "Đạt chuẩn an toàn về ANTT năm 2026: 2/2 khu dân cư, 6/6 cơ quan" in chat.text


def test_an_admin_keeps_the_register_and_the_threshold_from_the_command_line(cli_db, capsys):
    def run(*args: str) -> tuple[int, str, str]:
        code = main(list(args))
        out = capsys.readouterr()
        return code, out.out, out.err

    assert run("commune", "add", "--province", "Trà Vinh", "--name", "Vĩnh Hậu",
               "--hamlet", "Vĩnh Phú", "--hamlet-label", "ấp")[0] == 0  # fmt: skip
    code, out, _ = run("model", "add", "--commune", "vinh hau", "--hamlet", "vinh phu",
                       "--kind", "camera", "--started", "2026-02-01", "--members", "8",
                       "Camera an ninh ấp Vĩnh Phú")  # fmt: skip
    assert code == 0 and "Đã thêm mô hình [1] Camera an ninh ấp Vĩnh Phú." in out
    code, out, _ = run("model", "list", "--commune", "Vĩnh Hậu")
    assert "[1] Camera an ninh ấp Vĩnh Phú · Camera an ninh · ấp Vĩnh Phú · từ 01/02/2026" in out
    assert "8 thành viên · đang hoạt động" in out
    assert run("model", "update", "--commune", "Vĩnh Hậu", "1", "--inactive")[0] == 0
    assert "đã ngừng" in run("model", "list", "--commune", "Vĩnh Hậu")[1]
    assert run("model", "list", "--commune", "Vĩnh Hậu", "--active")[1].startswith(
        "Xã Vĩnh Hậu chưa"
    )
    code, _, err = run("model", "update", "--commune", "Vĩnh Hậu", "9")
    assert code == 1 and "Không có mô hình số 9" in err
    code, out, _ = run("commitment", "threshold", "--commune", "Vĩnh Hậu", "90")
    assert code == 0 and "từ 90.0%" in out
    code, _, err = run("commitment", "threshold", "--commune", "Vĩnh Hậu", "120")
    assert code == 1 and "percentage" in err and "Traceback" not in err
    code, out, _ = run("recognition", "set", "--commune", "Vĩnh Hậu", "--unit", "areas",
                       "--year", "2026", "--recognised", "1", "--total", "1")  # fmt: skip
    assert code == 0 and "1/1 khu dân cư" in out
