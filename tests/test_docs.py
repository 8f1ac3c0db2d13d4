"""README.md and docs/SECURITY.md name the tests that keep their promises: each named test
exists, so a promise never points at a test that was renamed or removed."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
_NAMED = re.compile(r"(?<![/\w])(test_[a-z_0-9]+)\b(?!\.py)")
_FILE = re.compile(r"\btest_[a-z_0-9]+\.py")


def _defined() -> set[str]:
    names: set[str] = set()
    for path in (ROOT / "tests").glob("test_*.py"):
        names.update(re.findall(r"^(?:async )?def (test_[a-z_0-9]+)\(", path.read_text(), re.M))
    return names


@pytest.mark.parametrize("doc", ["README.md", "docs/SECURITY.md"])
def test_every_test_a_document_names_exists(doc):
    text = (ROOT / doc).read_text(encoding="utf-8")
    defined = _defined()
    files = {p.name for p in (ROOT / "tests").glob("*.py")}
    named = set(_NAMED.findall(text))
    assert named or _FILE.search(text), f"{doc} names no test"
    missing = sorted(n for n in named if n not in defined)
    assert not missing, f"{doc} names tests that do not exist: {missing}"
    gone = sorted(f for f in set(_FILE.findall(text)) if f not in files)
    assert not gone, f"{doc} names test files that do not exist: {gone}"
