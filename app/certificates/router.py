from __future__ import annotations

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from app.certificates.service import certificate_revoke, certificate_view
from app.deps import AdminDep, CurriculumDep, NowDep, ReadDep, WriteDep
from app.web import redirect, render

router = APIRouter()


@router.get("/verify/{code}")
async def verify(
    request: Request, code: str, session: ReadDep, curriculum: CurriculumDep
) -> Response:
    view = certificate_view(session, code=code, curriculum=curriculum)
    if view is None:  # unknown: a 404 that says so in words a certificate holder understands
        return render(
            request, "certificates/verify.html", {"c": None, "code": code[:40]}, status_code=404
        )
    return render(request, "certificates/verify.html", {"c": view})


@router.post("/admin/certificates/revoke")
async def revoke(
    request: Request,
    user: AdminDep,
    session: WriteDep,
    now: NowDep,
    code: str = Form(""),
    reason: str = Form(""),
) -> Response:
    code = certificate_revoke(session, actor=user, code=code, reason=reason, now=now)
    return redirect(request, f"/verify/{code}")
