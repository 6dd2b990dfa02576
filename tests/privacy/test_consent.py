"""The privacy notice and consent (UU No. 27 Tahun 2022): explicit consent at activation or
nothing is written; every consent names the notice version; a new version asks everyone
again at their next sign-in; staff accept it at their first; the notice is public."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime

import pytest
import yaml
from sqlalchemy import func, select

from app.accounts.models import AuditLog, User
from app.cohorts.models import ActivationCode
from app.cohorts.service import activation_issue
from app.curriculum.content import load_content
from app.curriculum.sync import SyncRefused, sync_content
from app.db import metadata
from app.privacy.models import ConsentRecord, PrivacyNotice
from tests.conftest import FIXTURE_CONTENT, SECRET, csrf_of, login
from tests.factories import PASSWORD, make_cohort, make_couple, make_user

NOW = datetime(2026, 3, 2, 3, 0, tzinfo=UTC)


@pytest.fixture
def newcomer(mini, settings, time_machine):
    """A participant who has not activated the account (nor agreed to anything) and the
    code of their card."""
    time_machine.move_to(NOW, tick=False)
    fasi = make_user(mini, settings, "rina", "facilitator")
    official, _ = make_couple(mini, settings, make_cohort(mini, "uji", facilitator=fasi), "t-001")
    with mini.write() as session:
        user = session.get(User, official.id)
        user.password_hash, user.consent_version = None, None
        code = activation_issue(session, user_id=official.id, now=NOW, days=30, secret=SECRET)
    return official, code


def table_counts(db) -> dict[str, int]:
    with db.read() as session:
        return {
            t.name: session.execute(select(func.count()).select_from(t)).scalar_one()
            for t in metadata.sorted_tables
        }


def activate(client, code, **extra):
    page = client.get(f"/activate?code={code}")
    form = {"code": code, "password": "rumah-jujur-2026", "password2": "rumah-jujur-2026"}
    return page, client.post(
        "/activate",
        data={**form, "csrf_token": csrf_of(page.text), **extra},
        follow_redirects=False,
    )


def consents(db, user_id: int) -> list[tuple[int, str]]:
    with db.read() as session:
        return [
            (r.notice_version, r.action)
            for r in session.execute(
                select(ConsentRecord)
                .where(ConsentRecord.user_id == user_id)
                .order_by(ConsentRecord.id)
            ).scalars()
        ]


def test_activation_without_consent_is_refused_and_writes_nothing(client, mini, newcomer):
    official, code = newcomer
    before = table_counts(mini)
    page, answer = activate(client, code)
    # the notice is on the page, in short and whole, and the box is not ticked beforehand
    assert "Pemberitahuan Privasi" in page.text and "Baca pemberitahuan lengkap" in page.text
    box = page.text[page.text.index('id="consent"') - 40 :]
    assert 'type="checkbox"' in box[:120] and "checked" not in box[: box.index(">")]
    assert answer.status_code == 422
    assert "Centang kotak" in answer.text and 'aria-invalid="true"' in answer.text
    assert "kb_session" not in answer.headers.get("set-cookie", "")
    assert table_counts(mini) == before
    with mini.read() as session:
        user = session.get(User, official.id)
        assert user.password_hash is None and user.consent_version is None
        code_row = session.execute(
            select(ActivationCode).where(ActivationCode.user_id == official.id)
        ).scalar_one()
        assert code_row.used_at is None
    # a box sent with another value is no consent either
    _, again = activate(client, code, consent="on")
    assert again.status_code == 422 and table_counts(mini) == before


def test_activation_with_consent_records_the_notice_version(client, mini, newcomer):
    official, code = newcomer
    _, answer = activate(client, code, consent="yes")
    assert answer.status_code == 303 and answer.headers["location"] == "/learn"
    assert client.get("/learn").status_code == 200
    assert consents(mini, official.id) == [(1, "given")]
    with mini.read() as session:
        assert session.get(User, official.id).consent_version == 1
        record = session.execute(select(ConsentRecord)).scalar_one()
        assert record.at == NOW
        audit = session.execute(
            select(AuditLog).where(AuditLog.action == "privacy.consent")
        ).scalar_one()
        assert audit.detail == {"notice_version": 1} and audit.target == f"user:{official.id}"


def publish(db, tmp_path, *, version: int, change: str) -> None:
    """The fixture content again, its privacy notice with another text (and version)."""
    root = tmp_path / f"content-{version}-{abs(hash(change))}"
    shutil.copytree(FIXTURE_CONTENT, root)
    path = root / "privacy.yaml"
    data = yaml.safe_load(path.read_text("utf-8"))
    data["version"] = version
    data["summary"][0]["id"] += " " + change
    path.write_text(yaml.safe_dump(data, allow_unicode=True), "utf-8")
    content, problems = load_content(root)
    assert not problems, problems
    sync_content(db, content)


def test_a_new_notice_asks_again_at_the_next_sign_in(client, mini, settings, tmp_path):
    cohort = make_cohort(mini, "uji")
    official, _ = make_couple(mini, settings, cohort, "t-001")
    login(client, official.username, PASSWORD)
    assert client.get("/learn").status_code == 200
    publish(mini, tmp_path, version=2, change="Ada perubahan.")
    with mini.read() as session:
        assert session.execute(select(func.max(PrivacyNotice.version))).scalar() == 2
    # every page but the notice, the question and signing out waits for the answer
    asked = client.get("/learn/results", follow_redirects=False)
    assert asked.status_code == 303
    assert asked.headers["location"] == "/privacy/consent?next=/learn/results"
    htmx = client.get("/learn", headers={"HX-Request": "true"}, follow_redirects=False)
    assert htmx.headers["HX-Redirect"].startswith("/privacy/consent")
    question = client.get(asked.headers["location"])
    assert question.status_code == 200
    assert (
        "Pemberitahuan privasi telah berubah" in question.text and "Ada perubahan." in question.text
    )
    assert client.get("/privacy").status_code == 200
    form = {"csrf_token": csrf_of(question.text), "version": "2", "next": "/learn/results"}
    refused = client.post("/privacy/consent", data=form, follow_redirects=False)
    assert refused.status_code == 422 and "Centang kotak" in refused.text
    # an answer to an older version than the one published is asked again
    stale = client.post(
        "/privacy/consent", data={**form, "version": "1", "consent": "yes"}, follow_redirects=False
    )
    assert stale.status_code == 409 and "baru saja diperbarui" in stale.text
    agreed = client.post(
        "/privacy/consent", data={**form, "consent": "yes"}, follow_redirects=False
    )
    assert agreed.status_code == 303 and agreed.headers["location"] == "/learn/results"
    assert client.get("/learn/results").status_code == 200
    assert consents(mini, official.id) == [(2, "given")]
    # the question is not asked again
    assert client.get("/privacy/consent", follow_redirects=False).status_code == 303


def test_a_published_version_keeps_its_words(mini, tmp_path):
    publish(mini, tmp_path, version=2, change="Versi dua.")
    with pytest.raises(SyncRefused, match="version 2 of the privacy notice is already published"):
        publish(mini, tmp_path, version=2, change="Diubah diam-diam.")
    with pytest.raises(SyncRefused, match="version 1 of the privacy notice is already published"):
        publish(mini, tmp_path, version=1, change="Mundur.")
    publish(mini, tmp_path, version=5, change="Versi lima.")
    with pytest.raises(SyncRefused, match="version 3 is older than the published version 5"):
        publish(mini, tmp_path, version=3, change="Terselip.")
    with mini.read() as session:
        versions = session.execute(select(PrivacyNotice.version).order_by(PrivacyNotice.version))
        assert versions.scalars().all() == [1, 2, 5]


@pytest.mark.parametrize(
    "role,home", [("facilitator", "/facilitator"), ("kpk", "/kpk"), ("admin", "/admin")]
)
def test_staff_accept_the_notice_at_their_first_sign_in(client, mini, settings, role, home):
    staff = make_user(mini, settings, "staf", role, consent_version=None)
    signed_in = login(client, "staf", PASSWORD)
    assert signed_in.status_code == 303
    first = client.get(signed_in.headers["location"], follow_redirects=False)
    assert first.status_code == 303 and first.headers["location"].startswith("/privacy/consent")
    question = client.get(first.headers["location"])
    assert "Sebelum melanjutkan" in question.text
    agreed = client.post(
        "/privacy/consent",
        data={"csrf_token": csrf_of(question.text), "version": "1", "consent": "yes", "next": home},
        follow_redirects=False,
    )
    assert agreed.headers["location"] == home
    assert client.get(home).status_code == 200
    assert consents(mini, staff.id) == [(1, "given")]


def test_the_notice_is_public_in_both_languages(client, mini, settings):
    page = client.get("/privacy")
    assert page.status_code == 200
    text_id = page.text
    assert "Pemberitahuan Privasi" in text_id and "UU No. 27 Tahun 2022" in text_id
    assert "paling lama <strong>5 tahun</strong>" in text_id  # APP_RETENTION_YEARS
    assert "kurang dari 5 orang" in text_id  # APP_MIN_CELL_SIZE
    assert "3 × 24 jam" in text_id and "{years}" not in text_id
    client.cookies.set("lang", "en")
    english = client.get("/privacy").text
    assert "Privacy notice" in english and "Law No. 27 of 2022" in english
    # from every page's footer
    assert 'href="/privacy"' in client.get("/login").text
    assert "pengendali data adalah" not in text_id  # nobody signed in: no cohort to name


def test_a_participant_reads_their_local_government_as_the_controller(client, mini, settings):
    official, _ = make_couple(mini, settings, make_cohort(mini, "uji"), "t-001")
    login(client, official.username, PASSWORD)
    page = client.get("/privacy").text
    assert "pengendali data adalah Pemerintah Kota Uji, bersama KPK" in page


def test_without_a_published_notice_nobody_is_asked(client, db, settings):
    """Before the first content sync there is no notice to agree to."""
    make_user(db, settings, "staf", "admin", consent_version=None)
    login(client, "staf", PASSWORD)
    assert client.get("/admin").status_code == 200
    assert "belum diterbitkan" in client.get("/privacy").text


def test_the_notice_file_is_validated_with_its_line(tmp_path):
    root = tmp_path / "content"
    shutil.copytree(FIXTURE_CONTENT, root)
    path = root / "privacy.yaml"
    lines = path.read_text("utf-8").splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith("contact:"))
    lines[at + 1] = '  id: "Hubungi {fasilitator} kelompok Anda."'
    lines[at + 2] = ""  # no English
    path.write_text("\n".join(lines) + "\n", "utf-8")
    _, problems = load_content(root)
    texts = [str(p) for p in problems]
    assert any(
        t.startswith((f"content/privacy.yaml:{at + 1}:", f"content/privacy.yaml:{at + 2}:"))
        and "contact.id: unknown placeholder {fasilitator}" in t
        for t in texts
    ), texts
    assert any(t.endswith("contact.en: Field required") for t in texts), texts
    path.unlink()
    _, problems = load_content(root)
    assert "content/privacy.yaml: file is missing" in [str(p) for p in problems]
