from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from markupsafe import Markup
from sqlalchemy.exc import IntegrityError
from starlette.datastructures import UploadFile

from app.accounts.models import CurrentUser
from app.certificates.pdf import Card as PdfCard
from app.certificates.pdf import activation_cards_pdf, qr_svg
from app.charts import bar_chart, histogram, paired_bars
from app.cohorts.roster import parse_roster, template_csv
from app.cohorts.service import (
    DETAIL_FIELDS,
    ImportResult,
    ResetUnconfirmed,
    activation_reissue,
    cohort_for,
    participant_details_change,
    participant_for,
)
from app.config import Settings
from app.curriculum.outline import Curriculum
from app.db import Database, saved_id
from app.deps import CurriculumDep, DbDep, FacilitatorDep, NowDep, ReadDep, SettingsDep, WriteDep
from app.errors import AppError, NotFound
from app.exports import csv_stream, export_filename, xlsx_stream
from app.facilitator import service
from app.facilitator.followup import FILTERS as FOLLOWUP_FILTERS
from app.facilitator.followup import followup_list, step_name
from app.facilitator.report import cohort_report_pdf, survey_chart
from app.facilitator.workspace import (
    FLAGS,
    KIND_NAMES,
    SORTS,
    FunnelStep,
    milestone_name,
    quiz_name,
    stage_name,
    waiting_name,
)
from app.family.service import reflection_reply, reflections_of_cohort
from app.i18n import N_, fmt_date, fmt_number, pick, translations
from app.inputs import upload_route
from app.privacy.service import access_record
from app.quizzes.gain import TopicGain
from app.quizzes.service import QuizError, extra_attempt_grant
from app.web import (
    download,
    form_error,
    gettext_for,
    is_htmx,
    local_path,
    message_text,
    redirect,
    render,
)

router = APIRouter(prefix="/facilitator")


def _accessed(
    db: Database,
    user: CurrentUser,
    what: str,
    now: datetime,
    *,
    users: list[int] | None = None,
    cohort: str | None = None,
) -> None:
    """Record that ``user`` opened personal data (UU 27/2022: the person can see who did)."""
    with db.write() as session:
        access_record(session, actor=user, what=what, now=now, users=users or (), cohort=cohort)


@router.get("")
async def facilitator_home(
    request: Request,
    user: FacilitatorDep,
    session: ReadDep,
    curriculum: CurriculumDep,
    now: NowDep,
    settings: SettingsDep,
) -> Response:
    cards = service.facilitator_home(
        session,
        actor=user,
        curriculum=curriculum,
        now=now,
        settings=settings,
        cache=kept_results(request),
    )
    return render(request, "facilitator/home.html", {"cards": cards})


@router.get("/roster-template.csv")
async def roster_template(user: FacilitatorDep) -> Response:
    return Response(
        template_csv(),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": 'attachment; filename="template-peserta.csv"',
            "Cache-Control": "no-store",
        },
    )


def _list_context(
    request: Request,
    session: ReadDep,
    user: FacilitatorDep,
    slug: str,
    curriculum: CurriculumDep,
    now: datetime,
    settings: SettingsDep,
    **params: str,
) -> dict[str, Any]:
    page = service.cohort_list(
        session,
        actor=user,
        slug=slug,
        curriculum=curriculum,
        now=now,
        settings=settings,
        base_url=str(request.base_url),
        cache=kept_results(request),
        **params,
    )
    return {
        **vars(page),
        "cohort": page.workspace.cohort,
        "ladder": page.workspace.ladder,
        "now": now,
        "stage_name": lambda slot: stage_name(slot, request.state.locale),
        "waiting_name": lambda stage: waiting_name(stage, request.state.locale),
        "flags": FLAGS,
        "sorts": SORTS,
        "funnel_chart": funnel_chart(request, page.funnel),
        "milestone_name": lambda step: milestone_name(step, request.state.locale),
    }


def funnel_chart(request: Request, steps: list[FunnelStep]) -> Markup:
    """The funnel twice: labels above the bars for a phone, beside them for a laptop (CSS
    shows one)."""
    _ = gettext_for(request).gettext
    locale = request.state.locale
    rows = [(milestone_name(s, locale), s.participants, str(s.participants)) for s in steps]
    top = max(max((s.participants for s in steps), default=0), 1)
    title = _("Participants who have reached each step")
    narrow = bar_chart(rows, title=title, max_value=top, locale=locale)
    wide = bar_chart(rows, title=title, max_value=top, locale=locale, width=720, label_width=230)
    return Markup('<div class="chart narrow">{}</div><div class="chart wide">{}</div>').format(
        narrow, wide
    )


@router.get("/cohorts/{slug}")
async def cohort_page(
    request: Request,
    slug: str,
    user: FacilitatorDep,
    session: ReadDep,
    curriculum: CurriculumDep,
    now: NowDep,
    settings: SettingsDep,
    stage: str = "",
    flag: str = "",
    q: str = "",
    sort: str = "",
    page: str = "",
    granted: str = "",
) -> Response:
    context = _list_context(
        request,
        session,
        user,
        slug,
        curriculum,
        now,
        settings,
        stage=stage,
        flag=flag,
        q=q,
        sort=sort,
        page=page,
    )
    if granted.isdigit() and len(granted) < 12:
        context["granted"] = next(
            (p for p in context["workspace"].people if p.id == int(granted)), None
        )
    if is_htmx(request) and request.headers.get("HX-Target") == "list":
        # the address bar shows the list's own URL (no empty fields), to bookmark
        clean = f"/facilitator/cohorts/{slug}{context['query'].params()}"
        return render(request, "facilitator/_list.html", context, headers={"HX-Push-Url": clean})
    return render(request, "facilitator/cohort.html", context)


@router.post("/cohorts/{slug}/participants/{user_id}/reminded")
async def reminded(
    request: Request,
    slug: str,
    user_id: int,
    user: FacilitatorDep,
    db: DbDep,
    session: ReadDep,
    curriculum: CurriculumDep,
    now: NowDep,
    settings: SettingsDep,
) -> Response:
    form = await request.form()
    with db.write() as write:
        service.reminder_mark(
            write,
            actor=user,
            slug=slug,
            user_id=user_id,
            stage=str(form.get("stage", "")),
            channel=str(form.get("channel", "")),
            curriculum=curriculum,
            now=now,
        )
    back = local_path(str(form.get("next", "")), f"/facilitator/cohorts/{slug}")
    if is_htmx(request):
        return render(
            request,
            "facilitator/_reminded.html",
            {"now": now, "last_reminder": now},
        )
    return redirect(request, back)


@router.get("/cohorts/{slug}/remind")
async def remind_next_page(
    request: Request,
    slug: str,
    user: FacilitatorDep,
    session: ReadDep,
    curriculum: CurriculumDep,
    now: NowDep,
    settings: SettingsDep,
    stage: str = "",
    flag: str = "",
    q: str = "",
    skip: str = "",
) -> Response:
    skipped = [int(s) for s in skip.split(",") if s.isdigit() and len(s) < 12][:500]
    view = service.remind_next(
        session,
        actor=user,
        slug=slug,
        curriculum=curriculum,
        now=now,
        settings=settings,
        base_url=str(request.base_url),
        stage=stage,
        flag=flag,
        q=q,
        skip=skipped,
        cache=kept_results(request),
    )
    return render(
        request,
        "facilitator/remind.html",
        {
            **vars(view),
            "cohort": view.workspace.cohort,
            "now": now,
            "skip": skipped,
            "stage_name": lambda slot: stage_name(slot, request.state.locale),
            "stage_label": lambda key: next(
                (
                    stage_name(s, request.state.locale)
                    for s in view.workspace.ladder
                    if s.key == key
                ),
                key,
            ),
            "flags": FLAGS,
        },
    )


@router.get("/cohorts/{slug}/reminder-texts")
async def reminder_texts_page(
    request: Request, slug: str, user: FacilitatorDep, session: ReadDep
) -> Response:
    cohort, rows = service.reminder_texts(session, actor=user, slug=slug)
    return render(
        request,
        "facilitator/reminder_texts.html",
        {"cohort": cohort, "rows": rows, "stage_names": KIND_NAMES},
    )


@router.post("/cohorts/{slug}/reminder-texts")
async def reminder_texts_save(
    request: Request, slug: str, user: FacilitatorDep, db: DbDep, session: ReadDep, now: NowDep
) -> Response:
    form = {k: str(v) for k, v in (await request.form()).items() if isinstance(v, str)}
    try:
        with db.write() as write:
            service.reminder_texts_save(write, actor=user, slug=slug, form=form, now=now)
    except AppError as exc:
        cohort, rows = service.reminder_texts(session, actor=user, slug=slug)
        for row in rows:  # show what was typed
            for locale in row.texts:
                typed = form.get(f"text-{row.kind.value}-{locale}")
                if typed is not None:
                    row.texts[locale] = typed
        return form_error(
            request,
            "facilitator/reminder_texts.html",
            {"cohort": cohort, "rows": rows, "stage_names": KIND_NAMES},
            exc,
        )
    return redirect(request, f"/facilitator/cohorts/{slug}/reminder-texts?saved=1")


@router.get("/cohorts/{slug}/couples/{code}")
async def couple_page(
    request: Request,
    slug: str,
    code: str,
    user: FacilitatorDep,
    session: ReadDep,
    curriculum: CurriculumDep,
    now: NowDep,
    settings: SettingsDep,
    db: DbDep,
) -> Response:
    page = service.couple_page(
        session,
        actor=user,
        slug=slug,
        code=code,
        curriculum=curriculum,
        now=now,
        settings=settings,
        base_url=str(request.base_url),
    )
    _accessed(db, user, "couple", now, users=[saved_id(p.user) for p in page.partners])
    slots = {slot.key: slot for slot in page.workspace.ladder}
    _ = gettext_for(request).gettext
    return render(
        request,
        "facilitator/couple.html",
        {
            **vars(page),
            "cohort": page.workspace.cohort,
            "curriculum": curriculum,
            "now": now,
            "stage_name": lambda slot: stage_name(slot, request.state.locale),
            "waiting_name": lambda stage: waiting_name(stage, request.state.locale),
            "stage_label": lambda key: (
                stage_name(slots[key], request.state.locale) if key in slots else key
            ),
            "quizzes": service.quizzes_in_order(curriculum),
            "quiz_title": lambda quiz: quiz_name(quiz, request.state.locale),
            "channel_names": {"whatsapp": "WhatsApp", "email": _("E-mail"), "other": _("other")},
        },
    )


def kept_results(request: Request) -> service.KeptResults:
    """What the application keeps between requests: quiz statistics, couples' facts (one per
    process)."""
    state = request.app.state
    if not hasattr(state, "kept_results"):
        state.kept_results = {}
    return state.kept_results


@router.get("/cohorts/{slug}/results")
async def results_page(
    request: Request,
    slug: str,
    user: FacilitatorDep,
    session: ReadDep,
    curriculum: CurriculumDep,
    page: str = "",
) -> Response:
    results = service.results_page(
        session,
        actor=user,
        slug=slug,
        curriculum=curriculum,
        page=page,
        cache=kept_results(request),
    )
    _ = gettext_for(request).gettext
    locale = request.state.locale

    def paired(rows: list[TopicGain], title: str) -> Markup:
        return paired_bars(
            [(pick(r.title, locale), r.gain.pre_mean, r.gain.post_mean) for r in rows],
            title=title,
            first_label=_("Pre-test"),
            second_label=_("Post-test"),
            locale=locale,
        )

    edges = [i * 100 / service.BINS for i in range(service.BINS + 1)]
    return render(
        request,
        "facilitator/results.html",
        {
            **vars(results),
            "quiz_title": lambda quiz: quiz_name(quiz, locale),
            "module_chart": paired(results.gain.by_module, _("Pre-test and post-test by module")),
            "value_chart": paired(results.gain.by_value, _("Pre-test and post-test by value")),
            "histograms": {
                d.quiz.slug: histogram(
                    d.counts,
                    edges=edges,
                    title=_("Best scores: %(quiz)s") % {"quiz": quiz_name(d.quiz, locale)},
                    locale=locale,
                    x_label=_("score (%)"),
                )
                for d in results.distributions
            },
        },
    )


@router.get("/cohorts/{slug}/evaluation")
async def evaluation_page(
    request: Request,
    slug: str,
    user: FacilitatorDep,
    session: ReadDep,
    settings: SettingsDep,
) -> Response:
    """After the workshop: how participants judged it, what families did, what stayed."""
    locale = request.state.locale
    cohort, followup = service.followup_page(
        session, actor=user, slug=slug, settings=settings, locale=locale
    )
    return render(
        request,
        "facilitator/evaluation.html",
        {
            "cohort": cohort,
            "followup": followup,
            "charts": [survey_chart(item, locale=locale) for item in followup.items],
            "num": lambda value, pattern: fmt_number(value, pattern, locale),
        },
    )


@router.get("/items")
async def items_all(
    request: Request, user: FacilitatorDep, session: ReadDep, curriculum: CurriculumDep
) -> Response:
    view = service.items_view(
        session, actor=user, curriculum=curriculum, cache=kept_results(request)
    )
    title = gettext_for(request).gettext("Question quality: all my cohorts")
    return render(
        request,
        "facilitator/items.html",
        {**vars(view), "title": title, "quiz_title": lambda q: quiz_name(q, request.state.locale)},
    )


@router.get("/cohorts/{slug}/items")
async def items_page(
    request: Request, slug: str, user: FacilitatorDep, session: ReadDep, curriculum: CurriculumDep
) -> Response:
    view = service.items_view(
        session, actor=user, curriculum=curriculum, slug=slug, cache=kept_results(request)
    )
    title = gettext_for(request).gettext("Question quality")
    return render(
        request,
        "facilitator/items.html",
        {
            **vars(view),
            "title": title,
            "tab": "items",
            "quiz_title": lambda q: quiz_name(q, request.state.locale),
        },
    )


def _export(
    request: Request,
    db: Database,
    user: CurrentUser,
    slug: str,
    curriculum: Curriculum,
    now: datetime,
    settings: Settings,
    kind: str,
    stage: str,
    flag: str,
    q: str,
) -> tuple[str, Iterator[bytes]]:
    """The export file (in a worker thread: reading, building and writing are heavy)."""
    locale = request.state.locale
    _ = translations(locale).gettext
    with db.read() as session:
        export = service.cohort_export(
            session,
            actor=user,
            slug=slug,
            curriculum=curriculum,
            now=now,
            settings=settings,
            locale=locale,
            stage=stage,
            flag=flag,
            q=q,
        )
    with db.write() as write:
        service.export_audit(
            write,
            actor=user,
            cohort=export.cohort,
            kind=kind,
            label=export.label,
            rows=export.count,
            now=now,
        )
    name = export_filename(
        export.cohort.slug,
        _("participants"),
        export.label,
        now.astimezone(settings.tz).date(),
        kind,
    )
    yes, no = _("yes"), _("no")
    if kind == "csv":
        return name, csv_stream(
            export.columns, export.rows, tz=settings.tz, true_text=yes, false_text=no
        )
    return name, xlsx_stream(
        export.columns,
        export.rows,
        sheet_title=_("Participants"),
        freeze_columns=3,
        tz=settings.tz,
        true_text=yes,
        false_text=no,
    )


@router.get("/cohorts/{slug}/export.{kind}")
async def export_file(
    request: Request,
    slug: str,
    kind: str,
    user: FacilitatorDep,
    db: DbDep,
    curriculum: CurriculumDep,
    now: NowDep,
    settings: SettingsDep,
    stage: str = "",
    flag: str = "",
    q: str = "",
) -> Response:
    if kind not in ("xlsx", "csv"):
        raise NotFound(message=N_("This page does not exist."))
    name, body = await run_in_threadpool(
        _export, request, db, user, slug, curriculum, now, settings, kind, stage, flag, q
    )
    return download(name, body, kind)


@router.get("/cohorts/{slug}/report.pdf")
async def report_pdf(
    request: Request,
    slug: str,
    user: FacilitatorDep,
    db: DbDep,
    curriculum: CurriculumDep,
    now: NowDep,
    settings: SettingsDep,
) -> Response:
    locale = request.state.locale

    def build() -> tuple[str, bytes]:
        with db.read() as session:
            report = service.cohort_report(
                session,
                actor=user,
                slug=slug,
                curriculum=curriculum,
                now=now,
                settings=settings,
                locale=locale,
            )
        with db.write() as write:
            cohort = cohort_for(write, user=user, slug=slug)
            service.export_audit(
                write, actor=user, cohort=cohort, kind="pdf", label=None, rows=0, now=now
            )
        name = export_filename(
            slug,
            translations(locale).gettext("report"),
            None,
            now.astimezone(settings.tz).date(),
            "pdf",
        )
        return name, cohort_report_pdf(report, locale=locale, tz=settings.tz)

    name, pdf = await run_in_threadpool(build)
    return Response(
        pdf,
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'inline; filename="{name}"',
            "Cache-Control": "no-store",
        },
    )


@router.get("/cohorts/{slug}/attendance")
async def attendance_page(
    request: Request,
    slug: str,
    user: FacilitatorDep,
    session: ReadDep,
    day: str = "",
    q: str = "",
) -> Response:
    view = service.attendance_view(session, actor=user, slug=slug, day=day, q=q)
    if is_htmx(request) and request.headers.get("HX-Target") == "attendance-list":
        return render(request, "facilitator/_attendance_list.html", {"view": view})
    return render(request, "facilitator/attendance.html", {"view": view, "cohort": view.cohort})


@router.post("/cohorts/{slug}/attendance")
async def attendance_mark(
    request: Request, slug: str, user: FacilitatorDep, db: DbDep, session: ReadDep, now: NowDep
) -> Response:
    form = await request.form()
    ids = [
        int(v) for v in form.getlist("user") if isinstance(v, str) and v.isdigit() and len(v) < 12
    ]
    day = str(form.get("day", ""))
    present = form.get("present") == "1"
    with db.write() as write:
        cohort, the_day = service.attendance_mark(
            write, actor=user, slug=slug, user_ids=ids, day=day, present=present, now=now
        )
    q = str(form.get("q", ""))[:100]
    if is_htmx(request):
        with db.read() as fresh:
            view = service.attendance_view(fresh, actor=user, slug=slug, day=day, q=q)
        return render(request, "facilitator/_attendance_list.html", {"view": view, "oob": True})
    return redirect(
        request,
        f"/facilitator/cohorts/{slug}/attendance?day={the_day.isoformat()}"
        + (f"&q={quote(q)}" if q else "")
        + (f"#p{ids[0]}" if len(ids) == 1 else ""),
    )


@router.get("/cohorts/{slug}/import")
async def import_form(
    request: Request, slug: str, user: FacilitatorDep, session: ReadDep
) -> Response:
    cohort = cohort_for(session, user=user, slug=slug)
    return render(request, "facilitator/import.html", {"cohort": cohort})


@router.post("/cohorts/{slug}/import", **upload_route("file"))
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
    create_organizations = form.get("create_organizations") == "1"
    # the same limit for reading and parsing: more than it is refused, never cut short
    data = await upload.read(settings.max_upload_bytes + 1)
    parsed = await run_in_threadpool(
        parse_roster,
        data,
        upload.filename,
        max_bytes=settings.max_upload_bytes,
        max_rows=settings.max_roster_rows,
    )

    def write_roster() -> ImportResult:  # thousands of rows: in a worker thread too
        with db.write() as write:
            return service.roster_upload(
                write,
                actor=user,
                slug=slug,
                parsed=parsed,
                dry_run=form.get("action") == "check",
                now=now,
                activation_days=settings.activation_days,
                secret=settings.secret(),
                create_organizations=create_organizations,
            )

    result = await run_in_threadpool(write_roster)
    _ = gettext_for(request).gettext
    problems = [
        {"row": p.row, "column": p.column, "message": _(p.message) % p.values}
        for p in sorted(result.problems, key=lambda p: (p.row, p.column or ""))
    ]
    return render(
        request,
        "facilitator/import.html",
        {
            "cohort": cohort,
            "result": result,
            "problems": problems,
            "filename": upload.filename,
            "create_organizations": create_organizations,
        },
        status_code=422 if problems else 200,
    )


@router.get("/cohorts/{slug}/cards")
async def cards_page(
    request: Request,
    slug: str,
    user: FacilitatorDep,
    session: ReadDep,
    settings: SettingsDep,
    db: DbDep,
    now: NowDep,
    participant: int | None = None,
) -> Response:
    cohort, cards = service.activation_cards(
        session,
        actor=user,
        slug=slug,
        base_url=str(request.base_url),
        secret=settings.secret(),
        participant=participant,
    )
    if participant is not None:
        _accessed(db, user, "cards", now, users=[card.id for card in cards])
    else:
        _accessed(db, user, "cards", now, cohort=cohort.slug)
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
    request: Request,
    slug: str,
    user: FacilitatorDep,
    session: ReadDep,
    settings: SettingsDep,
    db: DbDep,
    now: NowDep,
) -> Response:
    base = str(request.base_url).rstrip("/")
    cohort, cards = service.activation_cards(
        session, actor=user, slug=slug, base_url=base, secret=settings.secret()
    )
    _accessed(db, user, "cards", now, cohort=cohort.slug)
    _ = gettext_for(request).gettext
    locale = getattr(request.state, "locale", settings.default_locale)
    roles = {"official": _("Official"), "spouse": _("Spouse")}
    pdf = await run_in_threadpool(  # drawing a PDF is heavy: not on the event loop
        activation_cards_pdf,
        [
            PdfCard(
                name=c.display_name,
                couple_code=c.couple_code,
                role_label=roles.get(c.partner_role or "", ""),
                code=c.code,
                url=c.url,
                username=c.username,
                valid_until=_("Valid until %(date)s.")
                % {"date": fmt_date(c.expires_at, locale, settings.timezone)},
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
        username_label=_("Username"),
    )
    return Response(
        pdf,
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'inline; filename="kartu-aktivasi-{cohort.slug}.pdf"',
            "Cache-Control": "no-store",
        },
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
    settings: SettingsDep,
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
        context = _list_context(request, session, user, slug, curriculum, now, settings)
        context["error"] = message_text(request, refused)
        return render(request, "facilitator/cohort.html", context, status_code=refused.status)
    back = local_path(str(form.get("next", "")), f"/facilitator/cohorts/{slug}?granted={user_id}")
    return redirect(request, back)


@router.post("/cohorts/{slug}/participants/{user_id}/reissue")
async def reissue_code(
    request: Request,
    slug: str,
    user_id: int,
    user: FacilitatorDep,
    session: ReadDep,
    db: DbDep,
    settings: SettingsDep,
    now: NowDep,
) -> Response:
    """A new activation code. For a participant who already uses their account it resets the
    password, so it is asked for again on a confirmation page (form field ``confirm=1``)."""
    cohort = cohort_for(session, user=user, slug=slug)
    form = await request.form()
    try:
        with db.write() as write:
            activation_reissue(
                write,
                actor=user,
                cohort=cohort,
                user_id=user_id,
                now=now,
                days=settings.activation_days,
                secret=settings.secret(),
                reset_confirmed=form.get("confirm") == "1",
            )
    except ResetUnconfirmed as exc:
        return render(
            request,
            "facilitator/reissue_confirm.html",
            {"cohort": cohort, "person": exc},
        )
    return redirect(request, f"/facilitator/cohorts/{slug}/cards?participant={user_id}")


def _details_page(
    request: Request,
    cohort: Any,
    participant: Any,
    values: dict[str, str],
    status: int = 200,
    error: str | None = None,
    field: str | None = None,
) -> Response:
    return render(
        request,
        "facilitator/participant_details.html",
        {"cohort": cohort, "person": participant, "values": values, "error": error, "field": field},
        status_code=status,
    )


@router.get("/cohorts/{slug}/participants/{user_id}/details")
async def participant_details_form(
    request: Request, slug: str, user_id: int, user: FacilitatorDep, session: ReadDep
) -> Response:
    """Correct a participant's name, position, NIP or contact."""
    cohort = cohort_for(session, user=user, slug=slug)
    participant = participant_for(session, actor=user, user_id=user_id, cohort_id=cohort.id)
    values = {f: getattr(participant, f) or "" for f in DETAIL_FIELDS}
    return _details_page(request, cohort, participant, values)


@router.post("/cohorts/{slug}/participants/{user_id}/details")
async def participant_details(
    request: Request,
    slug: str,
    user_id: int,
    user: FacilitatorDep,
    session: ReadDep,
    db: DbDep,
    now: NowDep,
) -> Response:
    cohort = cohort_for(session, user=user, slug=slug)
    participant = participant_for(session, actor=user, user_id=user_id, cohort_id=cohort.id)
    form = await request.form()
    values = {f: str(form.get(f, "")) for f in DETAIL_FIELDS}
    try:
        with db.write() as write:
            _, code = participant_details_change(
                write, actor=user, cohort=cohort, user_id=user_id, form=values, now=now
            )
    except AppError as exc:
        return _details_page(
            request, cohort, participant, values, exc.status, message_text(request, exc), exc.field
        )
    return redirect(request, f"/facilitator/cohorts/{slug}/couples/{code}?saved=1")


@router.get("/cohorts/{slug}/follow-up")
async def followup_page(
    request: Request,
    slug: str,
    user: FacilitatorDep,
    session: ReadDep,
    curriculum: CurriculumDep,
    now: NowDep,
    settings: SettingsDep,
    step: str = "",
) -> Response:
    workspace = service.workspace_of(
        session,
        actor=user,
        slug=slug,
        curriculum=curriculum,
        now=now,
        settings=settings,
        cache=kept_results(request),
    )
    view = followup_list(
        session,
        workspace=workspace,
        actor=user,
        curriculum=curriculum,
        now=now,
        settings=settings,
        base_url=str(request.base_url),
        step=step,
    )
    locale = request.state.locale
    return render(
        request,
        "facilitator/followup.html",
        {
            **vars(view),
            "cohort": workspace.cohort,
            "now": now,
            "k": settings.min_cell_size,
            "filters": FOLLOWUP_FILTERS,
            "step_name": lambda s: step_name(s, view.plan, locale),
        },
    )


@router.get("/cohorts/{slug}/reflections")
async def reflections_page(
    request: Request, slug: str, user: FacilitatorDep, session: ReadDep, db: DbDep, now: NowDep
) -> Response:
    cohort = cohort_for(session, user=user, slug=slug)
    rows = reflections_of_cohort(session, actor=user, cohort_id=saved_id(cohort))
    _accessed(db, user, "reflections", now, cohort=cohort.slug)
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
    back = local_path(str(form.get("next", "")), f"/facilitator/cohorts/{slug}/reflections")
    return redirect(request, back)
