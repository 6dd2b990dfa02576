from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import Response
from sqlalchemy.exc import IntegrityError

from app.accounts.deps import require_participant, require_user
from app.accounts.models import CurrentUser
from app.curriculum import service
from app.i18n import N_
from app.progress.service import NotInACouple, Standing, standing_for
from app.quizzes import service as quizzes
from app.web import gettext_for, is_htmx, redirect, render

router = APIRouter(prefix="/learn")


def load_standing(request: Request, user: CurrentUser, *, with_partner: bool = False) -> Standing:
    state = request.app.state
    try:
        with state.db.reader() as reader:
            return standing_for(
                reader,
                user=user,
                cache=state.curriculum,
                now=state.clock(),
                with_partner=with_partner,
            )
    except NotInACouple as exc:
        raise HTTPException(status_code=403, detail="no-couple") from exc


def quiz_statuses(standing: Standing) -> dict[str, quizzes.QuizStatus]:
    return {
        slug: quizzes.quiz_status(
            quiz,
            standing.record(quiz.id),
            learner=standing.learner,
            progress=standing.mine,
            quizzes=standing.curriculum.quizzes,
            records=standing.records,
            now=standing.now,
        )
        for slug, quiz in standing.curriculum.quizzes.items()
    }


@router.get("")
async def learning_map(
    request: Request, user: CurrentUser = Depends(require_participant)
) -> Response:
    standing = load_standing(request, user, with_partner=True)
    statuses = quiz_statuses(standing)
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
            "statuses": statuses,
            "module_quiz": {
                q.module_id: statuses[q.slug]
                for q in standing.curriculum.quizzes.values()
                if q.kind == "module"
            },
        },
    )


def _lesson_or_404(standing: Standing, slug: str):  # noqa: ANN202
    found = standing.curriculum.find(slug)
    if found is None:
        raise HTTPException(status_code=404)
    return found


def _open_lesson(request: Request, standing: Standing, slug: str):  # noqa: ANN202
    """(module, lesson, None) when the lesson is open for the learner, or (…, the 403 page)."""
    module, lesson = _lesson_or_404(standing, slug)
    state = standing.mine.state_of(lesson.id)
    if state.state == service.State.locked:
        return module, lesson, _locked(request, module, lesson, state)
    return module, lesson, None


def _locked(request: Request, module, lesson, state) -> Response:  # noqa: ANN001
    return render(
        request,
        "curriculum/locked.html",
        {"lesson": lesson, "module": module, "state": state},
        status_code=403,
    )


def _lesson_context(request: Request, standing: Standing, module, lesson) -> dict:  # noqa: ANN001
    with request.app.state.db.reader() as reader:
        checks = quizzes.checks_for_lesson(
            reader,
            lesson_id=lesson.id,
            questions=standing.curriculum.checks.get(lesson.id, []),
            user_id=standing.learner.user_id,
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
        "module_progress": next(m for m in standing.mine.modules if m.module.id == module.id),
        "module_quiz": standing.curriculum.module_quiz(module.id),
    }


@router.get("/glossary")
async def glossary(request: Request, user: CurrentUser = Depends(require_user)) -> Response:
    with request.app.state.db.read() as session:
        terms = service.glossary_terms(session)
    letters: dict[str, list[dict]] = {}
    for term in terms:
        first = term["term"][:1].upper()
        letters.setdefault(first if first.isalpha() else "#", []).append(term)
    return render(request, "curriculum/glossary.html", {"letters": letters})


@router.get("/lessons/{slug}")
async def lesson_page(
    request: Request, slug: str, user: CurrentUser = Depends(require_participant)
) -> Response:
    standing = load_standing(request, user)
    module, lesson, locked = _open_lesson(request, standing, slug)
    if locked is not None:
        return locked
    return render(
        request, "curriculum/lesson.html", _lesson_context(request, standing, module, lesson)
    )


@router.post("/lessons/{slug}/checks/{question_id}")
async def lesson_check(
    request: Request, slug: str, question_id: int, user: CurrentUser = Depends(require_participant)
) -> Response:
    standing = load_standing(request, user)
    module, lesson, locked = _open_lesson(request, standing, slug)
    if locked is not None:
        return locked
    question = next(
        (q for q in standing.curriculum.checks.get(lesson.id, []) if q.id == question_id), None
    )
    if question is None:
        raise HTTPException(status_code=404)
    form = await request.form()
    error = None
    try:
        selected = [int(v) for v in form.getlist("choice")]
        with request.app.state.db.write() as session:
            quizzes.check_answer(
                session, user_id=user.id, check=question, selected=selected, now=standing.now
            )
    except ValueError:
        error = quizzes.QuizError(422, N_("The answer form is not valid. Reload the page."))
    except quizzes.QuizError as exc:
        error = exc
    except IntegrityError:
        error = quizzes.QuizError(409, N_("Your answer was sent twice. Look at the result below."))
    if is_htmx(request) or error is not None:
        context = _lesson_context(request, standing, module, lesson)
        if error is not None:
            context["error"] = gettext_for(request).gettext(error.message)
            context["error_for"] = question_id
        template = "curriculum/_checks.html" if is_htmx(request) else "curriculum/lesson.html"
        return render(
            request,
            template,
            {**context, "box_oob": is_htmx(request)},
            status_code=error.status if error else 200,
        )
    return redirect(request, f"/learn/lessons/{slug}#check-{question_id}")


@router.post("/lessons/{slug}/complete")
async def lesson_complete(
    request: Request, slug: str, user: CurrentUser = Depends(require_participant)
) -> Response:
    standing = load_standing(request, user)
    module, lesson, locked = _open_lesson(request, standing, slug)
    if locked is not None:
        return locked
    context = _lesson_context(request, standing, module, lesson)
    if context["checks_left"]:
        context["complete_error"] = gettext_for(request).gettext(
            "Answer the questions above first, then mark the lesson as completed."
        )
        template = "curriculum/_complete_box.html" if is_htmx(request) else "curriculum/lesson.html"
        return render(request, template, context, status_code=422)
    try:
        with request.app.state.db.write() as session:
            service.lesson_complete(
                session,
                learner=standing.learner,
                lesson_id=lesson.id,
                progress=standing.mine,
                now=standing.now,
            )
    except service.LessonLocked as exc:
        return _locked(request, module, lesson, exc.state)
    except IntegrityError:
        pass  # a second tab completed it at the same moment: it is done either way
    standing = load_standing(request, user)
    context = _lesson_context(request, standing, module, lesson)
    if is_htmx(request):
        return render(request, "curriculum/_complete_box.html", {**context, "oob": True})
    following, following_state = context["following"], context["following_state"]
    if following and following_state.state == service.State.open:
        return redirect(request, f"/learn/lessons/{following.slug}")
    quiz = context["module_quiz"]
    if context["module_progress"].complete and quiz is not None:
        return redirect(request, f"/learn/quizzes/{quiz.slug}")
    return redirect(request, "/learn")
