"""Message catalogues: one TOML file per language in this folder (or in EXTRA_LOCALES_DIR).

A language is added by adding a file such as ``km.toml`` with the same keys; a key it lacks
falls back to Vietnamese, so a partial translation still works.
"""

from __future__ import annotations

import os
import tomllib
from functools import cache
from pathlib import Path
from typing import Any

from locales.text import first_upper, fold

FALLBACK = "vi"
_HERE = Path(__file__).parent


def _dirs() -> list[Path]:
    dirs = [_HERE]
    extra = os.environ.get("EXTRA_LOCALES_DIR")
    if extra:
        dirs.append(Path(extra))
    return dirs


def _flatten(prefix: str, table: dict[str, Any], out: dict[str, Any]) -> None:
    for key, value in table.items():
        name = f"{prefix}.{key}" if prefix else key
        if isinstance(value, dict):
            _flatten(name, value, out)
        else:
            out[name] = value


@cache
def catalogue(lang: str) -> dict[str, Any]:
    for folder in reversed(_dirs()):
        path = folder / f"{lang}.toml"
        if path.is_file():
            with path.open("rb") as fh:
                flat: dict[str, Any] = {}
                _flatten("", tomllib.load(fh), flat)
                return flat
    return {}


@cache
def available_languages() -> dict[str, str]:
    """Language code -> its own name, e.g. {"vi": "Tiếng Việt", "en": "English"}."""
    codes: set[str] = set()
    for folder in _dirs():
        codes.update(p.stem for p in folder.glob("*.toml"))
    ordered = sorted(codes, key=lambda c: (c != FALLBACK, c))
    return {code: str(catalogue(code).get("language.name", code)) for code in ordered}


def t(lang: str | None, key: str, **values: Any) -> str:
    """The text of key in lang, falling back to Vietnamese, then to the key itself."""
    text = catalogue(lang or FALLBACK).get(key)
    if text is None:
        text = catalogue(FALLBACK).get(key, key)
    if isinstance(text, list):
        text = "\n".join(str(x) for x in text)
    return str(text).format(**with_capitals(values)) if values else str(text)


def with_capitals(values: dict[str, Any]) -> dict[str, Any]:
    """Each text value also under its name capitalised, with its first letter up: {commune}
    is "xã Tân Hòa" within a sentence, {Commune} "Xã Tân Hòa" where a sentence starts."""
    twins = {
        key[:1].upper() + key[1:]: first_upper(value)
        for key, value in values.items()
        if isinstance(value, str) and key[:1].islower()
    }
    return {**twins, **values}


TYPED = "_typed"  # suffix of a key's wording for channels without buttons


def wording(lang: str | None, key: str, *, buttons: bool) -> str:
    """key, or on a channel without buttons its "_typed" variant where the catalogue has one:
    "gõ số thứ tự" where Telegram reads "bấm nút"."""
    if buttons:
        return key
    typed = key + TYPED
    return typed if typed in catalogue(lang or FALLBACK) or typed in catalogue(FALLBACK) else key


def t_list(lang: str | None, key: str) -> list[str]:
    value = catalogue(lang or FALLBACK).get(key)
    if value is None:
        value = catalogue(FALLBACK).get(key, [])
    return [str(v) for v in value] if isinstance(value, list) else [str(value)]


def keywords(lang: str | None, key: str) -> list[str]:
    """The words of a word list in lang, then the Vietnamese ones: people of every language
    type Vietnamese too (a Khmer resident writes "xong" as often as "រួចហើយ")."""
    words = t_list(lang, key) if lang and lang != FALLBACK and key in catalogue(lang) else []
    return list(dict.fromkeys([*words, *t_list(FALLBACK, key)]))


@cache
def word_table(lang: str | None, section: str) -> dict[str, str]:
    """{folded word: name} from every list under section: "keyword.period" gives
    {"tuan": "week", "week": "week", "thang": "month", ...}. A word the person's language
    gives wins over the same word in Vietnamese."""
    prefix = section + "."
    table: dict[str, str] = {}
    for source in dict.fromkeys([lang or FALLBACK, FALLBACK]):
        for key, value in catalogue(source).items():
            if key.startswith(prefix) and "." not in key[len(prefix) :]:
                for word in value if isinstance(value, list) else [value]:
                    table.setdefault(fold(str(word)), key[len(prefix) :])
    return table
