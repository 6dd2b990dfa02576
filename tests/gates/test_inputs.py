"""The input gate (``app.inputs``), finding by finding: the exact requests that gave a 500 on
PostgreSQL or stored a NUL on SQLite, and the values beyond the integer column, the file parts
and the dates that gave the other 500s. Each answers 4xx with the message the reader sees, and
stores nothing. The same tests run on both databases."""

from __future__ import annotations

from html import escape

import pytest
from sqlalchemy import func, select

from app import i18n
from app.accounts.models import AuthSession, LoginFailure, User
from app.audit import AuditLog
from app.cohorts.models import Cohort, Organization, Region
from app.family.models import FamilyReflection
from app.inputs import (
    BAD_DAY,
    FIRST_DAY,
    LAST_DAY,
    NOT_A_FILE,
    OUT_OF_RANGE,
    TOO_LONG,
    clean_text,
    route_spec,
)
from tests.api.conftest import create_token
from tests.conftest import complete, csrf_of, login, take_quiz
from tests.factories import PASSWORD, make_cohort, make_couple, make_user

NOT_ALLOWED_ID = "Isian ini memuat karakter yang tidak diizinkan."
TOO_LONG_ID = "Isian ini terlalu panjang."
FORM = {"content-type": "application/x-www-form-urlencoded"}


def shown(message: str, **values) -> str:
    """A message as the page shows it in Indonesian (the default language), escaped."""
    values = {k: i18n.fmt_date(v, "id") for k, v in values.items()}
    text = i18n.translations("id").gettext(message)
    return escape(text % values if values else text, quote=False)


def count(db, model) -> int:
    with db.read() as session:
        return session.execute(select(func.count()).select_from(model)).scalar_one()


@pytest.fixture
def cohort(mini, settings):
    rina = make_user(mini, settings, "rina", "facilitator")
    return make_cohort(mini, "uji", facilitator=rina)


@pytest.fixture
def admin(cohort, mini, settings, make_client):
    make_user(mini, settings, "pengelola", "admin")
    client = make_client()
    assert login(client, "pengelola", PASSWORD).status_code == 303
    client.csrf = csrf_of(client.get("/admin").text)
    return client


@pytest.fixture
def learner(cohort, mini, settings, make_client):
    """The official of a couple who finished module 1's lessons: the reflection is open."""
    make_couple(mini, settings, cohort, "uji-001")
    client = make_client()
    assert login(client, "uji-001-a", PASSWORD).status_code == 303
    take_quiz(client, mini, "pre-test", right=0.5)
    complete(client, "awal")
    complete(client, "kedua")
    client.csrf = csrf_of(client.get("/family").text)
    return client


# ---------------------------------------------------------------- NUL and control characters


def test_a_nul_in_the_username_is_refused_before_any_sign_in(client, db, settings, cohort):
    make_couple(db, settings, cohort, "budi")
    token = csrf_of(client.get("/login").text)
    response = client.post(
        "/login",
        content=f"username=bu%00di&password={PASSWORD}&csrf_token={token}",
        headers=FORM,
        follow_redirects=False,
    )
    assert response.status_code == 422
    assert NOT_ALLOWED_ID in response.text
    assert count(db, LoginFailure) == 0 and count(db, AuthSession) == 0


def test_a_nul_in_a_certificate_code_is_refused(client):
    response = client.get("/verify/AB%00CD")
    assert response.status_code == 422
    assert NOT_ALLOWED_ID in response.text
    assert client.get("/verify/ABCD").status_code == 404  # an unknown code, as before


def test_a_nul_in_a_reflection_is_refused_and_nothing_is_stored(learner, mini):
    response = learner.post(
        "/family/reflections/satu",
        content=f"text=Kami%00jujur&csrf_token={learner.csrf}",
        headers=FORM,
    )
    assert response.status_code == 422
    assert NOT_ALLOWED_ID in response.text
    assert count(mini, FamilyReflection) == 0


def test_a_nul_in_an_admin_form_is_refused_and_nothing_is_stored(admin, mini):
    regions, audits = count(mini, Region), count(mini, AuditLog)
    response = admin.post(
        "/admin/regions",
        content=f"slug=kota-baru&name=Kota%00Baru&province=Banten&csrf_token={admin.csrf}",
        headers=FORM,
    )
    assert response.status_code == 422
    assert NOT_ALLOWED_ID in response.text
    assert count(mini, Region) == regions and count(mini, AuditLog) == audits


def test_htmx_gets_the_refusal_as_a_fragment(learner, mini):
    response = learner.post(
        "/family/reflections/satu",
        content=f"text=%1B[31m&csrf_token={learner.csrf}",
        headers={**FORM, "HX-Request": "true"},
    )
    assert response.status_code == 422
    assert NOT_ALLOWED_ID in response.text and "<html" not in response.text


def test_newlines_are_kept_in_long_texts_but_refused_in_one_line_fields(learner, admin, mini):
    written = learner.post(
        "/family/reflections/satu",
        data={"text": "Kami sepakat:\r\n\tjujur.", "csrf_token": learner.csrf},
        follow_redirects=False,
    )
    assert written.status_code == 303
    with mini.read() as session:
        assert session.execute(select(FamilyReflection.text)).scalar_one() == (
            "Kami sepakat:\r\n\tjujur."
        )
    refused = admin.post(
        "/admin/regions",
        data={"slug": "kota-baru", "name": "Kota\nBaru", "province": "x", "csrf_token": admin.csrf},
    )
    assert refused.status_code == 422 and NOT_ALLOWED_ID in refused.text
    assert count(mini, Region) == 1


def test_the_anonymous_csrf_check_still_comes_first(client):
    """A forged request is refused as forged (403), whatever its values."""
    response = client.post("/login", content="username=bu%00di", headers=FORM)
    assert response.status_code == 403


# ---------------------------------------------------------------- integers


def test_an_id_beyond_the_integer_column_in_the_path_is_not_found(admin, mini):
    users = count(mini, User)
    response = admin.post(f"/admin/users/{2**70}/active", data={"csrf_token": admin.csrf})
    assert response.status_code == 404
    assert admin.post("/admin/users/999999/active", data={"csrf_token": admin.csrf}).status_code
    assert count(mini, User) == users


def test_an_id_beyond_the_integer_column_in_a_form_is_refused(admin, mini):
    response = admin.post(
        "/admin/organizations",
        data={"region_id": str(2**70), "name": "Dinas Baru", "csrf_token": admin.csrf},
    )
    assert response.status_code == 422
    assert shown(OUT_OF_RANGE) in response.text
    assert count(mini, Organization) == 0
    negative = admin.post(
        "/admin/organizations",
        data={"region_id": str(-(2**63)), "name": "Dinas Baru", "csrf_token": admin.csrf},
    )
    assert negative.status_code == 422 and count(mini, Organization) == 0


def test_a_declared_integer_query_parameter_out_of_range_is_refused(cohort, mini, make_client):
    client = make_client()
    assert login(client, "rina", PASSWORD).status_code == 303
    response = client.get(f"/facilitator/cohorts/uji/cards?participant={2**70}")
    assert response.status_code == 422 and shown(OUT_OF_RANGE) in response.text
    assert client.get("/facilitator/cohorts/uji/cards?participant=2147483647").status_code == 200


def test_a_huge_attempt_id_in_a_quiz_answer_is_refused(learner, mini):
    page = learner.get("/learn/quizzes/kuis-satu").text
    learner.post("/learn/quizzes/kuis-satu/start", data={"csrf_token": csrf_of(page)})
    response = learner.post(
        "/learn/quizzes/kuis-satu/save",
        data={"attempt_id": str(2**70), "csrf_token": learner.csrf},
    )
    assert response.status_code == 422 and shown(OUT_OF_RANGE) in response.text


# ---------------------------------------------------------------- files where text is expected


def test_a_file_in_a_text_field_is_refused_and_nothing_is_stored(learner, mini):
    response = learner.post(
        "/family/reflections/satu",
        data={"csrf_token": learner.csrf},
        files={"text": ("refleksi.txt", b"Kami sepakat jujur.", "text/plain")},
    )
    assert response.status_code == 422
    assert shown(NOT_A_FILE) in response.text
    assert count(mini, FamilyReflection) == 0


def test_a_file_on_a_route_that_takes_none_is_refused(admin, mini):
    response = admin.post(
        "/admin/regions",
        data={"slug": "kota-baru", "name": "Kota Baru", "province": "x", "csrf_token": admin.csrf},
        files={"lampiran": ("a.csv", b"x", "text/csv")},
    )
    assert response.status_code == 422 and shown(NOT_A_FILE) in response.text
    assert count(mini, Region) == 1


def test_the_roster_upload_still_takes_its_file(cohort, mini, make_client):
    client = make_client()
    assert login(client, "rina", PASSWORD).status_code == 303
    page = client.get("/facilitator/cohorts/uji/import")
    response = client.post(
        "/facilitator/cohorts/uji/import",
        data={"csrf_token": csrf_of(page.text), "action": "check"},
        files={"file": ("daftar.csv", b"kode,nama\n", "text/csv")},
    )
    assert response.status_code != 422 or shown(NOT_A_FILE) not in response.text
    assert response.status_code < 500


# ---------------------------------------------------------------- dates


@pytest.mark.parametrize("day", ["0001-01-01", "9999-12-31"])
def test_a_date_outside_2000_to_2100_is_refused_and_the_cohort_kept(admin, mini, day):
    with mini.read() as session:
        before = session.execute(select(Cohort)).scalar_one().model_dump()
    form = {
        "code_prefix": "UJI",
        "region_id": str(before["region_id"]),
        "title": "Angkatan uji",
        "venue": "Aula",
        "workshop_start": before["workshop_start"].isoformat(),
        "workshop_end": before["workshop_end"].isoformat(),
        "pre_opens": day,
        "post_closes": day,
        "csrf_token": admin.csrf,
    }
    response = admin.post("/admin/cohorts/uji", data=form)
    assert response.status_code == 422
    assert shown(BAD_DAY, first=FIRST_DAY, last=LAST_DAY) in response.text
    assert "1 Januari 2000" in shown(BAD_DAY, first=FIRST_DAY, last=LAST_DAY)
    with mini.read() as session:
        assert session.execute(select(Cohort)).scalar_one().model_dump() == before


def test_a_date_that_does_not_exist_is_left_to_the_form(admin, mini):
    """2024-02-30 is in range but no date: the administration's own message, beside it."""
    response = admin.post(
        "/admin/cohorts/uji",
        data={"workshop_start": "2024-02-30", "csrf_token": admin.csrf},
    )
    assert response.status_code == 422


# ---------------------------------------------------------------- lengths


def test_an_overlong_field_is_refused(client, db):
    token = csrf_of(client.get("/login").text)
    response = client.post("/login", data={"username": "b" * 201, "csrf_token": token})
    assert response.status_code == 422
    assert TOO_LONG_ID in response.text and shown(TOO_LONG) == TOO_LONG_ID
    assert count(db, LoginFailure) == 0


def test_a_password_may_be_as_long_as_the_form_allows(client, db):
    token = csrf_of(client.get("/login").text)
    response = client.post(
        "/login", data={"username": "budi", "password": "p" * 256, "csrf_token": token}
    )
    assert response.status_code != 422 or TOO_LONG_ID not in response.text


def test_an_overlong_path_value_is_not_found(client):
    assert client.get("/verify/" + "A" * 300).status_code == 404


# ---------------------------------------------------------------- the JSON API


def test_the_api_refuses_a_control_character_naming_the_parameter(client, db):
    token = create_token(db, "dasbor")
    response = client.get("/api/v1/funnel?province=Ban%C2%85ten", headers=token.headers)
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["detail"] == "This field contains characters that are not allowed."
    assert body["errors"] == [{"parameter": "query.province", "problem": body["detail"]}]


def test_the_api_keeps_its_own_max_length(client, db):
    token = create_token(db, "dasbor")
    response = client.get("/api/v1/organizations?region=" + "a" * 65, headers=token.headers)
    assert response.status_code == 422
    assert response.json()["errors"][0]["parameter"] == "query.region"


def test_the_api_without_a_token_is_still_401(client):
    assert client.get("/api/v1/funnel?province=%00").status_code == 401


# ---------------------------------------------------------------- bidirectional overrides


def test_clean_text_removes_bidirectional_overrides_only():
    assert clean_text("Budi\u202egnp.exe") == "Budignp.exe"
    assert clean_text("\u2066Sari\u2069 \u202a\u202b\u202c\u202d") == "Sari "
    assert clean_text("عربية \u200f ok") == "عربية \u200f ok"  # RTL text and marks stay


def test_bidi_overrides_are_removed_from_reflections(learner, mini):
    response = learner.post(
        "/family/reflections/satu",
        data={"text": "Kami \u202ejujur\u202c sekali.", "csrf_token": learner.csrf},
        follow_redirects=False,
    )
    assert response.status_code == 303
    with mini.read() as session:
        assert session.execute(select(FamilyReflection.text)).scalar_one() == "Kami jujur sekali."


def test_bidi_overrides_are_removed_from_names(admin, mini):
    response = admin.post(
        "/admin/users",
        data={
            "username": "fasilitator-baru",
            "name": "\u202eirtS\u202c Wahyuni",
            "role": "facilitator",
            "password": "kata-sandi-baru-42",
            "csrf_token": admin.csrf,
        },
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text[:2000]
    with mini.read() as session:
        name = session.execute(
            select(User.display_name).where(User.username == "fasilitator-baru")
        ).scalar_one()
    assert name == "irtS Wahyuni"


# ---------------------------------------------------------------- worked out once per route


def test_the_route_is_worked_out_once(app):
    from fastapi.routing import APIRoute

    try:
        from fastapi.routing import iter_route_contexts

        routes = [c.original_route for c in iter_route_contexts(app.routes)]
    except ImportError:  # a FastAPI that keeps included routes flat
        routes = list(app.routes)
    login_route = next(
        r for r in routes if isinstance(r, APIRoute) and r.path == "/login" and "POST" in r.methods
    )
    spec = route_spec(login_route)
    assert route_spec(login_route) is spec
    assert set(spec.form) == {"username", "password", "next"}
    cards = next(r for r in routes if isinstance(r, APIRoute) and r.path.endswith("/cards"))
    assert route_spec(cards).query["participant"].kind == "int"
