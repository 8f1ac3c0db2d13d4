"""Binding a chat to a person with an invite code, with a limit on wrong guesses."""

from __future__ import annotations

import re
from datetime import timedelta

from conversations.context import Ctx
from conversations.events import Reply
from storage import guesses, invites
from storage.identity import INVITE_LENGTH, clean_code
from storage.models import Conversation
from storage.queries import load_person

MAX_FAILURES = 5
WINDOW = timedelta(hours=1)
# Wrong codes counted in the database, so neither new chats nor new groups help a guesser:
# per sending account, and for every account together.
PER_ACCOUNT = 5
OVERALL = 100
_LOOKS_LIKE_CODE = re.compile(r"^[0-9A-Za-z]{4}[\s-]?[0-9A-Za-z]{4}[\s-]?[0-9A-Za-z]{4}$")


def looks_like_invite(text: str) -> bool:
    """A typed invite code (Zalo has no deep links): twelve letters and digits, maybe grouped."""
    return bool(_LOOKS_LIKE_CODE.match(text.strip()))


def _limited(ctx: Ctx, conv: Conversation) -> bool:
    if conv.failed_codes_since is None or ctx.now - conv.failed_codes_since > WINDOW:
        conv.failed_codes, conv.failed_codes_since = 0, None
    return conv.failed_codes >= MAX_FAILURES


def _failed(ctx: Ctx, conv: Conversation) -> None:
    conv.failed_codes_since = conv.failed_codes_since or ctx.now
    conv.failed_codes += 1


async def _exhausted(ctx: Ctx) -> bool:
    account = str(ctx.identity.id)
    return await guesses.exhausted(
        session=ctx.session,
        scope="invite_user",
        key=account,
        now=ctx.now,
        limit=PER_ACCOUNT,
        window=WINDOW,
    ) or await guesses.exhausted(
        session=ctx.session,
        scope="invite_all",
        key="all",
        now=ctx.now,
        limit=OVERALL,
        window=WINDOW,
    )


async def _wrong(ctx: Ctx, conv: Conversation) -> None:
    _failed(ctx, conv)
    for scope, key in (("invite_user", str(ctx.identity.id)), ("invite_all", "all")):
        await guesses.wrong(session=ctx.session, scope=scope, key=key, now=ctx.now, window=WINDOW)


async def redeem(ctx: Ctx, conv: Conversation, typed: str) -> Reply:
    """Bind the chat to the invite's person; the reply greets them or says what went wrong."""
    if _limited(ctx, conv):
        assert conv.failed_codes_since is not None
        wait = WINDOW - (ctx.now - conv.failed_codes_since)
        return Reply(ctx.t("start.invite_rate_limited", minutes=max(1, wait.seconds // 60)))
    if await _exhausted(ctx):
        return Reply(ctx.t("start.invite_rate_limited", minutes=60))
    code = clean_code(typed)
    invite = None
    if len(code) == INVITE_LENGTH:
        invite = await invites.by_code(session=ctx.session, code=code)
    if invite is None or invite.expires_at < ctx.now:
        await _wrong(ctx, conv)
        return Reply(ctx.t("start.invite_invalid"))
    if invite.redeemed_at is not None and invite.redeemed_by != ctx.identity.id:
        await _wrong(ctx, conv)
        return Reply(ctx.t("start.invite_used"))
    invite.redeemed_at = invite.redeemed_at or ctx.now
    invite.redeemed_by = ctx.identity.id
    ctx.identity.person_id = invite.person_id
    await ctx.session.flush()
    ctx.person = await load_person(ctx.session, invite.person_id)
    person = ctx.person
    place = (
        person.hamlet.display_name
        if person.hamlet
        else person.commune.display_name
        if person.commune
        else ""
    )
    return Reply(
        ctx.t(
            "start.welcome_person",
            name=person.full_name or "",
            role=ctx.role_name(),
            place=place,
        )
    )
