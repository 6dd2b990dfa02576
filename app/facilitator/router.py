from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy.exc import IntegrityError
from starlette.datastructures import UploadFile

from app.certificates.pdf import Card as PdfCard
from app.certificates.pdf import activation_cards_pdf, qr_svg
from app.cohorts.roster import MAX_BYTES, parse_roster, template_csv
from app.cohorts.service import activation_reissue, cohort_for
from app.db import saved_id
from app.deps import CurriculumDep, DbDep, FacilitatorDep, NowDep, ReadDep, SettingsDep, WriteDep
from app.errors import AppError, NotFound
from app.facilitator import service
from app.family.service import reflection_reply, reflections_of_cohort
from app.i18n import N_
from app.quizzes.service import QuizError, extra_attempt_grant
from app.web import form_error, gettext_for, message_text, redirect, render

router = APIRouter(prefix="/facilitator")


@router.get("")
async def facilitator_home(request: Request, user: FacilitatorDep, session: ReadDep) -> Response:
    return render(
        request, "facilitator/home.html", {"cohorts": service.cohorts_of(session, actor=user)}
    )


@router.get("/roster-template.csv")
async def roster_template(user: FacilitatorDep) -> Response:
    return Response(
        template_csv(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="template-peserta.csv"'},
    )


@router.get("/cohorts/{slug}")
async def cohort_page(
    request: Request,
    slug: str,
    user: FacilitatorDep,
    session: ReadDep,
    curriculum: CurriculumDep,
    now: NowDep,
    granted: str = "",
) -> Response:
    page = service.cohort_page(
        session,
        actor=user,
        slug=slug,
        curriculum=curriculum,
        granted=int(granted) if granted.isdigit() and len(granted) < 12 else None,
    )
    return render(request, "facilitator/cohort.html", {**vars(page), "now": now})


@router.get("/cohorts/{slug}/import")
async def import_form(
    request: Request, slug: str, user: FacilitatorDep, session: ReadDep
) -> Response:
    cohort = cohort_for(session, user=user, slug=slug)
    return render(request, "facilitator/import.html", {"cohort": cohort})


@router.post("/cohorts/{slug}/import")
async def import_roster(
    request: Request,
    slug: str,
    user: FacilitatorDep,
    session: ReadDep,
    db: DbDep,
    settings: SettingsDep,
    now: NowDep,
) -> Response:
    cohort = cohort_for(session, user=user, slug=slug)
    form = await request.form()
    upload = form.get("file")
    if not isinstance(upload, UploadFile) or not upload.filename:
        return form_error(
            request,
            "facilitator/import.html",
            {"cohort": cohort},
            AppError(422, N_("Choose the roster file (CSV or XLSX) first."), field="file"),
        )
    data = await upload.read(MAX_BYTES + 1)
    parsed = parse_roster(data, upload.filename)
    with db.write() as write:
        result = service.roster_upload(
            write,
            actor=user,
            cohort=cohort,
            parsed=parsed,
            dry_run=form.get("action") == "check",
            now=now,
            activation_days=settings.activation_days,
        )
    _ = gettext_for(request).gettext
    problems = [
        {"row": p.row, "column": p.column, "message": _(p.message) % p.values}
        for p in sorted(result.problems, key=lambda p: (p.row, p.column or ""))
    ]
    return render(
        request,
        "facilitator/import.html",
        {"cohort": cohort, "result": result, "problems": problems, "filename": upload.filename},
        status_code=422 if problems else 200,
    )


@router.get("/cohorts/{slug}/cards")
async def cards_page(
    request: Request,
    slug: str,
    user: FacilitatorDep,
    session: ReadDep,
    participant: int | None = None,
) -> Response:
    cohort, cards = service.activation_cards(
        session, actor=user, slug=slug, base_url=str(request.base_url), participant=participant
    )
    return render(
        request,
        "facilitator/cards.html",
        {
            "cohort": cohort,
            "cards": cards,
            "qr": {card.id: qr_svg(card.url) for card in cards},
            "one": participant is not None,
        },
    )


@router.get("/cohorts/{slug}/cards.pdf")
async def cards_pdf(
    request: Request, slug: str, user: FacilitatorDep, session: ReadDep
) -> Response:
    base = str(request.base_url).rstrip("/")
    cohort, cards = service.activation_cards(session, actor=user, slug=slug, base_url=base)
    _ = gettext_for(request).gettext
    roles = {"official": _("Official"), "spouse": _("Spouse")}
    pdf = activation_cards_pdf(
        [
            PdfCard(
                name=c.display_name,
                couple_code=c.couple_code,
                role_label=roles.get(c.partner_role or "", ""),
                code=c.code,
                url=c.url,
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


@router.post("/cohorts/{slug}/participants/{user_id}/extra-attempt")
async def extra_attempt(
    request: Request,
    slug: str,
    user_id: int,
    user: FacilitatorDep,
    session: ReadDep,
    db: DbDep,
    curriculum: CurriculumDep,
    now: NowDep,
) -> Response:
    cohort = cohort_for(session, user=user, slug=slug)
    form = await request.form()
    quiz = curriculum.quizzes.get(str(form.get("quiz", "")))
    if quiz is None:
        raise NotFound(message=N_("This quiz does not exist."))
    try:
        with db.write() as write:
            extra_attempt_grant(
                write, actor=user, user_id=user_id, quiz=quiz, now=now, cohort_id=cohort.id
            )
    except IntegrityError:  # two facilitators at the same moment: one grant stands
        refused: AppError | None = QuizError(
            409, N_("This participant still has an attempt left for this quiz.")
        )
    except QuizError as exc:
        refused = exc
    else:
        refused = None
    if refused is not None:
        page = service.cohort_page(session, actor=user, slug=slug, curriculum=curriculum)
        return render(
            request,
            "facilitator/cohort.html",
            {**vars(page), "now": now, "error": message_text(request, refused)},
            status_code=refused.status,
        )
    return redirect(request, f"/facilitator/cohorts/{slug}?granted={user_id}#waiting")


@router.post("/cohorts/{slug}/participants/{user_id}/reissue")
async def reissue_code(
    request: Request,
    slug: str,
    user_id: int,
    user: FacilitatorDep,
    session: WriteDep,
    settings: SettingsDep,
    now: NowDep,
) -> Response:
    cohort = cohort_for(session, user=user, slug=slug)
    activation_reissue(
        session, actor=user, cohort=cohort, user_id=user_id, now=now, days=settings.activation_days
    )
    return redirect(request, f"/facilitator/cohorts/{slug}/cards?participant={user_id}")


@router.get("/cohorts/{slug}/reflections")
async def reflections_page(
    request: Request, slug: str, user: FacilitatorDep, session: ReadDep
) -> Response:
    cohort = cohort_for(session, user=user, slug=slug)
    rows = reflections_of_cohort(session, actor=user, cohort_id=saved_id(cohort))
    return render(request, "facilitator/reflections.html", {"cohort": cohort, "rows": rows})


@router.post("/cohorts/{slug}/reflections/{reflection_id}/reply")
async def reply(
    request: Request,
    slug: str,
    reflection_id: int,
    user: FacilitatorDep,
    session: WriteDep,
    now: NowDep,
) -> Response:
    cohort = cohort_for(session, user=user, slug=slug)
    form = await request.form()
    reflection_reply(
        session,
        actor=user,
        reflection_id=reflection_id,
        cohort_id=saved_id(cohort),
        text=str(form.get("text") or ""),
        now=now,
    )
    return redirect(request, f"/facilitator/cohorts/{slug}/reflections")
