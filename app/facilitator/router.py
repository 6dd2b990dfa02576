from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from app.accounts.deps import require_facilitator
from app.accounts.models import User
from app.cohorts.service import cohort_list_for
from app.web import render

router = APIRouter(prefix="/facilitator")


@router.get("")
async def facilitator_home(request: Request, user: User = Depends(require_facilitator)) -> Response:
    with request.app.state.db.read() as session:
        cohorts = cohort_list_for(session, user=user)
    return render(request, "facilitator/home.html", {"cohorts": cohorts})
