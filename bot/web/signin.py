"""Signing in: by the one-time link the bot sends (/web), or inside Telegram as a Mini App;
signing out; the language switch."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from bot.web.app import Services, WebCtx, desk_page, lang_of
from bot.web.auth import COOKIE, LANG_COOKIE, Signer, telegram_user
from bot.web.render import page
from locales import available_languages
from storage import audit, desk


def _signed_in(response: Response, request: Request, token: str) -> Response:
    services: Services = request.app.state.services
    signer: Signer = request.app.state.signer
    response.set_cookie(
        COOKIE,
        signer.cookie(token),
        httponly=True,
        samesite="lax" if not services.config.secure_cookies else "none",
        secure=services.config.secure_cookies,
        path="/",
    )
    return response


async def signin_help(request: Request) -> Response:
    services: Services = request.app.state.services
    return page("signin.html", lang_of(request, None, services.config.default_language))


async def login_link(request: Request) -> Response:
    """GET shows a button (link previews fetch URLs: a GET must not use the link up); the
    button's POST signs in."""
    services: Services = request.app.state.services
    lang = lang_of(request, None, services.config.default_language)
    token = request.path_params["token"]
    if request.method == "GET":
        return page("login.html", lang, token=token)
    now = services.clock()
    async with services.sessions() as session, session.begin():
        person = await desk.redeem_link(session=session, token=token, now=now)
        if person is None:
            return page("signin.html", lang, 403, bad_link=True)
        session_token = await desk.open_session(session=session, person=person, now=now)
        await audit.record(session=session, person=person, action="sign_in", now=now)
    return _signed_in(RedirectResponse("/cases", status_code=303), request, session_token)


async def miniapp(request: Request) -> Response:
    services: Services = request.app.state.services
    return page("miniapp.html", lang_of(request, None, services.config.default_language))


async def miniapp_auth(request: Request) -> Response:
    """initData of the Mini App, its signature checked with the bot token: a session."""
    services: Services = request.app.state.services
    form = await request.form(max_part_size=16 * 1024)
    init_data = form.get("init_data")
    user_id = (
        telegram_user(init_data, services.config.bot_token, services.clock().timestamp())
        if isinstance(init_data, str)
        else None
    )
    if user_id is None:
        return JSONResponse({"ok": False}, status_code=403)
    now = services.clock()
    async with services.sessions() as session, session.begin():
        person = await desk.person_of_telegram_user(session=session, user_id=user_id)
        if person is None:
            return JSONResponse({"ok": False}, status_code=403)
        token = await desk.open_session(session=session, person=person, now=now)
        await audit.record(
            session=session, person=person, action="sign_in", now=now, detail="mini app"
        )
    return _signed_in(JSONResponse({"ok": True, "next": "/cases"}), request, token)


async def _signout(ctx: WebCtx) -> Response:
    signer: Signer = ctx.request.app.state.signer
    token = signer.token(ctx.request.cookies.get(COOKIE))
    if token:
        await desk.end_session(session=ctx.session, token=token)
    response = RedirectResponse("/signin", status_code=303)
    response.delete_cookie(COOKIE, path="/")
    return response


async def language(request: Request) -> Response:
    chosen = request.query_params.get("to", "")
    back = request.query_params.get("next", "/cases")
    if not back.startswith("/") or back.startswith("//"):
        back = "/cases"
    response = RedirectResponse(back, status_code=303)
    if chosen in available_languages():
        response.set_cookie(LANG_COOKIE, chosen, samesite="lax", path="/")
    return response


async def home(request: Request) -> Response:
    return RedirectResponse("/cases", status_code=303)


def routes() -> list[BaseRoute]:
    return [
        Route("/", home),
        Route("/signin", signin_help),
        Route("/login/{token}", login_link, methods=["GET", "POST"]),
        Route("/miniapp", miniapp),
        Route("/miniapp/auth", miniapp_auth, methods=["POST"]),
        Route("/signout", desk_page(_signout), methods=["POST"]),
        Route("/lang", language),
    ]
