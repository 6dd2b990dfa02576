from __future__ import annotations

from collections.abc import Callable

from fastapi import APIRouter, Form, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from sqlmodel import Session

from app.certificates.service import certificate_document
from app.db import Database
from app.deps import CurriculumDep, DbDep, NowDep, ParticipantDep, ReadDep, SettingsDep
from app.family import service
from app.followup.service import followup_view
from app.learning.deps import CoupleStandingDep
from app.learning.standing import Standing
from app.web import change_or_refuse, render

router = APIRouter(prefix="/family")


def _context(request: Request, session: Session, standing: Standing) -> dict:
    view = service.family_view(session, standing=standing)
    return {
        "f": followup_view(session, standing=standing, tz=request.app.state.settings.tz),
        "s": standing,
        "learner": standing.learner,
        "mine": standing.mine,
        "partner": standing.partner,
        **vars(view),
    }


@router.get("")
async def family_page(request: Request, standing: CoupleStandingDep, session: ReadDep) -> Response:
    return render(request, "family/family.html", _context(request, session, standing))


def _change(
    request: Request,
    session: Session,
    db: Database,
    standing: Standing,
    change: Callable[[Session], object],
    url: str,
) -> Response:
    """A family change in its own transaction; refused, the family page again with why."""
    return change_or_refuse(
        request,
        db,
        change,
        refused=service.FamilyError,
        page=lambda: ("family/family.html", _context(request, session, standing)),
        url=url,
    )


@router.post("/reflections/{slug}")
async def reflection_write(
    request: Request,
    slug: str,
    standing: CoupleStandingDep,
    session: ReadDep,
    db: DbDep,
    now: NowDep,
    text: str = Form(""),
) -> Response:
    return _change(
        request,
        session,
        db,
        standing,
        lambda write: service.reflection_write(
            write, standing=standing, module_slug=slug, text=text, now=now
        ),
        f"/family#reflection-{slug}",
    )


@router.post("/reflections/{slug}/confirm")
async def reflection_confirm(
    request: Request,
    slug: str,
    standing: CoupleStandingDep,
    session: ReadDep,
    db: DbDep,
    now: NowDep,
) -> Response:
    return _change(
        request,
        session,
        db,
        standing,
        lambda write: service.reflection_confirm(
            write, standing=standing, module_slug=slug, now=now
        ),
        f"/family#reflection-{slug}",
    )


@router.post("/pledge")
async def pledge_sign(
    request: Request, standing: CoupleStandingDep, session: ReadDep, db: DbDep, now: NowDep
) -> Response:
    return _change(
        request,
        session,
        db,
        standing,
        lambda write: service.pledge_sign(write, standing=standing, now=now),
        "/family#pledge",
    )


@router.get("/certificate.pdf")
async def certificate_pdf(
    request: Request,
    user: ParticipantDep,
    session: ReadDep,
    settings: SettingsDep,
    curriculum: CurriculumDep,
) -> Response:
    code, pdf = await run_in_threadpool(  # drawing a PDF is heavy: not on the event loop
        certificate_document,
        session,
        user_id=user.id,
        curriculum=curriculum,
        locale=getattr(request.state, "locale", settings.default_locale),
        tz=settings.timezone,
        base_url=str(request.base_url),
    )
    return Response(
        pdf,
        media_type="application/pdf",
        # the holder's name and certificate code: kept by no cache (a shared computer's)
        headers={
            "Content-Disposition": f'inline; filename="sertifikat-{code}.pdf"',
            "Cache-Control": "no-store",
        },
    )
