"""The administrator's cohort page: dates, facilitators, and refusals that change nothing."""

from __future__ import annotations

from sqlalchemy import select

from app.cohorts.models import Cohort, CohortFacilitator
from tests.conftest import csrf_of, login
from tests.factories import PASSWORD, make_cohort, make_user


def test_admin_edits_a_cohort_and_assigns_a_facilitator(client, db, settings):
    make_user(db, settings, "kepala", "admin")
    rina = make_user(db, settings, "rina", "facilitator")
    make_cohort(db, "uji")
    login(client, "kepala", PASSWORD)
    page = client.get("/admin/cohorts/uji")
    assert page.status_code == 200 and "Rina" in page.text
    token = csrf_of(page.text)

    bad = client.post("/admin/cohorts/uji/facilitators", data={"user_id": "x", "csrf_token": token})
    assert bad.status_code == 422
    added = client.post(
        "/admin/cohorts/uji/facilitators",
        data={"user_id": str(rina.id), "csrf_token": token},
        follow_redirects=False,
    )
    assert added.status_code == 303 and added.headers["location"] == "/admin/cohorts/uji"
    with db.read() as session:
        assert session.execute(select(CohortFacilitator.user_id)).scalars().all() == [rina.id]

    with db.read() as session:
        before = session.execute(select(Cohort.title, Cohort.workshop_end)).one()
    form = {
        "code_prefix": "UJI",
        "region_id": "1",
        "title": "Angkatan baru",
        "venue": "Aula",
        "workshop_start": "2026-10-14",
        "workshop_end": "2026-10-13",
        "pre_opens": "2026-09-30",
        "post_closes": "2026-11-30",
        "csrf_token": token,
    }
    refused = client.post("/admin/cohorts/uji", data=form)
    assert refused.status_code == 422
    assert "Lokakarya tidak bisa berakhir sebelum dimulai" in refused.text
    with db.read() as session:
        assert session.execute(select(Cohort.title, Cohort.workshop_end)).one() == before
    changed = client.post(
        "/admin/cohorts/uji", data={**form, "workshop_end": "2026-10-15"}, follow_redirects=False
    )
    assert changed.status_code == 303
    with db.read() as session:
        assert session.execute(select(Cohort.title)).scalar_one() == "Angkatan baru"
    assert client.get("/admin/cohorts/tidak-ada").status_code == 404
