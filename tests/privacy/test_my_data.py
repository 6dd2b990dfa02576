"""``/account/data``: a participant sees everything stored about them and downloads it (JSON
that round-trips, and an HTML page), with none of the partner's answers and nobody else's
data; they correct their own contact; the page opens before they agree to a new notice."""

from __future__ import annotations

import json
from datetime import datetime

import pytest
from sqlalchemy import func, select

from app.accounts.models import AuditLog, User
from app.cohorts.models import Couple
from app.demo import seed_demo
from app.family.models import FamilyReflection
from app.privacy.models import ConsentRecord
from app.privacy.mydata import as_json, my_data
from app.quizzes.models import AttemptItem, CheckAnswer, QuizAttempt
from tests.conftest import csrf_of, login
from tests.factories import actor


@pytest.fixture
def demo(mini, settings, time_machine):
    time_machine.move_to("2026-11-28 10:00:00+07:00", tick=False)
    seed_demo(mini, settings)
    return mini


def _pick(db):
    """A historic participant with answers whose partner has answers and wrote a reflection
    of their own."""
    with db.read() as session:
        written = select(FamilyReflection.written_by)
        for partner in session.execute(
            select(User).where(User.id.in_(written)).order_by(User.username)
        ).scalars():
            person = session.execute(
                select(User).where(User.couple_id == partner.couple_id, User.id != partner.id)
            ).scalar_one_or_none()
            answered = select(func.count()).select_from(QuizAttempt)
            if (
                person is not None
                and session.execute(answered.where(QuizAttempt.user_id == person.id)).scalar()
                and session.execute(answered.where(QuizAttempt.user_id == partner.id)).scalar()
            ):
                return person, partner
    raise AssertionError("the demo has no such couple")


def test_my_data_holds_everything_of_mine_and_nothing_of_my_partners(client, demo):
    person, partner = _pick(demo)
    login(client, person.username)
    page = client.get("/account/data")
    assert page.status_code == 200
    download = client.get("/account/data.json")
    assert download.status_code == 200
    assert download.headers["content-disposition"].startswith(
        f'attachment; filename="data-saya-{person.username}-'
    )
    assert download.headers["cache-control"] == "no-store"
    data = json.loads(download.content)
    with demo.read() as session:
        own_attempts = session.execute(
            select(func.count()).select_from(QuizAttempt).where(QuizAttempt.user_id == person.id)
        ).scalar()
        own_items = session.execute(
            select(func.count())
            .select_from(AttemptItem)
            .join(QuizAttempt, QuizAttempt.id == AttemptItem.attempt_id)
            .where(QuizAttempt.user_id == person.id)
        ).scalar()
        own_checks = session.execute(
            select(func.count()).select_from(CheckAnswer).where(CheckAnswer.user_id == person.id)
        ).scalar()
        partner_texts = (
            session.execute(
                select(FamilyReflection.text).where(FamilyReflection.written_by == partner.id)
            )
            .scalars()
            .all()
        )
        couple = session.get(Couple, person.couple_id)
        others = session.execute(
            select(User.username, User.display_name).where(User.couple_id != person.couple_id)
        ).all()
        # the JSON is the service's own answer, round-tripped
        expected = as_json(
            my_data(session, user=actor(person), locale="id"),
            generated_at=datetime.fromisoformat(data["generated_at"]),
        )
    assert data == json.loads(json.dumps(expected))
    assert data["format"] == "keluarga-berintegritas/my-data"
    assert data["profile"]["username"] == person.username
    assert data["profile"]["contact"] == person.contact
    assert data["couple"]["code"] == couple.code
    assert data["couple"]["partner_name"] == partner.display_name
    assert len(data["attempts"]) == own_attempts > 0
    assert sum(len(a["answers"]) for a in data["attempts"]) == own_items > 0
    assert len(data["checks"]) == own_checks
    assert data["consents"] and data["consents"][0]["notice_version"] == 1
    # nothing of the partner's but their name; nobody else at all
    body = download.text
    assert partner.username not in body and partner_texts
    for text in partner_texts:
        assert text not in body and text not in page.text
    for username, name in others:
        assert f'"{username}"' not in body and name not in body
    # the page shows the same; the HTML download is a page of its own
    assert person.display_name in page.text and couple.code in page.text
    assert data["attempts"][0]["title"] in page.text
    html = client.get("/account/data.html")
    assert html.status_code == 200 and "attachment" in html.headers["content-disposition"]
    assert couple.code in html.text and "<nav" not in html.text


def test_a_participant_corrects_their_own_contact(client, demo):
    person, _ = _pick(demo)
    login(client, person.username)
    page = client.get("/account/data")
    bad = client.post(
        "/account/data/contact", data={"csrf_token": csrf_of(page.text), "contact": "di rumah"}
    )
    assert bad.status_code == 422 and "Bukan nomor telepon atau alamat e-mail" in bad.text
    good = client.post(
        "/account/data/contact",
        data={"csrf_token": csrf_of(page.text), "contact": "0812 3456 7890"},
        follow_redirects=False,
    )
    assert good.status_code == 303 and good.headers["location"] == "/account/data?saved=1#contact"
    with demo.read() as session:
        assert session.get(User, person.id).contact == "+6281234567890"
        entry = session.execute(
            select(AuditLog).where(AuditLog.action == "account.contact")
        ).scalar_one()
        assert entry.target == f"user:{person.id}" and entry.detail is None
    assert "+6281234567890" in client.get("/account/data").text


def test_my_data_opens_before_agreeing_to_a_new_notice(client, demo):
    person, _ = _pick(demo)
    with demo.write() as session:
        session.get(User, person.id).consent_version = None
    login(client, person.username)
    assert client.get("/learn", follow_redirects=False).status_code == 303
    assert client.get("/account/data").status_code == 200
    assert client.get("/account/data.json").status_code == 200
    with demo.read() as session:
        assert (
            session.execute(
                select(func.count())
                .select_from(ConsentRecord)
                .where(ConsentRecord.user_id == person.id)
            ).scalar()
            == 1
        )


def test_my_data_needs_a_sign_in(client, mini):
    for path in ("/account/data", "/account/data.json", "/account/data.html"):
        answer = client.get(path, follow_redirects=False)
        assert answer.status_code == 303 and answer.headers["location"].startswith("/login")
