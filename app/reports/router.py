from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from app.accounts.deps import require_kpk
from app.accounts.models import CurrentUser
from app.reports.service import national_totals
from app.web import render

router = APIRouter(prefix="/kpk")


@router.get("")
async def kpk_home(request: Request, user: CurrentUser = Depends(require_kpk)) -> Response:
    with request.app.state.db.read() as session:
        totals = national_totals(session)
    return render(request, "reports/home.html", {"totals": totals})
