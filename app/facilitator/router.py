from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import Response
from starlette.datastructures import UploadFile

from app.accounts.deps import require_facilitator
from app.accounts.models import CurrentUser, User
from app.audit import audit_record
from app.cohorts import service
from app.cohorts.models import Cohort
from app.i18n import N_
from app.quizzes.stats import participant_summaries, waiting_for_attempt
from app.web import gettext_for, redirect, render

router = APIRouter(prefix="/facilitator")

ACTIVATION_DAYS = 30


def _cohort(request: Request, user: CurrentUser, slug: str) -> Cohort:
    with request.app.state.db.read() as session:
        try:
            cohort = service.cohort_for(session, user=user, slug=slug)
        except service.CohortDenied as exc:
            raise HTTPException(status_code=403) from exc
    if cohort is None:
        raise HTTPException(status_code=404)
    return cohort


@router.get("")
async def facilitator_home(
    request: Request, user: CurrentUser = Depends(require_facilitator)
) -> Response:
    with request.app.state.db.read() as session:
        cohorts = service.cohort_list_for(session, user=user)
    return render(request, "facilitator/home.html", {"cohorts": cohorts})


@router.get("/roster-template.csv")
async def roster_template(
    request: Request, user: CurrentUser = Depends(require_facilitator)
) -> Response:
    from app.cohorts.roster import template_csv

    return Response(
        template_csv(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="template-peserta.csv"'},
    )


@router.get("/cohorts/{slug}")
async def cohort_page(
    request: Request, slug: str, user: CurrentUser = Depends(require_facilitator)
) -> Response:
    cohort = _cohort(request, user, slug)
    granted = request.query_params.get("granted", "")
    return _cohort_response(request, cohort, granted=int(granted) if granted.isdigit() else None)


def _cohort_response(
    request: Request,
    cohort: Cohort,
    *,
    error: str | None = None,
    granted: int | None = None,
    status_code: int = 200,
) -> Response:
    state = request.app.state
    with state.db.read() as session:
        couples = service.cohort_roster(session, cohort_id=cohort.id)
        summaries = participant_summaries(session, cohort_id=cohort.id)
    with state.db.reader() as reader:
        curriculum = state.curriculum.get(reader)
    names = {p["id"]: p for c in couples for p in c["partners"]}
    waiting = [
        (names[uid], quiz)
        for uid, quizzes in waiting_for_attempt(summaries, curriculum.quizzes).items()
        if uid in names
        for quiz in quizzes
    ]
    return render(
        request,
        "facilitator/cohort.html",
        {
            "cohort": cohort,
            "couples": couples,
            "summaries": summaries,
            "waiting": sorted(waiting, key=lambda w: (w[0]["name"], w[1].slug)),
            "granted": names.get(granted),
            "error": error,
            "now": state.clock(),
        },
        status_code=status_code,
    )


@router.get("/cohorts/{slug}/import")
async def import_form(
    request: Request, slug: str, user: CurrentUser = Depends(require_facilitator)
) -> Response:
    cohort = _cohort(request, user, slug)
    return render(request, "facilitator/import.html", {"cohort": cohort})


def problem_text(request: Request, problem) -> str:  # noqa: ANN001
    return gettext_for(request).gettext(problem.message) % problem.values


@router.post("/cohorts/{slug}/import")
async def import_roster(
    request: Request, slug: str, user: CurrentUser = Depends(require_facilitator)
) -> Response:
    from app.cohorts.roster import MAX_BYTES, parse_roster

    cohort = _cohort(request, user, slug)
    form = await request.form()
    upload = form.get("file")
    dry_run = form.get("action") == "check"
    _ = gettext_for(request).gettext
    if not isinstance(upload, UploadFile) or not upload.filename:
        return render(
            request,
            "facilitator/import.html",
            {"cohort": cohort, "error": _("Choose the roster file (CSV or XLSX) first.")},
            status_code=422,
        )
    data = await upload.read(MAX_BYTES + 1)
    parsed = parse_roster(data, upload.filename)
    state = request.app.state
    with state.db.write() as session:
        result = service.roster_import(
            session,
            cohort=session.get(Cohort, cohort.id),
            parsed=parsed,
            actor_id=user.id,
            now=state.clock(),
            activation_days=ACTIVATION_DAYS,
            dry_run=dry_run,
        )
    problems = [
        {"row": p.row, "column": p.column, "message": problem_text(request, p)}
        for p in sorted(result.problems, key=lambda p: (p.row, p.column or ""))
    ]
    return render(
        request,
        "facilitator/import.html",
        {"cohort": cohort, "result": result, "problems": problems, "filename": upload.filename},
        status_code=422 if problems else 200,
    )


def _cards(request: Request, cohort: Cohort, participant: int | None = None) -> list[dict]:
    """The readable activation codes of a cohort, each with its activation URL."""
    with request.app.state.db.read() as session:
        cards = service.cards_for(session, cohort_id=cohort.id, user_id=participant)
    base = str(request.base_url).rstrip("/")
    for card in cards:
        card["url"] = f"{base}/activate?code={card['code']}"
    return cards


@router.get("/cohorts/{slug}/cards")
async def cards_page(
    request: Request,
    slug: str,
    participant: int | None = None,
    user: CurrentUser = Depends(require_facilitator),
) -> Response:
    from app.certificates.pdf import qr_svg

    cohort = _cohort(request, user, slug)
    cards = _cards(request, cohort, participant)
    for card in cards:
        card["qr"] = qr_svg(card["url"])
    return render(
        request,
        "facilitator/cards.html",
        {"cohort": cohort, "cards": cards, "one": participant is not None},
    )


@router.get("/cohorts/{slug}/cards.pdf")
async def cards_pdf(
    request: Request, slug: str, user: CurrentUser = Depends(require_facilitator)
) -> Response:
    from app.certificates.pdf import Card, activation_cards_pdf

    cohort = _cohort(request, user, slug)
    cards = _cards(request, cohort)
    _ = gettext_for(request).gettext
    base = str(request.base_url).rstrip("/")
    roles = {"official": _("Official"), "spouse": _("Spouse")}
    pdf = activation_cards_pdf(
        [
            Card(
                name=c["display_name"],
                couple_code=c["couple_code"],
                role_label=roles.get(c["partner_role"], ""),
                code=c["code"],
                url=c["url"],
            )
            for c in cards
        ],
        title=_("Integrity Family: your account"),
        instructions=_(
            "Scan the QR code or open %(url)s/activate and enter the code. Then "
            "choose your own password."
        )
        % {"url": base},
        cohort=cohort.title,
    )
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="kartu-aktivasi-{cohort.slug}.pdf"'},
    )


def _participant(session, cohort: Cohort, user_id: int) -> User:  # noqa: ANN001 — a Session
    """A participant of this cohort; anyone else (or no one) is a 404."""
    from app.cohorts.models import Couple

    participant = session.get(User, user_id)
    couple = session.get(Couple, participant.couple_id) if participant is not None else None
    if couple is None or couple.cohort_id != cohort.id:
        raise HTTPException(status_code=404)
    return participant


@router.post("/cohorts/{slug}/participants/{user_id}/extra-attempt")
async def extra_attempt(
    request: Request, slug: str, user_id: int, user: CurrentUser = Depends(require_facilitator)
) -> Response:
    from sqlalchemy.exc import IntegrityError

    from app.quizzes import service as quizzes

    cohort = _cohort(request, user, slug)
    state = request.app.state
    form = await request.form()
    with state.db.reader() as reader:
        quiz = state.curriculum.get(reader).quizzes.get(str(form.get("quiz", "")))
    if quiz is None:
        raise HTTPException(status_code=404)
    try:
        with state.db.write() as session:
            _participant(session, cohort, user_id)
            quizzes.extra_attempt_grant(session, user_id=user_id, quiz=quiz, actor_id=user.id)
    except IntegrityError:  # two facilitators at the same moment: one grant stands
        refused = quizzes.QuizError(
            409, N_("This participant still has an attempt left for this quiz.")
        )
    except quizzes.QuizError as exc:
        refused = exc
    else:
        refused = None
    if refused is not None:
        return _cohort_response(
            request,
            cohort,
            error=gettext_for(request).gettext(refused.message),
            status_code=refused.status,
        )
    return redirect(request, f"/facilitator/cohorts/{slug}?granted={user_id}#waiting")


@router.post("/cohorts/{slug}/participants/{user_id}/reissue")
async def reissue_code(
    request: Request, slug: str, user_id: int, user: CurrentUser = Depends(require_facilitator)
) -> Response:
    cohort = _cohort(request, user, slug)
    state = request.app.state
    with state.db.write() as session:
        participant = _participant(session, cohort, user_id)
        service.activation_issue(
            session, user_id=participant.id, now=state.clock(), days=ACTIVATION_DAYS
        )
        audit_record(
            session,
            actor_id=user.id,
            action="activation.reissue",
            target=f"user:{participant.username}",
            detail={"cohort": cohort.slug},
        )
    return redirect(request, f"/facilitator/cohorts/{slug}/cards?participant={user_id}")


@router.get("/cohorts/{slug}/reflections")
async def reflections_page(
    request: Request, slug: str, user: CurrentUser = Depends(require_facilitator)
) -> Response:
    from sqlalchemy import select

    from app.cohorts.models import Couple
    from app.curriculum.models import Module
    from app.family.models import FamilyReflection

    cohort = _cohort(request, user, slug)
    with request.app.state.db.read() as session:
        rows = session.execute(
            select(FamilyReflection, Couple.code, Module.title, User.display_name)
            .join(Couple, Couple.id == FamilyReflection.couple_id)
            .join(Module, Module.id == FamilyReflection.module_id)
            .join(User, User.id == FamilyReflection.written_by)
            .where(Couple.cohort_id == cohort.id)
            .order_by(FamilyReflection.reply.is_not(None), FamilyReflection.written_at.desc())
        ).all()
    return render(request, "facilitator/reflections.html", {"cohort": cohort, "rows": rows})


@router.post("/cohorts/{slug}/reflections/{reflection_id}/reply")
async def reflection_reply(
    request: Request,
    slug: str,
    reflection_id: int,
    user: CurrentUser = Depends(require_facilitator),
) -> Response:
    from app.family.service import FamilyError
    from app.family.service import reflection_reply as reply

    cohort = _cohort(request, user, slug)
    form = await request.form()
    try:
        with request.app.state.db.write() as session:
            reply(
                session,
                reflection_id=reflection_id,
                cohort_id=cohort.id,
                user_id=user.id,
                text=str(form.get("text") or ""),
                now=request.app.state.clock(),
            )
            audit_record(
                session,
                actor_id=user.id,
                action="reflection.reply",
                target=f"reflection:{reflection_id}",
            )
    except FamilyError as exc:
        if exc.status == 404:
            raise HTTPException(status_code=404) from exc
        return render(
            request,
            "quizzes/problem.html",
            {"message": gettext_for(request).gettext(exc.message), "slug": ""},
            status_code=exc.status,
        )
    return redirect(request, f"/facilitator/cohorts/{slug}/reflections")
