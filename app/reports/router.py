from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from app.deps import KpkDep, ReadDep
from app.reports.service import national_totals
from app.web import render

router = APIRouter(prefix="/kpk")


@router.get("")
async def kpk_home(request: Request, user: KpkDep, session: ReadDep) -> Response:
    return render(request, "reports/home.html", {"totals": national_totals(session)})
