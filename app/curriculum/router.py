from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from app.curriculum import service
from app.curriculum.outline import LessonInfo, ModuleInfo
from app.deps import CurriculumDep, DbDep, NowDep, ParticipantDep, ReadDep, SettingsDep, UserDep
from app.errors import AppError, NotFound
from app.followup.service import followup_view
from app.i18n import N_
from app.learning.deps import CoupleStandingDep, StandingDep
from app.learning.rules import LessonState, State
from app.learning.standing import Standing, standing_for
from app.quizzes import service as quizzes
from app.web import gettext_for, is_htmx, message_text, redirect, render

router = APIRouter(prefix="/learn")


@router.get("")
async def learning_map(
    request: Request, standing: CoupleStandingDep, session: ReadDep, settings: SettingsDep
) -> Response:
    return render(
        request,
        "curriculum/map.html",
        {
            "s": standing,
            "learner": standing.learner,
            "mine": standing.mine,
            "partner": standing.partner,
            "next": standing.mine.next_open(),
            "blocked": standing.mine.first_locked(),
            "statuses": standing.statuses,
            "module_quiz": standing.module_quiz_statuses,
            "f": followup_view(session, standing=standing, tz=settings.tz, light=True),
        },
    )


def _lesson(standing: Standing, slug: str) -> tuple[ModuleInfo, LessonInfo, LessonState]:
    found = standing.curriculum.find(slug)
    state = standing.mine.state_of(found[1].id) if found else None
    if found is None or state is None:
        raise NotFound(message=N_("This lesson does not exist."))
    return found[0], found[1], state


def _locked(
    request: Request, module: ModuleInfo, lesson: LessonInfo, state: LessonState
) -> Response:
    return render(
        request,
        "curriculum/locked.html",
        {"lesson": lesson, "module": module, "state": state},
        status_code=403,
    )


def _lesson_context(
    session: Session, standing: Standing, module: ModuleInfo, lesson: LessonInfo
) -> dict[str, Any]:
    checks = quizzes.checks_for_lesson(
        session,
        lesson_id=lesson.id,
        questions=standing.curriculum.checks.get(lesson.id, []),
        user_id=standing.learner.user_id,
        seed=standing.learner.check_seed,
    )
    previous, following = standing.curriculum.neighbours(lesson)
    return {
        "learner": standing.learner,
        "module": module,
        "lesson": lesson,
        "state": standing.mine.state_of(lesson.id),
        "checks": checks,
        "checks_left": sum(not c.answered for c in checks),
        "previous": previous,
        "following": following,
        "following_state": standing.mine.state_of(following.id) if following else None,
        "module_progress": standing.mine.module(module.id),
        "module_quiz": standing.curriculum.module_quiz(module.id),
        "content_version": standing.curriculum.version,
    }


@router.get("/glossary")
async def glossary(request: Request, user: UserDep, session: ReadDep) -> Response:
    terms = service.glossary_terms(session)
    letters: dict[str, list[dict]] = {}
    for term in terms:
        first = term["term"][:1].upper()
        letters.setdefault(first if first.isalpha() else "#", []).append(term)
    return render(request, "curriculum/glossary.html", {"letters": letters})


@router.get("/lessons/{slug}")
async def lesson_page(
    request: Request, slug: str, standing: StandingDep, session: ReadDep
) -> Response:
    module, lesson, state = _lesson(standing, slug)
    if state.state == State.locked:
        return _locked(request, module, lesson, state)
    return render(
        request, "curriculum/lesson.html", _lesson_context(session, standing, module, lesson)
    )


@router.post("/lessons/{slug}/checks/{question_id}")
async def lesson_check(
    request: Request,
    slug: str,
    question_id: int,
    standing: StandingDep,
    session: ReadDep,
    db: DbDep,
) -> Response:
    module, lesson, state = _lesson(standing, slug)
    if state.state == State.locked:
        return _locked(request, module, lesson, state)
    question = next(
        (q for q in standing.curriculum.checks.get(lesson.id, []) if q.id == question_id), None
    )
    if question is None:
        raise NotFound(message=N_("This question does not exist."))
    form = await request.form()
    error: AppError | None = None
    context: dict[str, Any] | None = None
    try:
        selected = [int(v) for v in form.getlist("choice") if isinstance(v, str)]
        with db.write() as write:
            quizzes.check_answer(
                write,
                user_id=standing.learner.user_id,
                check=question,
                selected=selected,
                now=standing.now,
            )
            context = _lesson_context(write, standing, module, lesson)
    except ValueError:
        error = quizzes.QuizError(422, N_("The answer form is not valid. Reload the page."))
    except AppError as exc:
        error = exc
    except IntegrityError:
        error = quizzes.QuizError(409, N_("Your answer was sent twice. Look at the result below."))
    if not is_htmx(request) and error is None:
        return redirect(request, f"/learn/lessons/{slug}#check-{question_id}")
    if context is None:
        context = _lesson_context(session, standing, module, lesson)
    if error is not None:
        context["error"] = message_text(request, error)
        context["error_for"] = question_id
    template = "curriculum/_checks.html" if is_htmx(request) else "curriculum/lesson.html"
    return render(
        request,
        template,
        {**context, "box_oob": is_htmx(request)},
        status_code=error.status if error else 200,
    )


@router.post("/lessons/{slug}/complete")
async def lesson_complete(
    request: Request,
    slug: str,
    user: ParticipantDep,
    standing: StandingDep,
    session: ReadDep,
    db: DbDep,
    curriculum: CurriculumDep,
    settings: SettingsDep,
    now: NowDep,
) -> Response:
    def reread(source: Session) -> dict[str, Any]:
        after = standing_for(
            source, user=user, curriculum=curriculum, now=now, tz=settings.tz, with_partner=False
        )
        return _lesson_context(source, after, module, lesson)

    module, lesson, state = _lesson(standing, slug)
    if state.state == State.locked:
        return _locked(request, module, lesson, state)
    context = _lesson_context(session, standing, module, lesson)
    if context["checks_left"]:
        context["complete_error"] = gettext_for(request).gettext(
            "Answer the questions above first, then mark the lesson as completed."
        )
        template = "curriculum/_complete_box.html" if is_htmx(request) else "curriculum/lesson.html"
        return render(request, template, context, status_code=422)
    try:
        with db.write() as write:
            service.lesson_complete(
                write,
                learner=standing.learner,
                lesson_id=lesson.id,
                progress=standing.mine,
                now=now,
            )
            context = reread(write)
    except service.LessonLocked as exc:
        return _locked(request, module, lesson, exc.state)
    except IntegrityError:  # a second tab completed it at the same moment: done either way
        with db.read() as fresh:
            context = reread(fresh)
    if is_htmx(request):
        return render(request, "curriculum/_complete_box.html", {**context, "oob": True})
    following, following_state = context["following"], context["following_state"]
    if following and following_state.state == State.open:
        return redirect(request, f"/learn/lessons/{following.slug}")
    quiz = context["module_quiz"]
    if context["module_progress"].complete and quiz is not None:
        return redirect(request, f"/learn/quizzes/{quiz.slug}")
    return redirect(request, "/learn")
