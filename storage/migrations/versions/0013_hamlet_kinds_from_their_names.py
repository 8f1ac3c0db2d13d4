"""hamlets keep their kind (thôn, ấp, tổ dân phố…) as a known word, read from the name

A hamlet entered as "Ấp Vĩnh Phú" with the default label "thôn" becomes an ấp named "Vĩnh
Phú", so that its head is a "trưởng ấp" and it is shown as "Ấp Vĩnh Phú", not "Thôn Ấp Vĩnh
Phú". A label typed in another case or without diacritics ("Ap", "to dan pho") takes its
stored form; one that is no known kind is left as it is.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-03
"""

import re
import unicodedata
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# storage.hamlet_kinds.KINDS as of this revision, longer kinds first.
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


def _same(text: str) -> str:
    return " ".join(unicodedata.normalize("NFC", text).casefold().split())


def _bare(text: str) -> str:
    folded = unicodedata.normalize("NFD", _same(text).replace("đ", "d"))
    return re.sub(r"\s+", " ", "".join(c for c in folded if not unicodedata.combining(c)))


def _kind(label: str) -> str | None:
    for kind in KINDS:
        if _same(kind) == _same(label):
            return kind
    found = [kind for kind in KINDS if _bare(kind) == _bare(label)]
    return found[0] if len(found) == 1 else None


def _split(name: str) -> tuple[str | None, str]:
    words = name.split()
    for kind in KINDS:
        size = len(kind.split())
        if len(words) > size and _same(" ".join(words[:size])) == _same(kind):
            return kind, " ".join(words[size:])
    return None, name


def upgrade() -> None:
    bind = op.get_bind()
    hamlets = sa.table(
        "hamlets",
        sa.column("id", sa.Integer),
        sa.column("commune_id", sa.Integer),
        sa.column("name", sa.String),
        sa.column("label", sa.String),
    )
    rows = bind.execute(
        sa.select(hamlets.c.id, hamlets.c.commune_id, hamlets.c.name, hamlets.c.label)
    ).all()
    taken = {(commune_id, name) for _, commune_id, name, _ in rows}
    for hamlet_id, commune_id, name, label in rows:
        named, rest = _split(name)
        if named and (commune_id, rest) in taken:
            named, rest = None, name  # another hamlet has the shorter name: keep this one
        kind = named or _kind(label or "") or label
        if (kind, rest) != (label, name):
            taken.discard((commune_id, name))
            taken.add((commune_id, rest))
            bind.execute(
                sa.update(hamlets).where(hamlets.c.id == hamlet_id).values(label=kind, name=rest)
            )


def downgrade() -> None:
    """Kinds read from names are kept: a name without its kind is the better data either way."""
