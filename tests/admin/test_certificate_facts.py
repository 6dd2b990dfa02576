"""The cohort form's certificate facts: JP, their rounding, organizers, the signatory and a
signature image; a refusal names its field and changes nothing."""

from __future__ import annotations

import io

import pytest
from PIL import Image
from sqlalchemy import select

from app.accounts.models import AuditLog
from app.cohorts.models import Cohort
from tests.conftest import csrf_of, login
from tests.factories import PASSWORD, make_cohort, make_user

FACTS = ("jp_workshop", "jp_rounding", "organizers", "signatory_name", "signatory_title")


def _image(kind: str = "PNG", size: tuple[int, int] = (300, 100)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, "white").save(buf, kind)
    return buf.getvalue()


@pytest.fixture
def admin(client, db, settings):
    make_user(db, settings, "kepala", "admin", locale="en")
    make_cohort(db, "uji")
    login(client, "kepala", PASSWORD)
    return client


def _form(client) -> dict[str, str]:
    page = client.get("/admin/cohorts/uji")
    assert page.status_code == 200
    with client.app.state.db.read() as session:
        cohort = session.execute(select(Cohort)).scalar_one()
        return {
            "csrf_token": csrf_of(page.text),
            "code_prefix": cohort.code_prefix,
            "region_id": str(cohort.region_id),
            "title": cohort.title,
            "venue": cohort.venue,
            "workshop_start": cohort.workshop_start.isoformat(),
            "workshop_end": cohort.workshop_end.isoformat(),
            "pre_opens": "2000-01-01",
            "post_closes": "2100-01-01",
            "jp_workshop": "16",
            "jp_rounding": "up",
            "organizers": "Pemerintah Kota Uji dan Komisi Pemberantasan Korupsi",
            "signatory_title": "Sekretaris Daerah Kota Uji",
            "signatory_name": "Nama Contoh, S.H.",
        }


def _saved(db) -> tuple:
    with db.read() as session:
        return session.execute(
            select(*(getattr(Cohort, name) for name in FACTS), Cohort.signature_type)
        ).one()


def _signature(db) -> bytes | None:
    with db.read() as session:
        return session.execute(select(Cohort.signature_image)).scalar_one()


def test_the_form_saves_the_facts_and_a_signature_image(admin, db):
    page = admin.get("/admin/cohorts/uji").text
    assert 'enctype="multipart/form-data"' in page and 'name="jp_workshop"' in page
    assert _saved(db) == (0, "nearest", "", None, None, None)  # a new cohort's defaults
    png = _image()
    saved = admin.post(
        "/admin/cohorts/uji",
        data=_form(admin),
        files={"signature": ("ttd.png", png, "image/png")},
        follow_redirects=False,
    )
    assert saved.status_code == 303, saved.text
    assert _saved(db) == (
        16,
        "up",
        "Pemerintah Kota Uji dan Komisi Pemberantasan Korupsi",
        "Nama Contoh, S.H.",
        "Sekretaris Daerah Kota Uji",
        "image/png",
    )
    assert _signature(db) == png
    with db.read() as session:
        log = session.execute(
            select(AuditLog).where(AuditLog.action == "cohort.update")
        ).scalar_one()
    assert log.detail["jp_workshop"] == "16" and log.detail["jp_rounding"] == "up"
    assert log.detail["signature"] == f"image/png, {len(png)} bytes"
    assert "A signature image is saved" in admin.get("/admin/cohorts/uji").text

    # saved again without a new file: the image stays; an empty name is no name
    again = admin.post(
        "/admin/cohorts/uji",
        data={**_form(admin), "signatory_name": " "},
        files={"signature": ("", b"", "application/octet-stream")},
        follow_redirects=False,
    )
    assert again.status_code == 303
    assert _signature(db) == png and _saved(db)[3] is None

    # a JPEG replaces it; "remove" takes it away
    jpeg = _image("JPEG")
    admin.post(
        "/admin/cohorts/uji",
        data=_form(admin),
        files={"signature": ("ttd.jpg", jpeg, "image/jpeg")},
    )
    assert _signature(db) == jpeg and _saved(db)[-1] == "image/jpeg"
    removed = admin.post(
        "/admin/cohorts/uji",
        data={**_form(admin), "remove_signature": "1"},
        files={"signature": ("", b"", "application/octet-stream")},
        follow_redirects=False,
    )
    assert removed.status_code == 303
    assert _signature(db) is None and _saved(db)[-1] is None
    with db.read() as session:
        details = session.execute(
            select(AuditLog.detail).where(AuditLog.action == "cohort.update")
        ).scalars()
        assert [d.get("signature") for d in details][-1] == "removed"


def test_without_javascript_a_plain_form_keeps_what_it_does_not_send(admin, db):
    admin.post("/admin/cohorts/uji", data=_form(admin), files={"signature": ("t.png", _image())})
    plain = {k: v for k, v in _form(admin).items() if k not in FACTS}
    changed = admin.post(
        "/admin/cohorts/uji", data={**plain, "title": "Judul baru"}, follow_redirects=False
    )
    assert changed.status_code == 303
    assert _saved(db)[0] == 16 and _signature(db) is not None


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("jp_workshop", "201", "from 0 to 200"),
        ("jp_workshop", "-1", "from 0 to 200"),
        ("jp_workshop", "2.5", "from 0 to 200"),
        ("jp_workshop", "", "from 0 to 200"),
        ("jp_workshop", "enam belas", "from 0 to 200"),
        ("jp_rounding", "half-up", "Choose how the e-learning JP are rounded."),
        # longer than 200 characters: the input gate answers before the form (its page)
        ("organizers", "K" * 201, "This field is too long."),
        ("signatory_name", "N" * 201, "This field is too long."),
        ("signatory_title", "T" * 201, "This field is too long."),
    ],
)
def test_bad_input_is_refused_beside_its_field_and_nothing_changes(
    admin, db, field, value, message
):
    before = _saved(db)
    refused = admin.post(
        "/admin/cohorts/uji",
        data={**_form(admin), field: value},
        files={"signature": ("ttd.png", _image(), "image/png")},
    )
    assert refused.status_code == 422 and message in refused.text
    if len(value) <= 200:
        assert f'id="f-{field}-error"' in refused.text
    assert _saved(db) == before and _signature(db) is None


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("ttd.gif", _image("GIF"), "PNG or JPEG"),
        ("ttd.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, "PNG or JPEG"),  # PNG only by name
        ("ttd.png", b"not an image at all", "PNG or JPEG"),
        ("ttd.png", b"", "PNG or JPEG"),
        ("ttd.png", _image(size=(3000, 2000)), "PNG or JPEG"),  # more pixels than a signature
        ("ttd.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * (200 * 1024), "at most 200 KB"),
    ],
)
def test_a_bad_signature_image_is_refused_and_nothing_changes(admin, db, name, data, message):
    before = _saved(db)
    refused = admin.post(
        "/admin/cohorts/uji",
        data={**_form(admin), "jp_workshop": "20"},
        files={"signature": (name, data, "image/png")},
    )
    assert refused.status_code == 422
    assert 'id="f-signature-error"' in refused.text and message in refused.text
    assert _saved(db) == before and _signature(db) is None
    with db.read() as session:
        assert (
            session.execute(select(AuditLog.id).where(AuditLog.action == "cohort.update")).first()
            is None
        )


def test_the_service_refuses_long_names_itself(db, settings):
    from datetime import UTC, datetime

    from app.admin.service import AdminError, cohort_update
    from tests.factories import SETTINGS, actor

    boss = actor(make_user(db, settings, "boss", "admin"))
    make_cohort(db, "uji")
    with db.read() as session:
        cohort = session.execute(select(Cohort)).scalar_one()
        form = {
            "code_prefix": cohort.code_prefix,
            "region_id": str(cohort.region_id),
            "title": cohort.title,
            "venue": cohort.venue,
            "workshop_start": cohort.workshop_start.isoformat(),
            "workshop_end": cohort.workshop_end.isoformat(),
            "pre_opens": "2000-01-01",
            "post_closes": "2100-01-01",
        }
    for field in ("organizers", "signatory_name", "signatory_title"):
        with pytest.raises(AdminError) as refused, db.write() as session:
            cohort_update(
                session,
                slug="uji",
                form={**form, field: "x" * 201},
                actor=boss,
                now=datetime.now(UTC),
                tz=SETTINGS.tz,
            )
        assert refused.value.field == field
    assert _saved(db) == (0, "nearest", "", None, None, None)


def test_a_new_cohort_takes_the_facts_too(admin, db):
    form = {
        **_form(admin),
        "slug": "baru",
        "code_prefix": "BARU",
        "jp_workshop": "8",
        "jp_rounding": "down",
    }
    form["csrf_token"] = csrf_of(admin.get("/admin").text)
    made = admin.post(
        "/admin/cohorts",
        data=form,
        files={"signature": ("ttd.png", _image(), "image/png")},
        follow_redirects=False,
    )
    assert made.status_code == 303 and made.headers["location"] == "/admin/cohorts/baru"
    with db.read() as session:
        cohort = session.execute(select(Cohort).where(Cohort.slug == "baru")).scalar_one()
        assert (cohort.jp_workshop, cohort.jp_rounding, cohort.signature_type) == (
            8,
            "down",
            "image/png",
        )
    bad = admin.post(
        "/admin/cohorts",
        data={**form, "slug": "lain", "jp_workshop": "999"},
    )
    assert bad.status_code == 422 and "from 0 to 200" in bad.text
    with db.read() as session:
        assert session.execute(select(Cohort.id).where(Cohort.slug == "lain")).first() is None
