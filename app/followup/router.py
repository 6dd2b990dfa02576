"""The participant's pages after the workshop: the reaction survey, the family action plan,
the check-ins and the retention check."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlmodel import Session

from app.db import Database
from app.deps import DbDep, NowDep, ReadDep, SettingsDep
from app.errors import NotFound
from app.followup import service
from app.i18n import N_
from app.learning.deps import CoupleStandingDep, StandingDep
from app.learning.rules import CHECKIN_ROUNDS, MAX_COMMITMENTS
from app.learning.standing import Standing
from app.quizzes.service import form_answers
from app.web import change_or_refuse, render

router = APIRouter()


def _context(session: Session, standing: Standing, settings: Any, **extra: Any) -> dict:
    view = service.followup_view(session, standing=standing, tz=settings.tz)
    return {"s": standing, "learner": standing.learner, "f": view, **extra}


def _change(
    request: Request,
    session: Session,
    db: Database,
    standing: Standing,
    settings: Any,
    template: str,
    change: Callable[[Session], object],
    url: str,
    extra: dict | None = None,
) -> Response:
    """A follow-up change in its own transaction; refused, the page again with why (and what
    was typed)."""
    return change_or_refuse(
        request,
        db,
        change,
        refused=service.FollowupError,
        page=lambda: (template, _context(session, standing, settings, **(extra or {}))),
        url=url,
    )


async def _form(request: Request) -> dict[str, str]:
    form = await request.form()
    return {k: v for k, v in form.items() if isinstance(v, str)}


# ---------------------------------------------------------------- the survey


@router.get("/survey")
async def survey_page(
    request: Request, standing: StandingDep, session: ReadDep, settings: SettingsDep
) -> Response:
    # a window not open yet (or closed) shows its dates; sending answers then is refused
    return render(
        request, "followup/survey.html", _context(session, standing, settings, answers={})
    )


@router.post("/survey")
async def survey_submit(
    request: Request,
    standing: StandingDep,
    session: ReadDep,
    db: DbDep,
    now: NowDep,
    settings: SettingsDep,
) -> Response:
    form = await _form(request)
    return _change(
        request,
        session,
        db,
        standing,
        settings,
        "followup/survey.html",
        lambda write: service.survey_submit(
            write, standing=standing, form=form, now=now, tz=settings.tz
        ),
        "/survey?thanks=1",
        {"answers": form},
    )


# ---------------------------------------------------------------- the action plan


@router.get("/family/plan")
async def plan_page(
    request: Request, standing: CoupleStandingDep, session: ReadDep, settings: SettingsDep
) -> Response:
    return render(request, "followup/plan.html", _context(session, standing, settings, rows=None))


def _plan_rows(form: dict[str, str]) -> list[tuple[str, str, str]]:
    return [
        (form.get(f"what-{n}", ""), form.get(f"who-{n}", ""), form.get(f"by-{n}", ""))
        for n in range(1, MAX_COMMITMENTS + 1)
    ]


@router.post("/family/plan")
async def plan_save(
    request: Request,
    standing: CoupleStandingDep,
    session: ReadDep,
    db: DbDep,
    now: NowDep,
    settings: SettingsDep,
) -> Response:
    rows = _plan_rows(await _form(request))
    return _change(
        request,
        session,
        db,
        standing,
        settings,
        "followup/plan.html",
        lambda write: service.plan_save(
            write, standing=standing, rows=rows, now=now, tz=settings.tz
        ),
        "/family#plan",
        {"rows": rows},
    )


@router.post("/family/plan/confirm")
async def plan_confirm(
    request: Request,
    standing: CoupleStandingDep,
    session: ReadDep,
    db: DbDep,
    now: NowDep,
    settings: SettingsDep,
) -> Response:
    return _change(
        request,
        session,
        db,
        standing,
        settings,
        "followup/plan.html",
        lambda write: service.plan_confirm(write, standing=standing, now=now),
        "/family#plan",
        {"rows": None},
    )


# ---------------------------------------------------------------- check-ins


def _round(round_: int) -> int:
    if round_ not in CHECKIN_ROUNDS:
        raise NotFound(message=N_("This check-in does not exist."))
    return round_


@router.get("/family/checkins/{round_}")
async def checkin_page(
    request: Request,
    round_: int,
    standing: CoupleStandingDep,
    session: ReadDep,
    settings: SettingsDep,
) -> Response:
    context = _context(session, standing, settings, round=_round(round_), typed={})
    return render(request, "followup/checkin.html", context)


@router.post("/family/checkins/{round_}")
async def checkin_save(
    request: Request,
    round_: int,
    standing: CoupleStandingDep,
    session: ReadDep,
    db: DbDep,
    now: NowDep,
    settings: SettingsDep,
) -> Response:
    form = await _form(request)
    return _change(
        request,
        session,
        db,
        standing,
        settings,
        "followup/checkin.html",
        lambda write: service.checkin_save(
            write, standing=standing, round_=_round(round_), form=form, now=now, tz=settings.tz
        ),
        f"/family/checkins/{round_}?saved=1",
        {"round": round_, "typed": form},
    )


# ---------------------------------------------------------------- the retention check


def _retention_context(
    session: Session, standing: Standing, settings: Any, **extra: Any
) -> dict[str, Any]:
    context = _context(session, standing, settings, **extra)
    attempt = context["f"].retention
    context["questions"] = (
        service.retention_questions(session, attempt_id=attempt.id) if attempt else []
    )
    return context


@router.get("/learn/retention")
async def retention_page(
    request: Request, standing: StandingDep, session: ReadDep, settings: SettingsDep
) -> Response:
    return render(
        request, "followup/retention.html", _retention_context(session, standing, settings)
    )


@router.post("/learn/retention/start")
async def retention_start(
    request: Request,
    standing: StandingDep,
    session: ReadDep,
    db: DbDep,
    now: NowDep,
    settings: SettingsDep,
) -> Response:
    return _change(
        request,
        session,
        db,
        standing,
        settings,
        "followup/retention.html",
        lambda write: service.retention_start(write, standing=standing, now=now, tz=settings.tz),
        "/learn/retention",
        {"questions": []},
    )


@router.post("/learn/retention/submit")
async def retention_submit(
    request: Request,
    standing: StandingDep,
    session: ReadDep,
    db: DbDep,
    now: NowDep,
    settings: SettingsDep,
) -> Response:
    answers = form_answers(await request.form())
    return change_or_refuse(
        request,
        db,
        lambda write: service.retention_submit(
            write, standing=standing, answers=answers, now=now, tz=settings.tz
        ),
        refused=service.FollowupError,
        page=lambda: (
            "followup/retention.html",
            _retention_context(session, standing, settings, typed=answers),
        ),
        url="/learn/retention",
    )
