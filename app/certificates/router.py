from __future__ import annotations

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import Response
from sqlalchemy import select, update

from app.accounts.deps import require_admin
from app.accounts.models import CurrentUser
from app.audit import audit_record
from app.certificates.models import Certificate
from app.certificates.service import certificate_view
from app.web import redirect, render

router = APIRouter()


@router.get("/verify/{code}")
async def verify(request: Request, code: str) -> Response:
    with request.app.state.db.read() as session:
        view = certificate_view(session, code=code)
    if view is None:  # unknown: a 404 that says so in words a certificate holder understands
        return render(
            request, "certificates/verify.html", {"c": None, "code": code[:40]}, status_code=404
        )
    return render(request, "certificates/verify.html", {"c": view})


@router.post("/admin/certificates/revoke")
async def revoke(
    request: Request,
    code: str = Form(""),
    reason: str = Form(""),
    user: CurrentUser = Depends(require_admin),
) -> Response:
    code = code.strip().upper()[:40]
    reason = reason.strip()[:300] or None
    with request.app.state.db.write() as session:
        found = session.execute(select(Certificate.id).where(Certificate.code == code)).first()
        if found is None:
            raise HTTPException(status_code=404)
        session.execute(
            update(Certificate)
            .where(Certificate.code == code, Certificate.revoked_at.is_(None))
            .values(revoked_at=request.app.state.clock(), revoked_by=user.id, revoke_reason=reason)
        )
        audit_record(
            session,
            actor_id=user.id,
            action="certificate.revoke",
            target=f"certificate:{code}",
            detail={"reason": reason},
        )
    return redirect(request, f"/verify/{code}")
