from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from app.certificates.service import issue_if_complete
from app.cohorts.service import facilitator_names
from app.curriculum.outline import QuizInfo
from app.deps import CurriculumDep, DbDep, NowDep, ParticipantDep, ReadDep, WriteDep
from app.errors import AppError, NotFound
from app.followup.service import what_stayed
from app.i18n import N_
from app.learning.deps import CoupleStandingDep, StandingDep
from app.learning.rules import Access, QuizStatus
from app.learning.standing import Standing
from app.quizzes import service
from app.quizzes.service import QuizError
from app.web import is_htmx, message_text, redirect, render

router = APIRouter(prefix="/learn")


def _status(standing: Standing, slug: str) -> QuizStatus:
    status = standing.statuses.get(slug)
    if status is None:
        raise NotFound(message=N_("This quiz does not exist."))
    return status


@router.get("/quizzes/{slug}")
async def quiz_page(
    request: Request, slug: str, standing: StandingDep, session: ReadDep, saved: int = 0
) -> Response:
    status = _status(standing, slug)
    context: dict[str, Any] = {"status": status, "quiz": status.quiz, "learner": standing.learner}
    if status.access == Access.locked:
        return render(request, "quizzes/locked.html", context, status_code=403)
    attempt = status.record.open_attempt
    if status.access == Access.in_progress and attempt is not None:
        items = service.attempt_items(session, attempt=attempt, known=standing.curriculum.questions)
        return render(
            request,
            "quizzes/quiz.html",
            {**context, "attempt": attempt, "items": items, "saved": saved},
        )
    if status.access == Access.exhausted:
        context["facilitators"] = facilitator_names(session, cohort_id=standing.learner.cohort_id)
    return render(request, "quizzes/intro.html", context)


@router.post("/quizzes/{slug}/start")
async def quiz_start(
    request: Request, slug: str, standing: StandingDep, session: WriteDep, now: NowDep
) -> Response:
    service.attempt_start(
        session,
        user_id=standing.learner.user_id,
        status=_status(standing, slug),
        quizzes=standing.curriculum.quizzes,
        now=now,
    )
    return redirect(request, f"/learn/quizzes/{slug}")


async def _answers(request: Request) -> tuple[int, dict[int, list[int]]]:
    form = await request.form()
    try:
        attempt_id = int(str(form.get("attempt_id", "")))
    except ValueError as exc:
        raise QuizError(422, N_("The answer form is not valid. Reload the page.")) from exc
    return attempt_id, service.form_answers(form)


@router.post("/quizzes/{slug}/save")
async def quiz_save(
    request: Request,
    slug: str,
    user: ParticipantDep,
    curriculum: CurriculumDep,
    db: DbDep,
    now: NowDep,
) -> Response:
    """Answers as they are given (htmx, or the plain form's "save"): the attempt must be the
    participant's own, of the quiz in the address, and still open; nothing else is read."""
    try:
        quiz = curriculum.quizzes.get(slug)
        if quiz is None:
            raise NotFound(message=N_("This quiz does not exist."))
        attempt_id, answers = await _answers(request)
        with db.write() as session:
            attempt = service.attempt_get(
                session, attempt_id=attempt_id, user_id=user.id, quiz_id=quiz.id
            )
            saved = service.attempt_save(session, attempt=attempt, answers=answers, now=now)
    except AppError as exc:
        if not is_htmx(request):
            raise
        return render(
            request,
            "quizzes/_saved.html",
            {"error": message_text(request, exc)},
            status_code=exc.status,
        )
    if is_htmx(request):
        return render(request, "quizzes/_saved.html", {"saved": saved, "at": now})
    return redirect(request, f"/learn/quizzes/{slug}?saved=1")


@router.post("/quizzes/{slug}/submit")
async def quiz_submit(
    request: Request, slug: str, standing: StandingDep, db: DbDep, now: NowDep
) -> Response:
    """Save the last answers and submit, in one transaction; a post-test that completes the
    couple issues the certificates in the same transaction."""
    status = _status(standing, slug)
    user_id = standing.learner.user_id
    attempt_id, answers = await _answers(request)
    with db.write() as session:
        attempt = service.attempt_get(
            session, attempt_id=attempt_id, user_id=user_id, quiz_id=status.quiz.id
        )
        if attempt.submitted_at is not None:  # a double click or a retry: same outcome
            return redirect(request, _after_submit_url(status.quiz, attempt.number))
        service.attempt_save(session, attempt=attempt, answers=answers, now=now)
        known = standing.curriculum.questions
        items = service.attempt_items(session, attempt=attempt, known=known)
        missing = service.unanswered(items)
        if not missing:
            service.attempt_submit(session, attempt=attempt, quiz=status.quiz, now=now, known=known)
            if status.quiz.kind == "post":
                issue_if_complete(session, couple_id=standing.learner.couple_id, now=now)
    if missing:
        return render(
            request,
            "quizzes/quiz.html",
            {
                "status": status,
                "quiz": status.quiz,
                "learner": standing.learner,
                "attempt": attempt,
                "items": items,
                "missing": missing,
            },
            status_code=422,
        )
    return redirect(request, _after_submit_url(status.quiz, attempt.number))


def _after_submit_url(quiz: QuizInfo, number: int) -> str:
    if quiz.kind == "module":
        return f"/learn/quizzes/{quiz.slug}/attempts/{number}"
    if quiz.kind == "post":
        return "/learn/results"
    return f"/learn/quizzes/{quiz.slug}"


@router.get("/quizzes/{slug}/attempts/{number}")
async def quiz_review(
    request: Request, slug: str, number: int, standing: StandingDep, session: ReadDep
) -> Response:
    status = _status(standing, slug)
    attempt = next((a for a in status.record.submitted if a.number == number), None)
    if attempt is None:
        raise NotFound(message=N_("This attempt does not exist."))
    if status.quiz.kind != "module" and not standing.taken("post-test"):
        # answers of the pre-test are revealed only after the post-test
        return render(
            request,
            "quizzes/locked.html",
            {"status": status, "quiz": status.quiz, "learner": standing.learner, "hidden": True},
            status_code=403,
        )
    items = service.attempt_items(session, attempt=attempt, known=standing.curriculum.questions)
    return render(
        request,
        "quizzes/review.html",
        {"status": status, "quiz": status.quiz, "attempt": attempt, "items": items},
    )


@router.get("/results")
async def results(request: Request, standing: CoupleStandingDep, session: ReadDep) -> Response:
    view = service.results_for(session, standing=standing)
    return render(
        request,
        "quizzes/results.html",
        {
            "learner": standing.learner,
            "ready": view.ready,
            "stayed": what_stayed(session, learner=standing.learner),
            **vars(view),
        },
    )
