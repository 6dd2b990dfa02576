"""Throttling without lockout: an attacker's wrong passwords slow down browsers the account
does not know, never the owner's own phone; activation guesses are limited across every
address; activation codes are not in the database."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlalchemy import text

from app.accounts.service import device_cookie, device_entries
from tests.conftest import csrf_of, login
from tests.factories import PASSWORD, make_cohort, make_couple, make_user


def browser(app, address: str = "10.0.0.1") -> TestClient:
    return TestClient(app, raise_server_exceptions=False, client=(address, 50000))


def sign_out(client: TestClient) -> None:
    page = client.get("/account")
    client.post("/logout", data={"csrf_token": csrf_of(page.text)})


def test_an_attackers_failures_do_not_lock_the_owner_out_of_a_known_browser(app, db, settings):
    make_user(db, settings, "ana", "facilitator")
    with browser(app, "10.0.0.1") as phone, browser(app, "10.9.9.9") as attacker:
        assert login(phone, "ana", PASSWORD).status_code == 303
        assert "kb_device" in phone.cookies
        sign_out(phone)
        for _ in range(settings.login_max_per_account):
            assert login(attacker, "ana", "tebak-tebakan").status_code == 401
        refused = login(attacker, "ana", PASSWORD)  # anonymous browsers wait, even with it
        assert refused.status_code == 429 and int(refused.headers["retry-after"]) > 0
        # the owner's phone, which signed in before, is not locked out
        again = login(phone, "ana", PASSWORD)
        assert again.status_code == 303 and again.headers["location"] == "/facilitator"
        # and the attacker is still held back
        assert login(attacker, "ana", PASSWORD).status_code == 429


def test_a_known_browser_has_a_limit_of_its_own(app, db, settings):
    make_user(db, settings, "ana", "facilitator")
    with browser(app) as phone:
        login(phone, "ana", PASSWORD)
        sign_out(phone)
        for _ in range(settings.login_max_per_account):
            assert login(phone, "ana", "salah-ketik").status_code == 401
        assert login(phone, "ana", PASSWORD).status_code == 429


def test_a_forged_or_borrowed_device_cookie_counts_for_nothing(app, db, settings):
    make_user(db, settings, "ana", "facilitator")
    make_user(db, settings, "budi", "facilitator")
    with browser(app, "10.0.0.1") as mine, browser(app, "10.9.9.9") as attacker:
        login(mine, "budi", PASSWORD)  # a real device cookie, for another account
        budi_cookie = mine.cookies["kb_device"]
        for _ in range(settings.login_max_per_account):
            login(attacker, "ana", "tebak-tebakan")
        for forged in (budi_cookie, budi_cookie.replace("budi", "ana"), "ana!abc!def"):
            attacker.cookies.set("kb_device", forged)
            assert login(attacker, "ana", PASSWORD).status_code == 429, forged


def test_one_phone_remembers_both_partners(settings):
    cookie = device_cookie(settings, None, "tng26-001a")
    cookie = device_cookie(settings, cookie, "tng26-001b")
    entries = device_entries(settings, cookie)
    assert set(entries) == {"tng26-001a", "tng26-001b"}
    # signing in again keeps the browser's nonce for the account
    assert device_entries(settings, device_cookie(settings, cookie, "tng26-001a")) == entries


def test_the_per_address_limit_still_holds_for_known_browsers(app, db, settings):
    make_user(db, settings, "ana", "facilitator")
    with browser(app) as phone:
        login(phone, "ana", PASSWORD)
        sign_out(phone)
        for i in range(settings.login_max_per_address):
            login(phone, f"coba{i}", "bukan-sandinya")
        assert login(phone, "ana", PASSWORD).status_code == 429


def test_failed_activations_are_limited_across_every_address(app, db, settings):
    settings.activation_max_failures_per_hour = 6
    fasi = make_user(db, settings, "rina", "facilitator")
    make_couple(db, settings, make_cohort(db, "uji", facilitator=fasi), "tng26-001")

    def guess(address: str) -> int:
        with browser(app, address) as client:
            page = client.get("/activate")
            form = {"code": "ZZZZ-ZZZZ", "password": "rumah-jujur-2026"}
            form |= {"password2": "rumah-jujur-2026", "csrf_token": csrf_of(page.text)}
            form |= {"consent": "yes"}
            return client.post("/activate", data=form).status_code

    # six addresses, one guess each: each address is far below its own limit
    assert [guess(f"10.1.0.{i}") for i in range(6)] == [422] * 6
    assert guess("10.1.0.99") == 429  # a seventh address waits too


def test_activation_codes_are_not_stored_and_cards_still_show_them(make_client, db, settings):
    fasi = make_user(db, settings, "rina", "facilitator")
    cohort = make_cohort(db, "uji", facilitator=fasi)
    official, _ = make_couple(db, settings, cohort, "tng26-001")
    client = make_client()
    login(client, "rina", PASSWORD)
    page = client.get("/facilitator/cohorts/uji")
    reissued = client.post(
        f"/facilitator/cohorts/uji/participants/{official.id}/reissue",
        data={"csrf_token": csrf_of(page.text), "confirm": "1"},
        follow_redirects=False,
    )
    assert reissued.status_code == 303
    cards = client.get(reissued.headers["location"]).text
    code = re.search(r'class="code">([A-Z0-9-]+)<', cards).group(1)
    with db.read() as session:
        stored = session.execute(text("SELECT * FROM activation_code")).all()
    dump = repr(stored)
    assert code not in dump and code.replace("-", "") not in dump
    # printed again, the same code; and it activates the account
    again = client.get(reissued.headers["location"]).text
    assert f'class="code">{code}<' in again
    person = make_client()
    form = client.get(f"/activate?code={code}")
    answer = person.post(
        "/activate",
        data={
            "code": code,
            "password": "rumah-jujur-2026",
            "password2": "rumah-jujur-2026",
            "consent": "yes",
            "csrf_token": csrf_of(person.get("/activate").text),
        },
        follow_redirects=False,
    )
    assert form.status_code == 200 and answer.status_code == 303


def test_a_hash_made_with_other_costs_is_renewed_at_sign_in(client, db, settings):
    from argon2 import PasswordHasher

    from app.accounts.models import User
    from app.accounts.service import hasher

    legacy = PasswordHasher(time_cost=3, memory_cost=64, parallelism=2).hash(PASSWORD)
    user = make_user(db, settings, "ana", "facilitator")
    with db.write() as session:
        session.get(User, user.id).password_hash = legacy
    assert login(client, "ana", PASSWORD).status_code == 303
    with db.read() as session:
        renewed = session.get(User, user.id).password_hash
    assert renewed != legacy and not hasher(True).check_needs_rehash(renewed)
    sign_out(client)
    assert login(client, "ana", PASSWORD).status_code == 303  # the new hash works
