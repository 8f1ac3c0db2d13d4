"""A tipster's access code opens their tip from any chat, typed any way; guesses are
limited per tip and for all tips, whatever chat they come from."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from storage import tip_access
from storage.reports import add_tip
from tests.helpers import make_commune

KEY = b"test-secret"
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


async def _tip(session, commune_id):
    return await add_tip(session, commune_id=commune_id, reporter_key="x" * 64, received_at=NOW)


async def test_the_code_opens_its_tip_typed_any_way_and_nothing_else(sessions):
    c = await make_commune(sessions)
    async with sessions() as session, session.begin():
        tip = await _tip(session, c.id)
        other = await _tip(session, c.id)
        code = await tip_access.issue(session=session, tip=tip, key=KEY)
        await tip_access.issue(session=session, tip=other, key=KEY)
        assert len(code) == 19 and code.count("-") == 3  # four groups of four, e.g. 7K3M-9QAB-…
        for typed in (code, code.lower(), code.replace("-", ""), " ".join(code.split("-"))):
            assert await tip_access.open_tip(session=session, typed=typed, key=KEY, now=NOW) is tip
        wrong = code[:-1] + ("0" if code[-1] != "0" else "1")
        assert await tip_access.open_tip(session=session, typed=wrong, key=KEY, now=NOW) == "wrong"
        assert tip.access_hash and code.replace("-", "") not in tip.access_hash  # not stored
        # The same code with another key (a database copy without the key) opens nothing.
        assert (
            await tip_access.open_tip(session=session, typed=code, key=b"other", now=NOW) == "wrong"
        )


async def test_five_wrong_guesses_at_a_tip_lock_it_for_an_hour_whatever_the_chat(sessions):
    c = await make_commune(sessions)
    async with sessions() as session, session.begin():
        tip = await _tip(session, c.id)
        code = (await tip_access.issue(session=session, tip=tip, key=KEY)).replace("-", "")
        wrong = code[:4] + ("0" * 12 if code[4:] != "0" * 12 else "1" * 12)
        for _ in range(5):
            assert (
                await tip_access.open_tip(session=session, typed=wrong, key=KEY, now=NOW) == "wrong"
            )
        # Even the right code waits now: a guesser cannot tell when they hit it.
        assert await tip_access.open_tip(session=session, typed=code, key=KEY, now=NOW) == "limited"
        later = NOW + timedelta(hours=1, minutes=1)
        assert await tip_access.open_tip(session=session, typed=code, key=KEY, now=later) is tip


async def test_guesses_spread_over_many_tips_are_limited_too(sessions):
    c = await make_commune(sessions)
    async with sessions() as session, session.begin():
        tip = await _tip(session, c.id)
        code = await tip_access.issue(session=session, tip=tip, key=KEY)
        for n in range(tip_access.OVERALL):
            guess = f"{n:04d}".replace("0", "A") + "B" * 12  # a different tip each time
            await tip_access.open_tip(session=session, typed=guess, key=KEY, now=NOW)
        assert await tip_access.open_tip(session=session, typed=code, key=KEY, now=NOW) == "limited"


async def test_a_tip_continues_from_another_phone_with_its_secret_code(sessions, clock):
    from tests.helpers import Chat, make_router

    await make_commune(sessions)
    router = make_router(sessions, clock)
    tipster = Chat(router, "resident-a")
    await tipster.command("start")
    await tipster.tap("Gửi tin báo")
    await tipster.say("Có người lạ hay đứng trước cổng trường")
    await tipster.tap("Bỏ qua")
    await tipster.tap("Không có ảnh")
    await tipster.tap("Giữ bí mật")
    await tipster.tap("Gửi")
    code = tipster.text.split("Mã tin báo: ")[1].split()[0]
    secret = tipster.text.split("xin ghi lại): ")[1].split()[0]
    officer = Chat(router, "officer")
    await officer.send(callback="a:ask:t:1")
    await officer.say("Người đó đi xe gì?")
    await officer.tap("Gửi câu hỏi")

    other_phone = Chat(router, "resident-b")
    await other_phone.command("start")
    await other_phone.say(secret.lower().replace("-", " "))
    assert f"Đã mở tin báo {code}" in other_phone.text
    assert "Người đó đi xe gì?" in other_phone.text
    await other_phone.say("Xe máy màu đỏ, biển 60")
    await other_phone.tap("Không có ảnh")
    await other_phone.tap("Gửi")
    assert f"Đã bổ sung thông tin cho tin báo {code}" in other_phone.text
    await officer.send(callback="a:view:t:1")
    assert "Xe máy màu đỏ, biển 60" in officer.text

    # The public case code is not the secret, and wrong secrets run out, whatever the chat.
    guesser = [Chat(router, f"guesser-{n}") for n in range(6)]
    wrong = secret[:5] + ("0000-0000-0000" if secret[5:] != "0000-0000-0000" else "1111-1111-1111")
    for chat in guesser[:5]:
        await chat.say(wrong)
        assert "Mã bí mật không đúng" in chat.text
    await guesser[5].say(secret)
    assert "sai mã quá nhiều lần" in guesser[5].text
