from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import Response
from sqlalchemy.exc import IntegrityError

from app.accounts.deps import require_participant
from app.accounts.models import User
from app.curriculum import service
from app.web import is_htmx, redirect, render

router = APIRouter(prefix="/learn")


def _load(request: Request, user: User, *, with_partner: bool = True):  # noqa: ANN202
    """The learner, the outline and the progress of both partners: four lean queries."""
    now = request.app.state.clock()
    with request.app.state.db.read() as session:
        learner = service.learner_for(session, user=user)
        if learner is None:
            raise HTTPException(status_code=403, detail="no-couple")
        outline = service.curriculum_outline(session)
        ids = [learner.user_id] + (
            [learner.partner_id] if with_partner and learner.partner_id else []
        )
        completions = service.completions_for(session, user_ids=ids)
    mine = service.path_progress(
        outline, completions[learner.user_id], now=now, after_opens=learner.after_opens
    )
    partner = None
    if with_partner and learner.partner_id:
        partner = service.path_progress(
            outline, completions[learner.partner_id], now=now, after_opens=learner.after_opens
        )
    return learner, outline, mine, partner, now


def _find(outline, slug: str):  # noqa: ANN001, ANN202
    for module in outline:
        for lesson in module.lessons:
            if lesson.slug == slug:
                return module, lesson
    raise HTTPException(status_code=404)


def _neighbours(outline, lesson):  # noqa: ANN001, ANN202
    flat = [lesson for module in outline for lesson in module.lessons]
    i = next(n for n, item in enumerate(flat) if item.id == lesson.id)
    return (flat[i - 1] if i > 0 else None), (flat[i + 1] if i + 1 < len(flat) else None)


@router.get("")
async def learning_map(request: Request, user: User = Depends(require_participant)) -> Response:
    learner, outline, mine, partner, now = _load(request, user)
    return render(
        request,
        "curriculum/map.html",
        {
            "learner": learner,
            "mine": mine,
            "partner": partner,
            "next": mine.next_open(),
            "now": now,
            "workshop_over": now >= learner.after_opens,
        },
    )


@router.get("/lessons/{slug}")
async def lesson_page(
    request: Request, slug: str, user: User = Depends(require_participant)
) -> Response:
    learner, outline, mine, _, now = _load(request, user, with_partner=False)
    module, lesson = _find(outline, slug)
    state = mine.state_of(lesson.id)
    if state.state == service.State.locked:
        return render(
            request,
            "curriculum/locked.html",
            {"lesson": lesson, "module": module, "state": state},
            status_code=403,
        )
    with request.app.state.db.read() as session:
        html, sources, discussion, words = service.lesson_body(session, lesson_id=lesson.id)
    previous, following = _neighbours(outline, lesson)
    following_state = mine.state_of(following.id) if following else None
    module_progress = next(m for m in mine.modules if m.module.id == module.id)
    return render(
        request,
        "curriculum/lesson.html",
        {
            "learner": learner,
            "module": module,
            "lesson": lesson,
            "state": state,
            "html": html,
            "sources": sources,
            "discussion": discussion,
            "words": words,
            "previous": previous,
            "following": following,
            "following_state": following_state,
            "module_progress": module_progress,
            "mine": mine,
        },
    )


@router.post("/lessons/{slug}/complete")
async def lesson_complete(
    request: Request, slug: str, user: User = Depends(require_participant)
) -> Response:
    learner, outline, mine, _, now = _load(request, user, with_partner=False)
    module, lesson = _find(outline, slug)
    try:
        with request.app.state.db.write() as session:
            service.lesson_complete(
                session, learner=learner, lesson_id=lesson.id, progress=mine, now=now
            )
    except service.LessonLocked as exc:
        return render(
            request,
            "curriculum/locked.html",
            {"lesson": lesson, "module": module, "state": exc.state},
            status_code=403,
        )
    except IntegrityError:
        pass  # a second tab completed it at the same moment: it is done either way
    _, _, mine, _, _ = _load(request, user, with_partner=False)
    _, following = _neighbours(outline, lesson)
    if is_htmx(request):
        return render(
            request,
            "curriculum/_complete_box.html",
            {
                "lesson": lesson,
                "state": mine.state_of(lesson.id),
                "following": following,
                "following_state": mine.state_of(following.id) if following else None,
                "module_progress": next(m for m in mine.modules if m.module.id == module.id),
                "oob": True,
            },
        )
    target = (
        f"/learn/lessons/{following.slug}"
        if following and mine.state_of(following.id).state == service.State.open
        else "/learn"
    )
    return redirect(request, target)
