"""/web: a one-time sign-in link to the web desk, for officers and admins, in a private chat."""

from __future__ import annotations

from conversations.context import Ctx
from conversations.events import Reply
from storage import desk


async def desk_link(ctx: Ctx) -> Reply:
    if not ctx.event.private:  # a group would see the link
        return Reply(ctx.t("web.private_only"))
    token = await desk.issue_link(session=ctx.session, person=ctx.person, now=ctx.now)
    if token is None or not ctx.config.desk_url:
        return Reply(ctx.t("web.link_refused" if token is None else "web.desk_off"))
    url = f"{ctx.config.desk_url.rstrip('/')}/login/{token}"
    return Reply(ctx.t("web.link_message", url=url), private_only=True)
