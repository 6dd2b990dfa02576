from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from app.accounts.deps import require_participant
from app.accounts.models import User
from app.web import render

router = APIRouter(prefix="/learn")


@router.get("")
async def learning_map(request: Request, user: User = Depends(require_participant)) -> Response:
    return render(request, "curriculum/map.html", {})
