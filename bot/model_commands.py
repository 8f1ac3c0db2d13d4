"""`binhyen model`, `binhyen commitment`, `binhyen recognition`: the movement's records from
the command line, for a commune admin: the register of models, the year's commitments and
the commune's threshold for "signed", and the year's recognitions. Answers in
DEFAULT_LANGUAGE, through the catalogues."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from datetime import date
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from bot.settings import Settings
from storage.enums import CommitmentKind, ModelKind, UnitKind

if TYPE_CHECKING:
    from storage.models import Commune


def add_parsers(sub: Any, h: Callable[[str], str]) -> None:
    """The subcommands, added to the `binhyen` parser's; h gives a help text by its key under
    cli.help, in DEFAULT_LANGUAGE."""
    model = sub.add_parser("model", help=h("model"))
    m_sub = model.add_subparsers(dest="sub", required=True)
    m_add = m_sub.add_parser("add", help=h("model_add"))
    m_add.add_argument("--commune", required=True, help=h("commune_ref"))
    m_add.add_argument("--hamlet", help=h("model_hamlet"))
    m_add.add_argument(
        "--kind", required=True, choices=[k.value for k in ModelKind], help=h("model_kind")
    )
    m_add.add_argument("--kind-text", help=h("model_kind_text"))
    m_add.add_argument("--started", type=date.fromisoformat, required=True, help=h("model_started"))
    m_add.add_argument("--members", type=int, help=h("model_members"))
    m_add.add_argument("name", help=h("model_name"))
    m_list = m_sub.add_parser("list", help=h("model_list"))
    m_list.add_argument("--commune", required=True, help=h("commune_ref"))
    m_list.add_argument("--active", action="store_true", help=h("model_active_only"))
    m_up = m_sub.add_parser("update", help=h("model_update"))
    m_up.add_argument("--commune", required=True, help=h("commune_ref"))
    m_up.add_argument("id", type=int, help=h("model_id"))
    m_up.add_argument("--name", help=h("model_new_name"))
    m_up.add_argument("--members", type=int, help=h("model_members"))
    state = m_up.add_mutually_exclusive_group()
    state.add_argument("--inactive", action="store_true", help=h("model_inactive"))
    state.add_argument("--active", action="store_true", help=h("model_active"))

    commitment = sub.add_parser("commitment", help=h("commitment"))
    c_sub = commitment.add_subparsers(dest="sub", required=True)
    c_set = c_sub.add_parser("set", help=h("commitment_set"))
    c_set.add_argument("--commune", required=True, help=h("commune_ref"))
    c_set.add_argument(
        "--kind",
        required=True,
        choices=[k.value for k in CommitmentKind],
        help=h("commitment_kind"),
    )
    c_set.add_argument("--hamlet", help=h("commitment_hamlet"))
    c_set.add_argument("--year", type=int, required=True, help=h("year"))
    c_set.add_argument("--signed", type=int, required=True, help=h("commitment_signed"))
    c_set.add_argument("--total", type=int, required=True, help=h("total"))
    c_thr = c_sub.add_parser("threshold", help=h("commitment_threshold"))
    c_thr.add_argument("--commune", required=True, help=h("commune_ref"))
    c_thr.add_argument("percent", type=float, help=h("percent"))

    recognition = sub.add_parser("recognition", help=h("recognition"))
    r_sub = recognition.add_subparsers(dest="sub", required=True)
    r_set = r_sub.add_parser("set", help=h("recognition_set"))
    r_set.add_argument("--commune", required=True, help=h("commune_ref"))
    r_set.add_argument(
        "--unit", required=True, choices=[k.value for k in UnitKind], help=h("recognition_unit")
    )
    r_set.add_argument("--year", type=int, required=True, help=h("year"))
    r_set.add_argument("--recognised", type=int, required=True, help=h("recognition_count"))
    r_set.add_argument("--total", type=int, required=True, help=h("total"))


def _hamlet_id(commune: Commune, name: str | None, lang: str) -> int | None:
    """The hamlet named (typed with or without diacritics); None for the whole commune."""
    from locales import t
    from storage import admin

    if not name:
        return None
    hamlet = admin.find_hamlet(commune, name)
    if hamlet is None:
        raise admin.AdminError(
            t(lang, "model.cli_no_hamlet", hamlet=name, commune=commune.display_name)
        )
    return hamlet.id


async def model(settings: Settings, args: argparse.Namespace) -> int:
    from bot.admin_commands import _session
    from locales import t
    from storage import admin, movement
    from storage.types import utcnow

    lang = settings.default_language
    async with _session(settings) as session:
        commune = await admin.find_commune(session, args.commune)
        if args.sub == "list":
            found = await movement.list_models(
                session, commune_id=commune.id, active_only=args.active
            )
            if not found:
                print(t(lang, "model.cli_none", commune=commune.display_name))
            for m in found:
                kind = movement.model_kind_label(m, t(lang, f"model.kind.{m.kind}"))
                place = m.hamlet.display_name if m.hamlet else commune.display_name
                state = t(lang, "model.active" if m.active else "model.inactive")
                members = "–" if m.members is None else str(m.members)
                print(
                    t(
                        lang,
                        "model.cli_line",
                        id=m.id,
                        name=m.name,
                        kind=kind,
                        place=place,
                        started=m.started_on.strftime("%d/%m/%Y"),
                        members=members,
                        state=state,
                    )
                )
            return 0
        if args.sub == "add":
            hamlet_id = _hamlet_id(commune, args.hamlet, lang)
            added = await movement.add_model(
                session,
                commune_id=commune.id,
                hamlet_id=hamlet_id,
                name=args.name,
                kind=args.kind,
                kind_text=args.kind_text,
                started_on=args.started,
                members=args.members,
                now=utcnow(),
            )
            print(t(lang, "model.cli_added", id=added.id, name=added.name))
            return 0
        found_model = await movement.get_model(session, commune_id=commune.id, model_id=args.id)
        if found_model is None:
            raise admin.AdminError(t(lang, "model.cli_no_model", id=args.id))
        now = utcnow()
        await movement.update_model(
            session,
            model=found_model,
            today=now.astimezone(ZoneInfo(commune.timezone)).date(),  # the commune's day
            now=now,
            active=True if args.active else False if args.inactive else None,
            members=args.members,
            name=args.name,
        )
        print(t(lang, "model.updated", name=found_model.name))
    return 0


async def commitment(settings: Settings, args: argparse.Namespace) -> int:
    from bot.admin_commands import _session
    from locales import t
    from storage import admin, movement
    from storage.types import utcnow

    lang = settings.default_language
    async with _session(settings) as session:
        commune = await admin.find_commune(session, args.commune)
        if args.sub == "threshold":
            await movement.set_threshold(session, commune=commune, percent=args.percent)
            print(
                t(
                    lang,
                    "commitment.cli_threshold",
                    commune=commune.display_name,
                    percent=args.percent,
                )
            )
            return 0
        hamlet_id = _hamlet_id(commune, args.hamlet, lang)
        await movement.record_commitment(
            session,
            commune_id=commune.id,
            hamlet_id=hamlet_id,
            year=args.year,
            kind=args.kind,
            signed=args.signed,
            total=args.total,
            now=utcnow(),
        )
        print(
            t(
                lang,
                "commitment.recorded",
                kind=t(lang, f"commitment.kind.{args.kind}"),
                signed=args.signed,
                total=args.total,
                year=args.year,
            )
        )
    return 0


async def recognition(settings: Settings, args: argparse.Namespace) -> int:
    from bot.admin_commands import _session
    from locales import t
    from storage import admin, movement
    from storage.types import utcnow

    lang = settings.default_language
    async with _session(settings) as session:
        commune = await admin.find_commune(session, args.commune)
        await movement.record_recognition(
            session,
            commune_id=commune.id,
            year=args.year,
            unit_kind=args.unit,
            recognised=args.recognised,
            total=args.total,
            now=utcnow(),
        )
        print(
            t(
                lang,
                "recognition.recorded",
                unit=t(lang, f"recognition.unit.{args.unit}"),
                recognised=args.recognised,
                total=args.total,
                year=args.year,
            )
        )
    return 0


HANDLERS = {"model": model, "commitment": commitment, "recognition": recognition}
