"""Certificates: the PDF for the participant, the public verification."""

from __future__ import annotations

from fastapi import Request
from sqlalchemy import select
from sqlmodel import Session

from app.accounts.models import User
from app.certificates.models import Certificate
from app.cohorts.models import Cohort, Couple
from app.i18n import fmt_date
from app.web import gettext_for


def certificate_view(session: Session, *, code: str) -> dict | None:
    """What the public may see of a certificate: name, cohort, date, and whether it is valid."""
    if not code or len(code) > 40:
        return None
    row = session.execute(
        select(
            Certificate.code,
            Certificate.issued_at,
            Certificate.revoked_at,
            User.display_name,
            Cohort.title,
            Cohort.workshop_end,
        )
        .join(User, User.id == Certificate.user_id)
        .join(Couple, Couple.id == User.couple_id)
        .join(Cohort, Cohort.id == Couple.cohort_id)
        .where(Certificate.code == code.strip().upper())
    ).first()
    return dict(row._mapping) if row else None


def certificate_document(request: Request, certificate: Certificate) -> bytes:
    from app.certificates.pdf import certificate_pdf

    state = request.app.state
    with state.db.read() as session:
        view = certificate_view(session, code=certificate.code)
    locale = getattr(request.state, "locale", "id")
    _ = gettext_for(request).gettext
    url = str(request.base_url).rstrip("/") + f"/verify/{certificate.code}"
    return certificate_pdf(
        name=view["display_name"],
        cohort=view["title"],
        date_text=fmt_date(view["issued_at"], locale, state.settings.timezone),
        code=certificate.code,
        verify_url=url,
        heading=_("Integrity Family Certificate"),
        body=_(
            "has completed the Integrity Family learning programme together with their "
            "family, and signed the Family Integrity Pledge."
        ),
        verify_label=_("Check that this certificate is valid:"),
    )
