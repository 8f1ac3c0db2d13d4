"""The digest's chart: incidents by category against last year, and weekly reporting by
hamlet. Kept apart from the digest's text so that matplotlib is loaded only when a chart is
drawn. Khmer is drawn with Noto Sans Khmer from its font package (matplotlib 3.11 shapes the
script); DejaVu Sans, matplotlib's own, has no Khmer glyphs."""

from __future__ import annotations

import io
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache

import fontpkg
from matplotlib import font_manager, rc_context
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from locales import t
from locales.text import hamlets_word, period_words
from scheduler.digest import KHMER_FONT, DigestData


@cache
def _font_families() -> list[str]:
    """DejaVu Sans first, then the Khmer font, registered with matplotlib once."""
    font_manager.fontManager.addfont(str(fontpkg.path(KHMER_FONT)))
    return ["DejaVu Sans", KHMER_FONT]


@contextmanager
def chart_fonts() -> Iterator[None]:
    """Text drawn inside falls back to Khmer glyphs where DejaVu Sans has none."""
    with rc_context({"font.family": _font_families()}):
        yield


# Charts are drawn in worker threads; the font settings are matplotlib's global state.
_DRAWING = threading.Lock()


def render_chart(data: DigestData, lang: str) -> bytes:
    """The digest's chart as a PNG."""
    out = io.BytesIO()
    with _DRAWING, chart_fonts():
        chart_figure(data, lang).savefig(out, format="png")
    return out.getvalue()


def chart_figure(data: DigestData, lang: str) -> Figure:
    """Incidents by category against last year, and weekly reporting by hamlet.

    Values are written on the bars, the legends sit below the plots, and a part with nothing
    to draw says so in words instead of showing an empty axis."""
    fig = Figure(figsize=(8, 9), dpi=100)
    top, bottom = fig.subplots(2, 1, gridspec_kw={"height_ratios": [1, 1.2]})
    rows = [r for r in data.categories if r.count or r.last_year]
    top.set_title(
        t(lang, "chart.incidents", period=period_words(lang, data.period.kind, data.period.label))
    )
    if rows:
        labels = [t(lang, f"category.{r.category}").split(",")[0] for r in rows]
        y = list(range(len(rows)))
        before = top.barh(
            [i + 0.2 for i in y],
            [r.last_year for r in rows],
            height=0.4,
            color="#b0b7c3",
            label=t(lang, "chart.last_year"),
        )
        now = top.barh(
            [i - 0.2 for i in y],
            [r.count for r in rows],
            height=0.4,
            color="#c0392b",
            label=t(lang, "chart.this_period"),
        )
        for bars, values in ((before, [r.last_year for r in rows]), (now, [r.count for r in rows])):
            shown = [str(v) if v else "" for v in values]  # a zero needs no number
            top.bar_label(bars, labels=shown, padding=2, fontsize=8)
        top.set_yticks(y, labels)
        top.invert_yaxis()
        top.xaxis.set_major_locator(MaxNLocator(integer=True))
        top.set_xlabel(t(lang, "chart.count"))
        top.margins(x=0.15)
        top.legend(loc="upper center", bbox_to_anchor=(0.5, -0.18), ncols=2, frameon=False)
    else:
        _say(top, t(lang, "chart.none"))
    names = [r.name for r in data.reporting]
    word = hamlets_word(lang, [r.kind for r in data.reporting])
    bottom.set_title(t(lang, "chart.reporting", hamlet_word=word))
    if names and any(r.weeks for r in data.reporting):
        x = list(range(len(names)))
        on_time = [r.on_time for r in data.reporting]
        late = [r.late for r in data.reporting]
        missing = [r.missing for r in data.reporting]
        bottom.bar(x, on_time, color="#27ae60", label=t(lang, "chart.on_time"))
        bottom.bar(x, late, bottom=on_time, color="#f39c12", label=t(lang, "chart.late"))
        bottom.bar(
            x,
            missing,
            bottom=[a + b for a, b in zip(on_time, late, strict=True)],
            color="#7f8c8d",
            label=t(lang, "chart.missing"),
        )
        bottom.set_xticks(x, names, rotation=45, ha="right")
        bottom.yaxis.set_major_locator(MaxNLocator(integer=True))
        bottom.set_ylabel(t(lang, "chart.weeks"))
        bottom.legend(loc="upper center", bbox_to_anchor=(0.5, -0.35), ncols=3, frameon=False)
    elif data.sent_this_week is not None:
        sent, count = data.sent_this_week, len(names)
        _say(bottom, t(lang, "chart.week_running", sent=sent, hamlets=count, hamlet_word=word))
    else:
        _say(bottom, t(lang, "chart.no_reports"))
    fig.tight_layout()
    return fig


def _say(axes: Axes, sentence: str) -> None:
    """A part of the chart with nothing to draw: the sentence, and no axis."""
    axes.set_axis_off()
    axes.text(0.5, 0.5, sentence, ha="center", va="center", fontsize=13, transform=axes.transAxes)
