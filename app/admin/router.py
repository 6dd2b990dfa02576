from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import Response
from sqlalchemy import select

from app.accounts.deps import require_admin
from app.accounts.models import User
from app.accounts.service import user_set_active
from app.audit import audit_record
from app.curriculum.models import ContentVersion
from app.web import redirect, render

router = APIRouter(prefix="/admin")


@router.get("")
async def admin_home(request: Request, user: User = Depends(require_admin)) -> Response:
    with request.app.state.db.read() as session:
        users = session.execute(
            select(User.id, User.username, User.display_name, User.role, User.is_active)
            .where(User.role != "participant")
            .order_by(User.role, User.username)
        ).all()
        version = session.execute(
            select(ContentVersion).order_by(ContentVersion.id.desc()).limit(1)
        ).scalar_one_or_none()
    return render(request, "admin/home.html", {"staff": users, "version": version})


@router.post("/users/{user_id}/active")
async def admin_set_active(
    request: Request, user_id: int, user: User = Depends(require_admin)
) -> Response:
    form = await request.form()
    active = form.get("active") == "1"
    if user_id == user.id and not active:
        raise HTTPException(status_code=422, detail="self")
    with request.app.state.db.write() as session:
        target = session.get(User, user_id)
        if target is None:
            raise HTTPException(status_code=404)
        user_set_active(session, user_id=user_id, active=active)
        audit_record(
            session,
            actor_id=user.id,
            action="user.activate" if active else "user.deactivate",
            target=f"user:{target.username}",
        )
    return redirect(request, "/admin")
