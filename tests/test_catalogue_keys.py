"""Every message key the code names exists in every catalogue, so nobody is ever shown a raw
key such as "schedule.job.purge"."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from locales import available_languages, catalogue

ROOT = Path(__file__).resolve().parent.parent
SOURCES = [
    p
    for folder in ("bot", "handlers", "conversations", "scheduler", "storage", "locales")
    for p in (ROOT / folder).rglob("*.py")
]
# t(lang, "key"), ctx.t("key"), tr(lang, "key"), t_list(lang, "key"), and keys written as
# arguments of steps and flows (prompt="…", title="…"): any quoted dotted lower-case name.
_LITERAL = re.compile(r'"([a-z][a-z_]*(?:\.[a-z0-9_]+)+)"')
# f"category.{code}": a family of keys; at least one member must exist.
_FAMILY = re.compile(r'f"([a-z][a-z_]*(?:\.[a-z0-9_]+)*\.)\{')
NOT_KEYS = re.compile(r"^(storage|conversations|handlers|scheduler|bot|locales|tests|sqlalchemy)\.")


def _names() -> tuple[set[str], set[str]]:
    literal: set[str] = set()
    families: set[str] = set()
    for path in SOURCES:
        text = path.read_text(encoding="utf-8")
        literal.update(k for k in _LITERAL.findall(text) if not NOT_KEYS.match(k))
        families.update(_FAMILY.findall(text))
    return literal, families


LITERAL, FAMILIES = _names()


def _shared(key: str) -> bool:
    """Word lists for matching typed answers: a language without its own reads Vietnamese
    ones too (people mix them), so these may be absent."""
    return key.endswith("_keywords") or key == "match.ambiguous"


def _is_key_like(name: str, keys: dict[str, object]) -> bool:
    """A dotted literal whose first part is a catalogue section: a message key."""
    return any(k.startswith(name.split(".")[0] + ".") for k in keys)


def _present(name: str, keys: dict[str, object]) -> bool:
    """A key, or a section of word lists read whole ("keyword.period")."""
    return name in keys or any(k.startswith(name + ".") for k in keys)


@pytest.mark.parametrize("lang", list(available_languages()))
def test_every_key_named_in_code_is_in_every_catalogue(lang):
    keys = set(catalogue(lang))
    reference = catalogue("vi")
    missing = sorted(
        k
        for k in LITERAL
        if _is_key_like(k, reference) and not _present(k, keys) and not _shared(k)
    )
    assert not missing, f"{lang} lacks {missing}"
    empty = sorted(
        f for f in FAMILIES if _is_key_like(f, reference) and not any(k.startswith(f) for k in keys)
    )
    assert not empty, f"{lang} has no key under {empty}"


def test_the_scan_finds_the_keys_it_is_meant_to():
    assert {"schedule.only_admins", "case.assigned", "menu.title"} <= LITERAL
    assert "schedule.name." in FAMILIES and "category." in FAMILIES


@pytest.mark.parametrize("lang", list(available_languages()))
def test_every_vietnamese_key_has_a_translation(lang):
    have = set(catalogue(lang))
    missing = sorted(k for k in set(catalogue("vi")) - have if not _shared(k))
    assert not missing, f"{lang} lacks {missing}"
