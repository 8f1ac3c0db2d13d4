"""Printable invite sheets: one A4 sheet (more pages when needed) per hamlet, a card per
person with their name, role, hamlet, QR code and the code to type.

Drawn with matplotlib (PDF for printing, or PNG) and segno (the QR codes); the words come
from the caller, already in the admin's language.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import segno
from matplotlib.axes import Axes
from matplotlib.backends.backend_pdf import PdfPages
from matplotlib.figure import Figure

from locales.text import strip_diacritics

A4_INCHES = (8.27, 11.69)
COLUMNS, ROWS = 2, 4
PNG_DPI = 200


@dataclass(frozen=True)
class Card:
    name: str
    role: str  # in words: "trưởng ấp", not "hamlet_head"
    place: str  # the hamlet, or the commune for its officers
    code: str  # as typed: ABCD-EFGH-JKMN
    link: str | None  # the Telegram deep link in the QR code; None without Telegram


@dataclass(frozen=True)
class SheetWords:
    title: str  # "Mã mời — Ấp Phú Mỹ, Xã Tân Hòa"
    code_label: str  # "Mã mời"
    valid_until: str  # "Dùng được đến 17/12/2026"
    how: str  # one line at the foot of each page: how to use a card


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", strip_diacritics(text)).strip("-") or "x"


def _two_lines(name: str, width: int = 20) -> str:
    """A long name on two lines, cut at a space, so that it stays on its card."""
    if len(name) <= width or " " not in name:
        return name
    cut = name.rfind(" ", 0, width + 1)
    cut = cut if cut > 0 else name.find(" ")
    return name[:cut] + "\n" + name[cut + 1 :]


def _pages(cards: Sequence[Card]) -> Iterator[Sequence[Card]]:
    per_page = COLUMNS * ROWS
    for start in range(0, len(cards), per_page):
        yield cards[start : start + per_page]


def _qr(ax: Axes, link: str) -> None:
    rows = list(segno.make(link, error="m").matrix_iter(scale=1, border=4))
    ax.imshow(
        [[0 if dark else 1 for dark in row] for row in rows],
        cmap="gray",
        vmin=0,
        vmax=1,
        interpolation="nearest",
    )
    ax.set_axis_off()


def _page(cards: Sequence[Card], words: SheetWords, page: int, pages: int) -> Figure:
    fig = Figure(figsize=A4_INCHES)
    suffix = f" ({page}/{pages})" if pages > 1 else ""
    fig.text(0.5, 0.965, words.title + suffix, ha="center", va="top", fontsize=15, weight="bold")
    fig.text(0.5, 0.94, words.valid_until, ha="center", va="top", fontsize=10)
    fig.text(0.5, 0.025, words.how, ha="center", va="bottom", fontsize=9, wrap=True)
    left, bottom, width, height = 0.05, 0.06, 0.9, 0.86
    cell_w, cell_h = width / COLUMNS, height / ROWS
    for i, card in enumerate(cards):
        col, row = i % COLUMNS, i // COLUMNS
        x0 = left + col * cell_w
        y0 = bottom + (ROWS - 1 - row) * cell_h
        frame = fig.add_axes((x0 + 0.005, y0 + 0.005, cell_w - 0.01, cell_h - 0.01))
        frame.set_xticks([])
        frame.set_yticks([])
        for side in frame.spines.values():
            side.set_linestyle((0, (4, 3)))  # dashed: where to cut
            side.set_color("#888888")
        if card.link:
            qr_side = cell_h * 0.7
            qr_w = qr_side * A4_INCHES[1] / A4_INCHES[0]  # square on the page
            _qr(fig.add_axes((x0 + 0.01, y0 + (cell_h - qr_side) / 2, qr_w, qr_side)), card.link)
            text_x = x0 + 0.02 + qr_w
        else:
            text_x = x0 + 0.02
        top = y0 + cell_h * 0.8
        fig.text(text_x, top, _two_lines(card.name), fontsize=10, weight="bold", va="top")
        top -= 0.018 if "\n" in _two_lines(card.name) else 0
        fig.text(text_x, top - 0.03, card.role, fontsize=10, va="top")
        fig.text(text_x, top - 0.052, card.place, fontsize=10, va="top")
        fig.text(text_x, top - 0.09, words.code_label, fontsize=9, va="top")
        fig.text(text_x, top - 0.11, card.code, fontsize=13, va="top", family="monospace")
    return fig


def write_sheet(
    folder: Path, name: str, cards: Sequence[Card], words: SheetWords, fmt: str
) -> list[Path]:
    """Write the sheet of cards as folder/invites-<name>.pdf (one file, a page per 8 cards)
    or as PNG files, one per page; the paths written."""
    folder.mkdir(parents=True, exist_ok=True)
    pages = list(_pages(cards))
    base = f"invites-{slug(name)}"
    if fmt == "pdf":
        path = folder / f"{base}.pdf"
        with PdfPages(path, metadata={"Title": words.title}) as pdf:
            for n, chunk in enumerate(pages, 1):
                pdf.savefig(_page(chunk, words, n, len(pages)))
        return [path]
    written = []
    for n, chunk in enumerate(pages, 1):
        path = folder / (f"{base}.png" if n == 1 else f"{base}-{n}.png")
        _page(chunk, words, n, len(pages)).savefig(path, format="png", dpi=PNG_DPI)
        written.append(path)
    return written
