"""The figures a hamlet head types in the weekly report reach the police's numbers: /stats,
the digest, the criteria view; computed here by hand."""

from __future__ import annotations

from tests.helpers import Chat, make_commune, make_router

# incidents, disputes, complaints, strangers, patrols, outreach, mediations, settled, meetings
TYPED = ("1", "0", "1", "2", "4", "1", "3", "2", "1")


async def test_a_weekly_reports_figures_reach_stats_digest_and_criteria(sessions, clock):
    await make_commune(sessions)  # two hamlets: Phú Mỹ and An Lạc; Thursday evening
    router = make_router(sessions, clock)
    head = Chat(router, "head")
    await head.command("start")
    await head.tap("Báo cáo tuần")
    await head.tap("Có tình hình")
    for figure in TYPED:
        await head.say(figure)
    await head.tap("Bỏ qua")
    await head.say("Không")
    assert "Hòa giải thành: 2" in head.text  # in the summary
    await head.tap("Gửi")
    member = Chat(router, "member")  # and an activity report of a mediation: 1 of 2 settled
    await member.command("start")
    await member.tap("Báo hoạt động")
    await member.tap("Hòa giải")
    await member.say("18/11")
    await member.say("2")
    await member.say("1")
    await member.tap("Bỏ qua")
    await member.tap("Không có ảnh")
    await member.tap("Gửi")

    officer = Chat(router, "officer")
    await officer.command("thongke", "tuan")
    text = officer.text
    assert (
        "Báo cáo tuần (1 báo cáo): vụ việc 1 · mâu thuẫn 0 · khiếu kiện đông người 1 · "
        "người lạ 2 · tuần tra 4 ca · tuyên truyền 1 buổi · hòa giải thành 2/3 · "
        "sinh hoạt 1 buổi"
    ) in text
    assert "hòa giải thành 1/2" in text  # the activity report, apart
    assert "Hòa giải thành (cả hai nguồn): 3/5 (60%)" in text
    assert "không cộng dồn" in text
    assert "khiếu kiện đông người, vượt cấp ghi trong báo cáo tuần: 1" in text
    assert "Báo cáo tuần này: 1/2 thôn đã gửi báo cáo (hạn 18:00 Chủ nhật)" in text
    assert "0/2" not in text
    assert "Vụ việc: 0 (chưa có số liệu cùng kỳ năm trước)" in text

    await officer.command("tieuchi")
    criteria = officer.text
    assert "❌ Không có khiếu kiện đông người" in criteria  # from the weekly report alone
    assert "– Vụ việc giảm so với cùng kỳ (chưa có số liệu để đánh giá)" in criteria
    await officer.command("tieuchi", "nam")
    assert "2026" in officer.text and "Q4" not in officer.text.split("\n")[0]


async def test_a_chart_says_in_words_what_it_has_not_and_labels_what_it_has(sessions, clock):
    from sqlalchemy import select

    from scheduler.digest import collect, render_chart
    from scheduler.digest_chart import chart_figure
    from storage.models import Commune
    from storage.periods import containing

    await make_commune(sessions)
    async with sessions() as session:
        commune = await session.scalar(select(Commune))
        period = containing("week", clock().date())
        empty = await collect(session, commune, period, clock())
    top, bottom = chart_figure(empty, "vi").axes
    assert not top.axison and "Không có vụ việc" in [t.get_text() for t in top.texts]
    assert not bottom.axison
    assert "Tuần này chưa tới hạn: 0/2 thôn đã gửi báo cáo" in [t.get_text() for t in bottom.texts]
    assert render_chart(empty, "vi").startswith(b"\x89PNG")

    router = make_router(sessions, clock)
    await Chat(router, "member").report_incident("Trộm cắp", "Mất xe đạp")
    await Chat(router, "member").report_incident("Trộm cắp", "Mất gà")
    async with sessions() as session:
        full = await collect(session, commune, period, clock())
    top, _ = chart_figure(full, "vi").axes
    assert top.axison and "2" in [t.get_text() for t in top.texts]  # the value on its bar
    legend = top.get_legend()
    assert legend is not None and legend.get_bbox_to_anchor().y0 < top.bbox.y0  # below


async def test_the_export_has_numbers_to_sum_right_labels_and_no_live_formulas(sessions, clock):
    import io

    from openpyxl import load_workbook

    await make_commune(sessions)
    router = make_router(sessions, clock)
    head = Chat(router, "head")
    await head.command("start")
    await head.tap("Báo cáo tuần")
    await head.tap("Có tình hình")
    for figure in TYPED:
        await head.say(figure)
    await head.tap("Bỏ qua")
    await head.say('=HYPERLINK("http://x","bấm")')  # a proposal typed as a formula
    await head.tap("Gửi")
    member = Chat(router, "member")
    await member.command("start")
    await member.tap("Báo hoạt động")
    await member.tap("Tuần tra")
    await member.say("18/11")
    await member.say("5")
    await member.say("3")
    await member.tap("Bỏ qua")
    await member.tap("Không có ảnh")
    await member.tap("Gửi")
    await Chat(router, "member").report_incident("Trộm cắp", "Mất xe", severity="Khẩn cấp")

    officer = Chat(router, "officer")
    await officer.command("export", "thang")
    _, content = next(r.document for r in officer.last if r.document)
    book = load_workbook(io.BytesIO(content))
    summary = {row[0]: row[1:] for row in book["Tổng hợp"].iter_rows(values_only=True) if row}
    assert summary["Trọng án"][0] == 0
    assert summary["Khiếu kiện đông người, vượt cấp (ghi trong báo cáo tuần)"][0] == 1
    assert summary["Tranh chấp kéo dài (>30 ngày)"][0] == 0
    assert summary["Tuần tra, canh gác"][:3] == (1, "Số ca tuần tra", 5)
    assert summary["Hòa giải thành"][0] == 2  # the weekly sums section
    assert not any(str(k).startswith("Không có") for k in summary)
    activities = list(book["Hoạt động"].iter_rows(values_only=True))
    header = activities[0]
    assert activities[1][header.index("Số ca tuần tra")] == 5  # a number, one per column
    incidents = list(book["Vụ việc"].iter_rows(values_only=True))
    assert incidents[1][incidents[0].index("Mức độ")] == "Khẩn cấp"
    weekly = book["Báo cáo tuần"]
    proposal = next(c for row in weekly.iter_rows() for c in row if "HYPERLINK" in str(c.value))
    assert proposal.data_type == "s"  # shown as text, never run
    assert book["Vụ việc"].print_title_rows == "$1:$1"  # the header on every page
    assert int(book["Vụ việc"].page_setup.paperSize) == 9  # A4

    await officer.command("export", "thang csv")
    _, archive = next(r.document for r in officer.last if r.document)
    import zipfile

    with zipfile.ZipFile(io.BytesIO(archive)) as files:
        weekly_csv = files.read("bao-cao-tuan.csv").decode("utf-8-sig")
    assert "'=HYPERLINK" in weekly_csv
