from __future__ import annotations

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import Response
from sqlalchemy import select

from app.accounts.deps import require_participant
from app.accounts.models import CurrentUser
from app.certificates.models import Certificate
from app.curriculum.router import load_standing
from app.family import service
from app.i18n import N_
from app.web import gettext_for, redirect, render

router = APIRouter(prefix="/family")


def _context(request: Request, user: CurrentUser) -> dict:
    standing = load_standing(request, user, with_partner=True)
    with request.app.state.db.read() as session:
        reflections = service.reflections_for(session, couple_id=user.couple_id)
        _, pledge = service.pledge_text(session)
        signatures = service.signatures_for(session, couple_id=user.couple_id)
        completion = service.couple_completion(session, couple_id=user.couple_id)
        certificate = session.execute(
            select(Certificate).where(Certificate.user_id == user.id)
        ).scalar_one_or_none()
    post = standing.curriculum.quizzes.get("post-test")
    return {
        "s": standing,
        "learner": standing.learner,
        "mine": standing.mine,
        "partner": standing.partner,
        "reflections": reflections,
        "pledge": pledge,
        "signatures": signatures,
        "completion": completion,
        "certificate": certificate,
        "post_test_done": bool(post and standing.record(post.id).submitted),
    }


@router.get("")
async def family_page(
    request: Request, user: CurrentUser = Depends(require_participant)
) -> Response:
    return render(request, "family/family.html", _context(request, user))


def _module(request: Request, user: CurrentUser, slug: str):  # noqa: ANN202
    standing = load_standing(request, user)
    progress = next((m for m in standing.mine.modules if m.module.slug == slug), None)
    if progress is None:
        raise HTTPException(status_code=404)
    return standing, progress


def _after_family_change(request: Request, user: CurrentUser) -> None:
    with request.app.state.db.write() as session:
        service.certificates_issue_if_complete(
            session, couple_id=user.couple_id, now=request.app.state.clock()
        )


def _problem(request: Request, user: CurrentUser, exc: service.FamilyError) -> Response:
    context = _context(request, user)
    context["error"] = gettext_for(request).gettext(exc.message)
    return render(request, "family/family.html", context, status_code=exc.status)


@router.post("/reflections/{slug}")
async def reflection_write(
    request: Request,
    slug: str,
    text: str = Form(""),
    user: CurrentUser = Depends(require_participant),
) -> Response:
    standing, progress = _module(request, user, slug)
    try:
        if not progress.complete:
            raise service.FamilyError(
                409, N_("Finish the module's lessons first, then write the reflection together.")
            )
        with request.app.state.db.write() as session:
            service.reflection_write(
                session,
                couple_id=user.couple_id,
                module_id=progress.module.id,
                user_id=user.id,
                text=text,
                now=standing.now,
            )
    except service.FamilyError as exc:
        return _problem(request, user, exc)
    return redirect(request, f"/family#reflection-{slug}")


@router.post("/reflections/{slug}/confirm")
async def reflection_confirm(
    request: Request, slug: str, user: CurrentUser = Depends(require_participant)
) -> Response:
    standing, progress = _module(request, user, slug)
    try:
        with request.app.state.db.write() as session:
            service.reflection_confirm(
                session,
                couple_id=user.couple_id,
                module_id=progress.module.id,
                user_id=user.id,
                now=standing.now,
            )
    except service.FamilyError as exc:
        return _problem(request, user, exc)
    _after_family_change(request, user)
    return redirect(request, f"/family#reflection-{slug}")


@router.post("/pledge")
async def pledge_sign(
    request: Request, user: CurrentUser = Depends(require_participant)
) -> Response:
    context = _context(request, user)
    try:
        with request.app.state.db.write() as session:
            service.pledge_sign(
                session,
                user=user,
                post_test_done=context["post_test_done"],
                now=request.app.state.clock(),
            )
    except service.FamilyError as exc:
        return _problem(request, user, exc)
    _after_family_change(request, user)
    return redirect(request, "/family#pledge")


@router.get("/certificate.pdf")
async def certificate_pdf(
    request: Request, user: CurrentUser = Depends(require_participant)
) -> Response:
    from app.certificates.service import certificate_document

    with request.app.state.db.read() as session:
        certificate = session.execute(
            select(Certificate).where(Certificate.user_id == user.id)
        ).scalar_one_or_none()
    if certificate is None or certificate.revoked_at is not None:
        raise HTTPException(status_code=404)
    pdf = certificate_document(request, certificate)
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="sertifikat-{certificate.code}.pdf"'},
    )
