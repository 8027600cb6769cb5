"""The coordinators' web desk as a Starlette application: sign-in with a one-time link from the
chat, the case queue (facts only), a case's file behind a deliberate, audited "open", the rota
with its overrides, the statistics, and each expert's calendar feed. Off unless configured;
bound to 127.0.0.1 by default (see :mod:`bot.desk.server`)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from limits import parse
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter
from sqlalchemy import Engine, insert
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import MutableHeaders
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bot.desk import pages
from bot.desk.access import form_allowed, form_token, now, open_session, signed_in
from bot.desk.calendar import calendar_feed
from bot.desk.links import DeskLinks
from bot.desk.texts import DeskTexts
from config.experts import Expert, Roster, RosterError
from config.roster_edit import OverrideGone, add_override, parse_override, remove_override
from flows import FlowSet
from storage import desk_logins
from storage.cases import AUDIT

log = logging.getLogger(__name__)

HERE = Path(__file__).parent
LOGIN_TRIES = parse("10/minute")
Handler = Callable[[Request, Expert, dict[str, Any]], Awaitable[Response]]


@dataclass
class Desk:
    """What the pages need. ``roster`` gives the roster the bot uses now; ``roster_saved`` is
    called with the roster the desk just wrote to the experts file, so the desk shows it and the
    bot takes it at once."""

    db: Engine
    roster: Callable[[], Roster]
    flows: FlowSet
    facts: dict[str, str]
    links: DeskLinks
    experts_file: Path | None = None
    session_hours: float = 8.0
    roster_saved: Callable[[Roster], None] = lambda roster: None
    texts: DeskTexts = field(default_factory=DeskTexts)
    limiter: MovingWindowRateLimiter = field(
        default_factory=lambda: MovingWindowRateLimiter(MemoryStorage()))

    def audit(self, actor: str, action: str, case_id: int | None,
              detail: str | None = None) -> None:
        with self.db.begin() as connection:
            connection.execute(insert(AUDIT).values(at=now(), actor=actor[:64], action=action,
                                                    case_id=case_id, detail=detail))


def desk_app(desk: Desk) -> Starlette:
    templates = Jinja2Templates(directory=HERE / "templates")
    secure = desk.links.url.startswith("https://")

    def language(request: Request, expert: Expert | None = None) -> str:
        chosen = request.query_params.get("lang")
        if chosen in ("nl", "en"):
            request.session["lang"] = chosen
        stored = request.session.get("lang")
        return str(stored) if stored in ("nl", "en") else (expert.language if expert else "nl")

    def render(request: Request, name: str, expert: Expert | None, status: int = 200,
               **context: Any) -> Response:
        lang = language(request, expert)
        return templates.TemplateResponse(request, name, {
            "t": lambda key, **fields: desk.texts(key, lang, **fields), "lang": lang,
            "expert": expert, "form": form_token(request), **context}, status_code=status)

    async def coordinator(request: Request) -> Expert | Response:
        expert, known = await run_in_threadpool(signed_in, request, desk.db, desk.roster)
        if expert is not None:
            return expert
        if known:
            return render(request, "message.html", None, 403, heading="refused_title",
                          message="refused")
        return RedirectResponse("/login", status_code=303)

    async def checked_form(request: Request, expert: Expert) -> dict[str, Any] | Response:
        form = await request.form()
        if not form_allowed(request, form.get("form")):
            log.warning("desk.form_refused expert=%s", expert.id)
            return render(request, "message.html", expert, 403, heading="refused_title",
                          message="form_expired")
        return {key: form.getlist(key) if key == "experts" else form.get(key)
                for key in form}

    async def login_page(request: Request) -> Response:
        return render(request, "login.html", None, token=None)

    async def login_link(request: Request) -> Response:
        return render(request, "login.html", None, token=request.path_params["token"])

    async def login(request: Request) -> Response:
        client = request.client.host if request.client else "?"
        if not desk.limiter.hit(LOGIN_TRIES, "desk-login", client):
            return render(request, "message.html", None, 429, heading="login_title",
                          message="login_too_many")
        token = str((await request.form()).get("token") or "")

        def use() -> desk_logins.DeskSession | None:
            with desk.db.begin() as connection:
                return desk_logins.use_link(connection, token, now(),
                                            timedelta(hours=desk.session_hours))

        session = await run_in_threadpool(use) if token else None
        if session is None:
            log.info("desk.login_refused")
            return render(request, "message.html", None, 403, heading="login_title",
                          message="login_invalid")
        expert = desk.roster().by_id(session.expert)
        if expert is None or not expert.coordinator:
            return render(request, "message.html", None, 403, heading="refused_title",
                          message="refused")
        open_session(request, session.id)
        await run_in_threadpool(desk.audit, f"desk:{expert.id}", "desk_signin", None)
        log.info("desk.signed_in expert=%s", expert.id)
        return RedirectResponse("/", status_code=303)

    def page(handler: Handler, *, form: bool = False) -> Callable[[Request],
                                                                  Awaitable[Response]]:
        """A page for a signed-in coordinator; ``form``: a POST whose form token is checked
        first (the handler gets its fields)."""
        async def endpoint(request: Request) -> Response:
            expert = await coordinator(request)
            if not isinstance(expert, Expert):
                return expert
            fields: dict[str, Any] = {}
            if form:
                checked = await checked_form(request, expert)
                if isinstance(checked, Response):
                    return checked
                fields = checked
            return await handler(request, expert, fields)
        return endpoint

    async def logout(request: Request, expert: Expert, fields: dict[str, Any]) -> Response:
        session_id = int(request.session["sid"])

        def end() -> None:
            with desk.db.begin() as connection:
                desk_logins.end_session(connection, session_id, now())

        await run_in_threadpool(end)
        chosen = request.session.get("lang")
        request.session.clear()
        if chosen:
            request.session["lang"] = chosen
        return render(request, "message.html", None, heading="login_title",
                      message="signed_out")

    async def queue(request: Request, expert: Expert, fields: dict[str, Any]) -> Response:
        chosen = {key: request.query_params.get(key, "") for key in
                  ("status", "urgency", "specialty")}
        view = await run_in_threadpool(pages.queue_view, desk, language(request, expert),
                                       chosen)
        return render(request, "queue.html", expert, **view)

    def case_page(request: Request, expert: Expert, view: dict[str, Any] | None) -> Response:
        if view is None:
            return render(request, "message.html", expert, 404, heading="case_title",
                          message="not_found")
        return render(request, "case.html", expert, **view)

    async def case(request: Request, expert: Expert, fields: dict[str, Any]) -> Response:
        return case_page(request, expert, await run_in_threadpool(
            pages.case_view, desk, language(request, expert), int(request.path_params["case"])))

    async def open_case(request: Request, expert: Expert, fields: dict[str, Any]) -> Response:
        return case_page(request, expert, await run_in_threadpool(
            pages.case_file, desk, language(request, expert), int(request.path_params["case"]),
            expert))

    async def show_rota(request: Request, expert: Expert, notice: str | None = None,
                        problem: str | None = None, status: int = 200) -> Response:
        lang = language(request, expert)
        view = await run_in_threadpool(pages.rota_view, desk, lang)
        if problem is not None and desk.texts.has(problem):
            problem = desk.texts(problem, lang)
        return render(request, "rota.html", expert, status, notice=notice, problem=problem,
                      **view)

    async def rota(request: Request, expert: Expert, fields: dict[str, Any]) -> Response:
        return await show_rota(request, expert)

    async def change_rota(request: Request, expert: Expert, form: dict[str, Any]) -> Response:
        path = desk.experts_file
        if path is None:
            return await show_rota(request, expert, problem="rota_no_file", status=409)
        removing = request.path_params.get("index")
        try:
            if removing is not None:
                saved = await run_in_threadpool(remove_override, path, int(removing),
                                                str(form.get("which") or ""))
                action, notice = "override_remove", "rota_removed"
            else:
                start, end = str(form.get("start") or ""), str(form.get("end") or "")
                if not start or not end or end <= start:  # ISO local times sort as times
                    return await show_rota(request, expert, problem="rota_times_wrong",
                                           status=422)
                override = parse_override(str(form.get("specialty") or ""), start, end,
                                          [str(e) for e in form.get("experts") or []])
                saved = await run_in_threadpool(add_override, path, override)
                action, notice = "override_add", "rota_saved"
        except OverrideGone:
            return await show_rota(request, expert, problem="rota_override_gone", status=409)
        except (RosterError, ValueError) as exc:
            reason = desk.texts("rota_refused", language(request, expert), reason=str(exc))
            return await show_rota(request, expert, problem=reason, status=422)
        await run_in_threadpool(desk.audit, f"desk:{expert.id}", action, None,
                                str(form.get("specialty") or "")[:64] or None)
        log.info("desk.%s expert=%s", action, expert.id)
        desk.roster_saved(saved)  # the page below shows it, and the bot uses it, at once
        return await show_rota(request, expert, notice=notice)

    async def stats(request: Request, expert: Expert, fields: dict[str, Any]) -> Response:
        view = await run_in_threadpool(pages.stats_view, desk, language(request, expert))
        return render(request, "stats.html", expert, **view)

    async def agenda(request: Request) -> Response:
        expert_id, token = request.path_params["expert"], request.path_params["token"]
        expert = desk.roster().by_id(expert_id)
        if expert is None or not desk.links.calendar_allows(expert_id, token):
            return Response("not found", status_code=404, media_type="text/plain")
        body = await run_in_threadpool(calendar_feed, desk.roster(), expert, desk.flows, now())
        return Response(body, media_type="text/calendar; charset=utf-8",
                        headers={"Cache-Control": "private, max-age=300"})

    routes = [
        Route("/", page(queue)),
        Route("/login", login_page),
        Route("/login", login, methods=["POST"]),
        Route("/login/{token}", login_link),
        Route("/logout", page(logout, form=True), methods=["POST"]),
        Route("/cases/{case:int}", page(case)),
        Route("/cases/{case:int}/open", page(open_case, form=True), methods=["POST"]),
        Route("/rota", page(rota)),
        Route("/rota/overrides", page(change_rota, form=True), methods=["POST"]),
        Route("/rota/overrides/{index:int}/delete", page(change_rota, form=True),
              methods=["POST"]),
        Route("/stats", page(stats)),
        Route("/agenda/{expert}/{token}.ics", agenda),
        Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
    ]
    middleware = [Middleware(
        SessionMiddleware, secret_key=desk.links.secret, session_cookie="weerbaar_desk",
        max_age=int(desk.session_hours * 3600), same_site="strict", https_only=secure)]
    return Starlette(routes=routes, middleware=[*middleware, Middleware(SecurityHeaders)])


HEADERS = [
    (b"cache-control", b"no-store"), (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"), (b"x-content-type-options", b"nosniff"),
    (b"content-security-policy", b"default-src 'none'; style-src 'self'; img-src 'self'; "
                                 b"form-action 'self'; frame-ancestors 'none'; base-uri 'none'"),
]


class SecurityHeaders:
    """Every answer: not cached (pages show cases), not framed, no referrer (a sign-in link in
    the address must not leak), and a content policy that allows no script at all."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in HEADERS:
                    if name.decode() not in headers:
                        headers.append(name.decode(), value.decode())
            await send(message)

        await self.app(scope, receive, with_headers)
