"""Activation codes: the card, the first password, reissue, expiry."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from app.accounts.models import AuditLog, User
from app.cohorts.service import activation_issue
from tests.conftest import SECRET, csrf_of, login, post_form
from tests.factories import make_cohort, make_couple, make_user

NOW = datetime(2026, 3, 2, 3, 0, tzinfo=UTC)


@pytest.fixture
def fresh(mini, settings, time_machine):
    """A couple whose accounts are not activated yet, with their codes."""
    time_machine.move_to(NOW, tick=False)
    fasi = make_user(mini, settings, "rina", "facilitator")
    cohort = make_cohort(mini, "uji", facilitator=fasi)
    official, spouse = make_couple(mini, settings, cohort, "tng26-001")
    codes = {}
    with mini.write() as session:
        for u in (official, spouse):
            session.get(User, u.id).password_hash = None
            codes[u.username] = activation_issue(
                session, user_id=u.id, now=NOW, days=30, secret=SECRET
            )
    return cohort, official, spouse, codes


def activate(client, code, password="rumah-jujur-2026", password2=None):
    page = client.get(f"/activate?code={code}")
    return client.post(
        "/activate",
        data={
            "code": code,
            "password": password,
            "password2": password2 or password,
            "consent": "yes",
            "csrf_token": csrf_of(page.text),
        },
        follow_redirects=False,
    )


def test_activation_sets_the_password_and_signs_in(client, fresh):
    _, official, _, codes = fresh
    code = codes[official.username]
    page = client.get(f"/activate?code={code}")
    assert f'value="{code}"' in page.text
    response = activate(client, code)
    assert response.status_code == 303 and response.headers["location"].startswith("/learn")
    assert client.get("/learn").status_code == 200
    client.cookies.clear()
    assert login(client, official.username, "rumah-jujur-2026").status_code == 303
    used = activate(client, code)
    assert used.status_code == 422 and "sudah dipakai" in used.text


def test_code_is_forgiving_about_case_and_dashes(client, fresh):
    _, official, _, codes = fresh
    messy = codes[official.username].replace("-", " ").lower()
    assert activate(client, messy).status_code == 303


@pytest.mark.parametrize(
    ("password", "password2", "message"),
    [
        ("pendek", None, "paling sedikit 8 karakter"),
        ("12345678", None, "terlalu mudah ditebak"),
        ("rumah-jujur-2026", "rumah-jujur-2027", "Kedua kata sandi tidak sama"),
    ],
)
def test_bad_passwords_are_refused_and_nothing_changes(
    client, fresh, mini, password, password2, message
):
    _, official, _, codes = fresh
    response = activate(client, codes[official.username], password, password2)
    assert response.status_code == 422 and message in response.text
    with mini.read() as session:
        assert session.get(User, official.id).password_hash is None
    assert activate(client, codes[official.username]).status_code == 303  # still usable


def test_unknown_code_and_expiry(client, fresh, time_machine):
    _, official, _, codes = fresh
    assert "tidak dikenal" in activate(client, "ZZZZ-ZZZZ").text
    time_machine.move_to("2026-04-02 03:00:00+00:00", tick=False)
    expired = activate(client, codes[official.username])
    assert expired.status_code == 422 and "kedaluwarsa" in expired.text


def test_reissue_retires_the_old_code_and_is_audited(make_client, fresh, mini):
    cohort, official, _, codes = fresh
    fasi = make_client()
    login(fasi, "rina", "kata-sandi-uji-123")
    response = post_form(
        fasi,
        f"/facilitator/cohorts/uji/participants/{official.id}/reissue",
        page="/facilitator/cohorts/uji",
    )
    assert response.status_code == 303
    cards = fasi.get(response.headers["location"]).text
    new_code = re.search(r'class="code">([A-Z0-9-]+)<', cards).group(1)
    assert new_code != codes[official.username]
    person = make_client()
    old = activate(person, codes[official.username])
    assert old.status_code == 422 and "sudah diganti" in old.text
    assert activate(person, new_code).status_code == 303
    with mini.read() as session:
        log = session.execute(
            select(AuditLog).where(AuditLog.action == "activation.reissue")
        ).scalar_one()
        assert log.target == f"user:{official.username}"


def test_activation_attempts_are_throttled(client, fresh, settings):
    for _ in range(settings.login_max_per_account * 2):
        activate(client, "ZZZZ-ZZZZ")
    response = activate(client, "ZZZZ-ZZZZ")
    assert response.status_code == 429 and int(response.headers["retry-after"]) > 0


def test_cards_show_only_own_cohorts(make_client, fresh, mini, settings):
    other_fasi = make_user(mini, settings, "budi-fasi", "facilitator")
    make_cohort(mini, "lain", facilitator=other_fasi)
    stranger = make_client()
    login(stranger, "budi-fasi", "kata-sandi-uji-123")
    assert stranger.get("/facilitator/cohorts/uji/cards").status_code == 404
    assert stranger.get("/facilitator/cohorts/uji").status_code == 404
    assert stranger.get("/facilitator/cohorts/uji/import").status_code == 404
    _, official, _, _ = fresh
    refused = post_form(
        stranger,
        f"/facilitator/cohorts/uji/participants/{official.id}/reissue",
        page="/facilitator",
    )
    assert refused.status_code == 404
    own = make_client()
    login(own, "rina", "kata-sandi-uji-123")
    page = own.get("/facilitator/cohorts/uji/cards")
    assert page.status_code == 200
    assert page.text.count('class="activation-card"') == 2
    assert "<svg" in page.text  # the QR code, inline


def test_a_new_code_for_someone_who_already_activated_is_confirmed_first(
    make_client, fresh, mini, settings
):
    """A new code for a participant who uses their account: a confirmation page (nothing
    changes), then the code, shown as a pending reset until it is used; using it replaces
    the password and signs out every other browser."""
    from app.cohorts.models import ActivationCode
    from app.cohorts.service import cohort_roster

    cohort, official, _, codes = fresh
    person = make_client()
    assert activate(person, codes[official.username], "rumah-jujur-2026").status_code == 303
    assert person.get("/learn").status_code == 200
    fasi = make_client()
    login(fasi, "rina", "kata-sandi-uji-123")
    post_form(fasi, "/language", {"locale": "en", "next": "/facilitator"})
    url = f"/facilitator/cohorts/uji/participants/{official.id}/reissue"

    def state():
        with mini.read() as session:
            live = session.execute(
                select(ActivationCode.id).where(
                    ActivationCode.user_id == official.id, ActivationCode.used_at.is_(None)
                )
            ).all()
            logs = session.execute(select(AuditLog.action).order_by(AuditLog.id)).scalars().all()
            password = session.get(User, official.id).password_hash
            (row,) = [
                p
                for c in cohort_roster(session, cohort_id=cohort.id)
                for p in c.partners
                if p.id == official.id
            ]
        return len(live), logs, password, row

    before = state()
    assert before[0] == 0 and before[3].activated and not before[3].reset_pending
    confirm = post_form(fasi, url, page="/facilitator/cohorts/uji")
    assert confirm.status_code == 200
    page = confirm.text
    assert official.display_name in page and official.username in page
    assert (
        "They already use their account. A new code lets them choose a new password: their "
        "current password stops working when they use the code." in page
    )
    assert f'action="{url}"' in page and 'name="confirm" value="1"' in page
    assert 'name="csrf_token"' in page and 'href="/facilitator/cohorts/uji"' in page
    assert state() == before  # nothing written: no code, no audit record

    done = fasi.post(
        url, data={"confirm": "1", "csrf_token": csrf_of(page)}, follow_redirects=False
    )
    assert done.status_code == 303
    assert done.headers["location"] == f"/facilitator/cohorts/uji/cards?participant={official.id}"
    cards = fasi.get(done.headers["location"]).text
    new_code = re.search(r'class="code">([A-Z0-9-]+)<', cards).group(1)
    live, logs, password, row = state()
    assert live == 1 and logs.count("activation.reissue") == 1
    assert password == before[2]  # the old password works until the code is used
    assert row.activated and row.reset_pending
    with mini.read() as session:
        reissue = session.execute(
            select(AuditLog).where(AuditLog.action == "activation.reissue")
        ).scalar_one()
    assert reissue.detail == {"cohort": "uji", "reset": True}

    other = make_client()
    assert activate(other, new_code, "rumah-baru-2026").status_code == 303
    assert person.get("/learn", follow_redirects=False).status_code in (302, 303)  # signed out
    assert other.get("/learn").status_code == 200
    fresh_client = make_client()
    assert login(fresh_client, official.username, "rumah-jujur-2026").status_code == 401
    assert login(fresh_client, official.username, "rumah-baru-2026").status_code == 303
    live, logs, password, row = state()
    assert live == 0 and password != before[2]
    assert row.activated and not row.reset_pending
    with mini.read() as session:
        audit = {
            log.action: log
            for log in session.execute(
                select(AuditLog).where(AuditLog.action.like("account.%"))
            ).scalars()
        }
    assert set(audit) == {"account.activated", "account.reset_by_code"}
    for log in audit.values():
        assert (log.actor_id, log.target) == (official.id, f"user:{official.username}")


def test_an_expired_reset_code_is_no_longer_pending(fresh, mini, time_machine):
    from app.cohorts.service import cohort_roster

    cohort, official, _, _ = fresh
    with mini.write() as session:
        session.get(User, official.id).password_hash = "x"  # activated
        activation_issue(session, user_id=official.id, now=NOW, days=30, secret=SECRET)
    with mini.read() as session:
        pending = {
            p.id: p.reset_pending
            for c in cohort_roster(session, cohort_id=cohort.id)
            for p in c.partners
        }
        later = {
            p.id: p.reset_pending
            for c in cohort_roster(
                session, cohort_id=cohort.id, now=datetime(2026, 4, 2, tzinfo=UTC)
            )
            for p in c.partners
        }
    assert pending[official.id] and not later[official.id]
    assert not any(v for k, v in pending.items() if k != official.id)  # not activated: no reset
