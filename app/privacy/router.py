from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response
from sqlmodel import Session

from app.accounts.models import CurrentUser
from app.config import Settings
from app.deps import (
    AdminDep,
    CurrentUserDep,
    DbDep,
    FacilitatorDep,
    NowDep,
    ReadDep,
    SettingsDep,
    WriteDep,
)
from app.errors import AppError, Forbidden, LoginRequired
from app.i18n import N_
from app.privacy import erasure, mydata, service
from app.web import download, form_error, message_text, redirect, render, safe_next

router = APIRouter()

SOURCE_NAMES = {
    "participant": N_("Withdrawn by the participant"),
    "letter": N_("By letter"),
    "retention": N_("Retention period over"),
}
STATUS_NAMES = {"open": N_("Open"), "done": N_("Erased"), "cancelled": N_("Cancelled")}


def notice_for(request: Request, session: Session, settings: Settings) -> service.NoticeView | None:
    return service.notice_shown(
        session,
        locale=request.state.locale,
        years=settings.retention_years,
        k=settings.min_cell_size,
    )


@router.get("/privacy")
async def privacy(
    request: Request, user: CurrentUserDep, session: ReadDep, settings: SettingsDep
) -> Response:
    """The privacy notice, for anyone (signed in or not; a participant reads their cohort's
    local government as the controller)."""
    return render(
        request,
        "privacy/notice.html",
        {
            "notice": notice_for(request, session, settings),
            "controller": service.controller_of(session, user=user),
        },
    )


def _consent_context(
    request: Request, session: Session, settings: Settings, next_url: str
) -> dict[str, Any]:
    user = request.state.user
    return {
        "notice": notice_for(request, session, settings),
        "next": safe_next(next_url) or "",
        "renewed": user.consent_version is not None,
        "pending": erasure.request_of(session, user_id=user.id),
    }


@router.get("/privacy/consent")
async def consent_form(
    request: Request,
    user: CurrentUserDep,
    session: ReadDep,
    settings: SettingsDep,
    next: str = "",  # noqa: A002
) -> Response:
    """The question at sign-in: the newest notice, and a box to tick."""
    _owner(request, user)
    if not request.state.consent_due:
        return redirect(request, safe_next(next) or "/")
    return render(
        request, "privacy/consent.html", _consent_context(request, session, settings, next)
    )


@router.post("/privacy/consent")
async def consent(
    request: Request,
    user: CurrentUserDep,
    db: DbDep,
    settings: SettingsDep,
    now: NowDep,
    version: str = Form(""),
    consent: str = Form(""),
    next: str = Form(""),  # noqa: A002
) -> Response:
    """Agree to the notice shown (its version travels with the form: a notice published
    meanwhile is shown and asked again)."""
    owner = _owner(request, user)
    with db.read() as session:
        context = _consent_context(request, session, settings, next)
    notice = context["notice"]
    if notice is None:
        return redirect(request, safe_next(next) or "/")
    if version != str(notice.version):
        return form_error(
            request,
            "privacy/consent.html",
            context,
            AppError(
                409,
                N_("The privacy notice was just updated. Read the new version below."),
                field="consent",
            ),
        )
    if consent != "yes":
        return form_error(request, "privacy/consent.html", context, service.ConsentMissing())
    with db.write() as session:
        service.consent_give(session, user_id=owner.id, version=notice.version, now=now)
    return redirect(request, safe_next(next) or "/")


# ---------------------------------------------------------------- my data


def _owner(request: Request, user: CurrentUser | None) -> CurrentUser:
    """Whoever is signed in: their own data, also before they agree to a new notice (and
    after they withdraw their consent)."""
    if user is None:
        raise LoginRequired
    return user


@router.get("/account/data")
async def my_data_page(
    request: Request, user: CurrentUserDep, session: ReadDep, saved: str = ""
) -> Response:
    """Everything stored about the signed-in person, with the downloads."""
    mine = _mine(request, session, _owner(request, user))
    return render(request, "privacy/my_data.html", {**mine, "saved": saved == "1", "contact": None})


def _mine(request: Request, session: Session, owner: CurrentUser) -> dict[str, Any]:
    """What /account/data shows: the person's data, an open erasure request, and who on the
    staff opened the person's data."""
    data = mydata.my_data(session, user=owner, locale=request.state.locale)
    return {
        "data": data,
        "pending": erasure.request_of(session, user_id=owner.id),
        "accesses": service.accesses_of(
            session, user_id=owner.id, cohort=data.couple.cohort if data.couple else None
        ),
    }


def _file_name(owner: CurrentUser, settings: Settings, now: datetime, kind: str) -> str:
    """``data-saya-<username>-<day>.<kind>``: whose data a download is, and from when."""
    return f"data-saya-{owner.username}-{now.astimezone(settings.tz).date().isoformat()}.{kind}"


@router.get("/account/data.json")
async def my_data_json(
    request: Request, user: CurrentUserDep, session: ReadDep, settings: SettingsDep, now: NowDep
) -> Response:
    """The same, as a JSON file to keep or to take elsewhere."""
    owner = _owner(request, user)
    data = mydata.my_data(session, user=owner, locale=request.state.locale)
    body = json.dumps(mydata.as_json(data, generated_at=now), ensure_ascii=False, indent=2)
    return download(_file_name(owner, settings, now, "json"), iter([body.encode()]), "json")


@router.post("/account/data/contact")
async def my_contact(
    request: Request,
    user: CurrentUserDep,
    db: DbDep,
    now: NowDep,
    contact: str = Form(""),
) -> Response:
    """Correct one's own phone number or e-mail address."""
    owner = _owner(request, user)
    try:
        with db.write() as session:
            mydata.contact_correct(session, user=owner, text=contact, now=now)
    except mydata.ContactRefused as exc:
        with db.read() as session:
            mine = _mine(request, session, owner)
        return form_error(
            request, "privacy/my_data.html", {**mine, "saved": False, "contact": contact}, exc
        )
    return redirect(request, "/account/data?saved=1#contact")


@router.get("/account/data.html")
async def my_data_html(
    request: Request, user: CurrentUserDep, session: ReadDep, settings: SettingsDep, now: NowDep
) -> Response:
    """The same as a web page of its own, to keep or print (it needs no connection)."""
    owner = _owner(request, user)
    data = mydata.my_data(session, user=owner, locale=request.state.locale)
    page = render(request, "privacy/my_data_file.html", {"data": data, "generated_at": now})
    page.headers["Content-Disposition"] = (
        f'attachment; filename="{_file_name(owner, settings, now, "html")}"'
    )
    return page


# ---------------------------------------------------------------- withdrawal and erasure


@router.post("/account/data/withdraw")
async def my_consent_withdraw(
    request: Request,
    user: CurrentUserDep,
    db: DbDep,
    now: NowDep,
    understood: str = Form(""),
) -> Response:
    """Withdraw one's consent: an erasure request, due in 3 × 24 hours."""
    owner = _owner(request, user)
    if owner.role != "participant":
        raise Forbidden
    if understood != "yes":
        with db.read() as session:
            mine = _mine(request, session, owner)
        return form_error(
            request,
            "privacy/my_data.html",
            {**mine, "saved": False, "contact": None},
            AppError(
                422,
                N_("Tick the box to say that you understand what withdrawing means."),
                field="understood",
            ),
        )
    with db.write() as session:
        erasure.consent_withdraw(session, user=owner, now=now)
    return redirect(request, "/account/data#withdraw")


def _requests_page(
    request: Request, session: Session, user: CurrentUser, now: datetime, **extra: Any
) -> Response:
    return render(
        request,
        "privacy/requests.html",
        {
            "rows": erasure.requests_visible_to(session, actor=user),
            "now": now,
            "admin": user.role == "admin",
            "source_names": SOURCE_NAMES,
            "status_names": STATUS_NAMES,
            **extra,
        },
    )


@router.get("/privacy/requests")
async def erasure_requests(
    request: Request, user: FacilitatorDep, session: ReadDep, now: NowDep
) -> Response:
    """Erasure requests with the time left: every one for an administrator, their cohorts'
    for a facilitator."""
    return _requests_page(request, session, user, now)


@router.post("/privacy/requests")
async def erasure_request_letter(
    request: Request,
    user: AdminDep,
    db: DbDep,
    now: NowDep,
    username: str = Form(""),
    note: str = Form(""),
) -> Response:
    """A request received by letter, entered by an administrator."""
    try:
        with db.write() as session:
            erasure.request_by_letter(session, actor=user, username=username, note=note, now=now)
    except AppError as exc:
        with db.read() as session:
            page = _requests_page(
                request,
                session,
                user,
                now,
                username=username[:64],
                note=note[:300],
                error=message_text(request, exc),
                field=exc.field,
            )
        page.status_code = exc.status
        return page
    return redirect(request, "/privacy/requests")


@router.post("/privacy/requests/{request_id}/erase")
async def erasure_carry_out(
    request: Request, user: AdminDep, session: WriteDep, now: NowDep, request_id: int
) -> Response:
    """Carry out a request: the person's identifying data erased, in one action."""
    erasure.request_carry_out(session, actor=user, request_id=request_id, now=now)
    return redirect(request, "/privacy/requests")
