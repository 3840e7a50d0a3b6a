"""The pages of the problem codes (问题说明): where a problem+json ``type`` URI leads.

``GET /problems/`` lists every code of the catalogue (:mod:`api.problem_catalogue`);
``GET /problems/{code}`` says what one means, the article of 长科发〔2021〕36号 behind it and what
to do, in Chinese first and English after, in the public pages' style and Content-Security-Policy.
A client that prefers ``application/json`` to ``text/html`` gets the entry (or the list) as JSON,
in the language of its ``Accept-Language``. Pages for people, outside the OpenAPI document.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Header, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from .bootstrap import Container
from .deps import get_container
from .errors import PROBLEMS_PATH, language_of
from .negotiation import media_quality
from .problem_catalogue import CATALOGUE, POLICY, article_zh
from .routes_page import not_found, render

router = APIRouter(include_in_schema=False)
Wired = Annotated[Container, Depends(get_container)]
Accept = Annotated[str | None, Header(include_in_schema=False)]

# The order of the index: the codes grouped by status, the regulation's refusals (409) first.
_STATUS_ORDER = {409: 0, 422: 1, 404: 2, 403: 3, 401: 4, 412: 5}


def _wants_json(accept: str | None) -> bool:
    if not accept:
        return False
    json_q = max(media_quality(accept, "application/json"), media_quality(accept, "application/problem+json"))
    return json_q > media_quality(accept, "text/html")


def _json(body: object) -> JSONResponse:
    return JSONResponse(body, headers={"Vary": "Accept, Accept-Language", "Cache-Control": "public, max-age=3600"})


@router.get(PROBLEMS_PATH, response_class=HTMLResponse)
def problems_redirect() -> Response:
    return RedirectResponse(f"{PROBLEMS_PATH}/", status_code=308)


@router.get(f"{PROBLEMS_PATH}/", response_class=HTMLResponse)
def problem_index(request: Request, c: Wired, accept: Accept = None) -> Response:
    """Every problem code, with its title, status and article."""
    kinds = sorted(CATALOGUE.values(), key=lambda k: (_STATUS_ORDER.get(k.status, 9), k.article is None, k.code))
    if _wants_json(accept):
        language = language_of(request)
        return _json({"policy": POLICY, "items": [k.as_dict(language) for k in kinds]})
    return render(request, c, "problems.html", {"kinds": kinds, "article_zh": article_zh, "policy": POLICY})


@router.get(f"{PROBLEMS_PATH}/{{code}}", response_class=HTMLResponse)
def problem_page(code: str, request: Request, c: Wired, accept: Accept = None) -> Response:
    """One problem code: what it means, its article, what to do (Chinese, then English)."""
    kind = CATALOGUE.get(code)
    if kind is None:
        return not_found(request, c, "问题代码")
    if _wants_json(accept):
        return _json(kind.as_dict(language_of(request)))
    return render(request, c, "problem.html", {"kind": kind, "article_zh": article_zh(kind.article),
                                               "policy": POLICY})


__all__ = ["router"]
