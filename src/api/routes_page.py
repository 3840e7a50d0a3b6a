"""The public publicity page (公示) at ``/``: the open batches and a form to object.

Server-rendered from the same read model as ``GET /api/v1/publicity-list``; the objection form
posts to ``POST /api/v1/platforms/{id}/objections`` (no account needed).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from aggregates.clock import today_in_shanghai
from projections import queries

from .bootstrap import Container
from .deps import get_container

router = APIRouter(include_in_schema=False)
templates = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))


@router.get("/", response_class=HTMLResponse)
def publicity_page(request: Request, c: Annotated[Container, Depends(get_container)]) -> HTMLResponse:
    today = today_in_shanghai()
    with c.engine.connect() as conn:
        page = queries.publicity_list(conn, open_only=False, today=today, limit=20,
                                      calendar=c.app.calendar, policies=c.app.policies)
    demo = [p for p in c.app.policies.all() if p.demonstration]
    return templates.TemplateResponse(request, "publicity.html", {
        "batches": page["items"], "today": today.isoformat(), "demo_policies": demo})
