from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import Response
from sqlalchemy import select

from app.accounts.deps import require_participant
from app.accounts.models import CurrentUser, User
from app.cohorts.models import CohortFacilitator
from app.curriculum.router import load_standing, quiz_statuses
from app.i18n import N_
from app.progress.service import Standing
from app.quizzes import service
from app.quizzes.scoring import band, normalized_gain
from app.quizzes.service import Access, QuizError
from app.web import gettext_for, is_htmx, redirect, render

router = APIRouter(prefix="/learn")


def _status(standing: Standing, slug: str) -> service.QuizStatus:
    statuses = quiz_statuses(standing)
    if slug not in statuses:
        raise HTTPException(status_code=404)
    return statuses[slug]


def _error(request: Request, exc: QuizError, slug: str) -> Response:
    message = gettext_for(request).gettext(exc.message)
    if exc.status == 404:
        raise HTTPException(status_code=404)
    return render(
        request, "quizzes/problem.html", {"message": message, "slug": slug}, status_code=exc.status
    )


def _facilitators(request: Request, cohort_id: int) -> list[str]:
    with request.app.state.db.read() as session:
        return list(
            session.execute(
                select(User.display_name)
                .join(CohortFacilitator, CohortFacilitator.user_id == User.id)
                .where(CohortFacilitator.cohort_id == cohort_id, User.is_active.is_(True))
                .order_by(User.display_name)
            ).scalars()
        )


@router.get("/quizzes/{slug}")
async def quiz_page(
    request: Request, slug: str, user: CurrentUser = Depends(require_participant), saved: int = 0
) -> Response:
    standing = load_standing(request, user)
    status = _status(standing, slug)
    if status.quiz.kind == "module":
        with request.app.state.db.read() as session:
            status.record.extra = service.extra_attempts(
                session, user_id=user.id, quiz_id=status.quiz.id
            )
        status = _status_with_extra(standing, slug, status.record.extra)
    context = {"status": status, "quiz": status.quiz, "learner": standing.learner}
    if status.access == Access.locked:
        return render(request, "quizzes/locked.html", context, status_code=403)
    if status.access == Access.in_progress:
        attempt = status.record.open_attempt
        with request.app.state.db.read() as session:
            items = service.attempt_items(session, attempt=attempt)
        return render(
            request,
            "quizzes/quiz.html",
            {**context, "attempt": attempt, "items": items, "saved": saved},
        )
    if status.access == Access.exhausted:
        context["facilitators"] = _facilitators(request, standing.learner.cohort_id)
    return render(request, "quizzes/intro.html", context)


def _status_with_extra(standing: Standing, slug: str, extra: int) -> service.QuizStatus:
    standing.records.setdefault(standing.curriculum.quizzes[slug].id, service.QuizRecord())
    standing.records[standing.curriculum.quizzes[slug].id].extra = extra
    return _status(standing, slug)


@router.post("/quizzes/{slug}/start")
async def quiz_start(
    request: Request, slug: str, user: CurrentUser = Depends(require_participant)
) -> Response:
    standing = load_standing(request, user)
    status = _status(standing, slug)
    if status.quiz.kind == "module":
        with request.app.state.db.read() as session:
            extra = service.extra_attempts(session, user_id=user.id, quiz_id=status.quiz.id)
        status = _status_with_extra(standing, slug, extra)
    try:
        with request.app.state.db.write() as session:
            service.attempt_start(
                session,
                user_id=user.id,
                status=status,
                quizzes=standing.curriculum.quizzes,
                now=standing.now,
            )
    except QuizError as exc:
        return _error(request, exc, slug)
    return redirect(request, f"/learn/quizzes/{slug}")


async def _answers(request: Request) -> tuple[int, dict[int, list[int]]]:
    form = await request.form()
    try:
        attempt_id = int(form.get("attempt_id", ""))
    except ValueError as exc:
        raise QuizError(422, N_("The answer form is not valid. Reload the page.")) from exc
    fields = {key: form.getlist(key) for key in form if key.startswith("q")}
    return attempt_id, service.parse_answers(fields)


@router.post("/quizzes/{slug}/save")
async def quiz_save(
    request: Request, slug: str, user: CurrentUser = Depends(require_participant)
) -> Response:
    state = request.app.state
    try:
        attempt_id, answers = await _answers(request)
        with state.db.write() as session:
            attempt = service.attempt_get(session, attempt_id=attempt_id, user_id=user.id)
            saved = service.attempt_save(
                session, attempt=attempt, answers=answers, now=state.clock()
            )
    except QuizError as exc:
        if is_htmx(request):
            return render(
                request,
                "quizzes/_saved.html",
                {"error": gettext_for(request).gettext(exc.message)},
                status_code=exc.status,
            )
        return _error(request, exc, slug)
    if is_htmx(request):
        return render(request, "quizzes/_saved.html", {"saved": saved, "at": state.clock()})
    return redirect(request, f"/learn/quizzes/{slug}?saved=1")


@router.post("/quizzes/{slug}/submit")
async def quiz_submit(
    request: Request, slug: str, user: CurrentUser = Depends(require_participant)
) -> Response:
    state = request.app.state
    standing = load_standing(request, user)
    status = _status(standing, slug)
    try:
        attempt_id, answers = await _answers(request)
        with state.db.write() as session:
            attempt = service.attempt_get(session, attempt_id=attempt_id, user_id=user.id)
            if attempt.submitted_at is not None:  # a double click or a retry: same outcome
                return redirect(request, _after_submit_url(status.quiz, attempt.number))
            service.attempt_save(session, attempt=attempt, answers=answers, now=standing.now)
        with state.db.read() as session:
            items = service.attempt_items(session, attempt=attempt)
        missing = service.unanswered(items)
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
        with state.db.write() as session:
            service.attempt_submit(session, attempt=attempt, quiz=status.quiz, now=standing.now)
            if status.quiz.kind == "post":
                from app.family.service import certificates_issue_if_complete

                certificates_issue_if_complete(session, couple_id=user.couple_id, now=standing.now)
    except QuizError as exc:
        return _error(request, exc, slug)
    return redirect(request, _after_submit_url(status.quiz, attempt.number))


def _after_submit_url(quiz: service.QuizInfo, number: int) -> str:
    if quiz.kind == "module":
        return f"/learn/quizzes/{quiz.slug}/attempts/{number}"
    if quiz.kind == "post":
        return "/learn/results"
    return f"/learn/quizzes/{quiz.slug}"


@router.get("/quizzes/{slug}/attempts/{number}")
async def quiz_review(
    request: Request, slug: str, number: int, user: CurrentUser = Depends(require_participant)
) -> Response:
    standing = load_standing(request, user)
    status = _status(standing, slug)
    attempt = next((a for a in status.record.submitted if a.number == number), None)
    if attempt is None:
        raise HTTPException(status_code=404)
    if status.quiz.kind != "module":
        post = standing.curriculum.quizzes.get("post-test")
        if post is None or not standing.record(post.id).submitted:
            # answers of the pre-test are revealed only after the post-test
            return render(
                request,
                "quizzes/locked.html",
                {
                    "status": status,
                    "quiz": status.quiz,
                    "learner": standing.learner,
                    "hidden": True,
                },
                status_code=403,
            )
    with request.app.state.db.read() as session:
        items = service.attempt_items(session, attempt=attempt)
    return render(
        request,
        "quizzes/review.html",
        {"status": status, "quiz": status.quiz, "attempt": attempt, "items": items},
    )


@router.get("/results")
async def results(request: Request, user: CurrentUser = Depends(require_participant)) -> Response:
    standing = load_standing(request, user, with_partner=True)
    quizzes = standing.curriculum.quizzes
    pre_q, post_q = quizzes.get("pre-test"), quizzes.get("post-test")

    def score_pair(records):  # noqa: ANN001, ANN202
        if records is None or pre_q is None or post_q is None:
            return None, None
        pre = next(iter(records.get(pre_q.id, service.QuizRecord()).submitted), None)
        post = next(iter(records.get(post_q.id, service.QuizRecord()).submitted), None)
        return pre, post

    pre, post = score_pair(standing.records)
    if post is None:
        return render(
            request,
            "quizzes/results.html",
            {"ready": False, "pre": pre, "learner": standing.learner},
        )
    with request.app.state.db.read() as session:
        by_module = service.topic_scores(
            session, pre_attempt_id=pre.id if pre else None, post_attempt_id=post.id, by="module"
        )
        by_value = service.topic_scores(
            session, pre_attempt_id=pre.id if pre else None, post_attempt_id=post.id, by="value"
        )
        values = service.value_titles(session)

    def table(rows, titles):  # noqa: ANN001, ANN202
        out = {}
        for key, attempt_id, percent in rows:
            entry = out.setdefault(
                key, {"key": key, "title": titles.get(key, {"id": key}), "pre": None, "post": None}
            )
            entry["pre" if pre and attempt_id == pre.id else "post"] = float(percent)
        for entry in out.values():
            entry["gain"] = (
                normalized_gain(entry["pre"], entry["post"])
                if entry["pre"] is not None and entry["post"] is not None
                else None
            )
        return [out[k] for k in titles if k in out]

    module_titles = {m.slug: m.title for m in standing.curriculum.modules}
    g = normalized_gain(pre.score, post.score) if pre else None
    partner_pre, partner_post = score_pair(standing.partner_records)
    return render(
        request,
        "quizzes/results.html",
        {
            "ready": True,
            "learner": standing.learner,
            "pre": pre,
            "post": post,
            "gain": g,
            "band": band(g),
            "modules": table(by_module, module_titles),
            "values": table(by_value, values),
            "partner_pre": partner_pre,
            "partner_post": partner_post,
        },
    )
