"""Error answers: browsers get a page in their language for every 4xx and 5xx (a bare one
inside the embed's iframe); the API, the feeds and other machine clients keep JSON."""

from __future__ import annotations

import logging
from http import HTTPStatus

from fastapi import Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.i18n import STRINGS, normalise_lang, t
from api.web import LANG_KEY, render, request_lang

log = logging.getLogger(__name__)

# Paths whose errors stay JSON for every client (the API and the feeds).
MACHINE_PREFIXES = (
    "/api/",
    "/calendar.ics",
    "/regions/",
    "/feeds/",
    "/data/",
    "/healthz",
    "/metrics",
    "/dekking.csv",
    "/websub/",
)
EMBED_PREFIX = "/embed/"


def _is_machine(request: Request) -> bool:
    return request.url.path.startswith(MACHINE_PREFIXES)


def _lang(request: Request) -> str:
    """The page language; the iframe list also takes it from ``?lang=``."""
    path = request.url.path
    if path.startswith(EMBED_PREFIX):
        return normalise_lang(request.query_params.get("lang") or request_lang(request))
    if LANG_KEY not in request.scope and (path == "/en" or path.startswith("/en/")):
        return "en"  # a 500 is answered outside the language middleware
    return request_lang(request)


def error_texts(status: int, lang: str, detail: str | None = None) -> tuple[str, str]:
    """The heading and explanation of an error page for ``status``.

    A detail of our own (not the bare HTTP phrase) says more than the generic text, so it
    is shown; a 404 always gets the not-found text.
    """
    if status == 404:
        return t("not_found", lang), t("not_found_text", lang)
    family = status if f"error_{status}" in STRINGS else (500 if status >= 500 else 400)
    heading, text = t(f"error_{family}", lang), t(f"error_{family}_text", lang)
    phrase = HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_ else ""
    if detail and detail != phrase and status < 500:
        text = detail
    return heading, text


def error_page(request: Request, status: int, heading: str, message: str) -> Response:
    """Render the error page (the bare embed variant under /embed/)."""
    template = (
        "embed_http_error.html" if request.url.path.startswith(EMBED_PREFIX) else "error.html"
    )
    lang = _lang(request)
    request.scope[LANG_KEY] = lang  # the page's strings follow the embed's ?lang=
    return render(
        request,
        template,
        status_code=status,
        heading=heading,
        message=message,
        code=t("error_code", lang, code=status),
    )


async def html_errors(request: Request, exc: StarletteHTTPException) -> Response:
    """An HTTP error: a page for browsers, JSON for the API, feeds and non-browsers."""
    wants_html = "text/html" in request.headers.get("accept", "")
    if not wants_html or _is_machine(request):
        return await http_exception_handler(request, exc)
    heading, message = error_texts(exc.status_code, _lang(request), str(exc.detail))
    response = error_page(request, exc.status_code, heading, message)
    if exc.headers:
        response.headers.update(exc.headers)
    return response


def invalid_fields(exc: RequestValidationError) -> str:
    """The request fields a validation error names, each with pydantic's reason."""
    problems = []
    for error in exc.errors():
        where = ".".join(str(p) for p in error.get("loc", ()) if p not in ("query", "path"))
        problems.append(f"{where}: {error.get('msg')}")
    return "; ".join(problems)


async def invalid_page(request: Request, exc: RequestValidationError) -> Response:
    """A page or the embed asked with a value it cannot take: a 422 page in the visitor's
    language naming the fields (inside a regional site's iframe too); the API and the
    feeds keep their JSON body."""
    if _is_machine(request):
        return JSONResponse(
            status_code=422, content={"detail": "invalid request: " + invalid_fields(exc)}
        )
    lang = _lang(request)
    fields = sorted(
        {
            ".".join(str(p) for p in error.get("loc", ()) if p not in ("query", "path"))
            for error in exc.errors()
        }
    )
    message = t("invalid_values", lang, fields=", ".join(fields))
    return error_page(request, 422, t("error_title", lang), message)


async def server_error(request: Request, exc: Exception) -> Response:
    """An unexpected error: logged; a 500 page for browsers, a short JSON body otherwise."""
    log.exception("unhandled error on %s", request.url.path, exc_info=exc)
    wants_html = "text/html" in request.headers.get("accept", "")
    if not wants_html or _is_machine(request):
        return JSONResponse(status_code=500, content={"detail": "internal server error"})
    heading, message = error_texts(500, _lang(request))
    return error_page(request, 500, heading, message)
