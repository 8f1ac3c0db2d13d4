"""Hamlet kinds: the word a commune's residential areas go by ("thôn" in the North, "ấp" and
"khóm" in the South, "bản" and "buôn" in the uplands, "phum" and "sóc" in Khmer villages,
"tổ dân phố" and "khu phố" in towns).

The kind is kept on each hamlet (Hamlet.label, in its Vietnamese lower-case form) and drives
how the hamlet is named ("Ấp Vĩnh Phú"), its head's title ("trưởng ấp", "tổ trưởng tổ dân
phố") and the word for all of a commune's hamlets in digests ("2/12 ấp đã gửi báo cáo"). The
words come from the catalogues under hamlet_kind.<key> and head_title.<key>, where key is the
kind without diacritics ("to_dan_pho").
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from locales.text import canonical, strip_diacritics
from storage.models import Hamlet

DEFAULT = "thôn"
# Longer kinds first where one begins another ("khu phố" before "khu"), so a name such as
# "Khu phố 3" is read as a khu phố.
KINDS = (
    "tổ dân phố",
    "khu dân cư",
    "khu phố",
    "khối phố",
    "tiểu khu",
    "thôn",
    "ấp",
    "khóm",
    "xóm",
    "bản",
    "buôn",
    "bon",
    "làng",
    "plei",
    "phum",
    "sóc",
    "khối",
    "khu",
)


class UnknownKind(ValueError):
    """A hamlet kind outside KINDS; the message lists the kinds."""

    def __init__(self, typed: str) -> None:
        self.typed = typed
        self.kinds = ", ".join(KINDS)
        super().__init__(f"«{typed}»: {self.kinds}")


def checked(typed: str) -> str:
    """The kind typed (any case, with or without diacritics) in its stored form; UnknownKind
    when it is none of KINDS."""
    wanted = canonical(typed)
    for kind in KINDS:
        if canonical(kind) == wanted:
            return kind
    bare = strip_diacritics(typed)
    found = [kind for kind in KINDS if strip_diacritics(kind) == bare]
    if len(found) == 1:
        return found[0]
    raise UnknownKind(typed)


def split_name(name: str) -> tuple[str | None, str]:
    """A hamlet name that starts with its kind, as (kind, rest): "Ấp Vĩnh Phú" -> ("ấp",
    "Vĩnh Phú"); (None, name) when it does not start with one, or nothing follows it."""
    words = name.split()
    for kind in KINDS:
        size = len(kind.split())
        if len(words) > size and canonical(" ".join(words[:size])) == canonical(kind):
            return kind, " ".join(words[size:])
    return None, name


async def kinds_of(session: AsyncSession, commune_id: int) -> list[str]:
    """The kinds of a commune's hamlets, each once."""
    rows = await session.scalars(
        select(Hamlet.label).where(Hamlet.commune_id == commune_id).distinct()
    )
    return sorted(rows.all())
