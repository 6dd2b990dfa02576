"""Sign-in, sessions, CSRF, throttling, deactivation and role guards."""

from __future__ import annotations

from app.accounts.models import AuthSession, Role, User
from app.accounts.service import user_set_active
from tests.conftest import csrf_of, login, post_form
from tests.factories import PASSWORD, make_user


def test_login_lands_each_role_on_its_home(client, db, settings):
    for name, role, home in [
        ("ana", Role.admin, "/admin"),
        ("fasi", Role.facilitator, "/facilitator"),
        ("analis", Role.kpk, "/kpk"),
    ]:
        make_user(db, settings, name, role)
        response = login(client, name, PASSWORD)
        assert response.status_code == 303
        assert response.headers["location"] == home
        page = client.get(home)
        assert page.status_code == 200
        assert name.title() in page.text
        post_form(client, "/logout", page=home)


def test_session_cookie_flags_and_stored_hash_only(client, db, settings):
    make_user(db, settings, "ana")
    response = login(client, "ana", PASSWORD)
    cookie = response.headers["set-cookie"]
    assert cookie.startswith("kb_session=")
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Path=/" in cookie
    token = client.cookies.get("kb_session")
    with db.read() as session:
        stored = session.query(AuthSession).one()
    assert stored.token_hash != token and len(stored.token_hash) == 64


def test_production_cookie_is_secure_with_host_prefix(settings, db):
    from fastapi.testclient import TestClient

    from app.main import create_app

    prod = settings.model_copy(update={"env": "production"})
    make_user(db, settings, "ana")
    with TestClient(create_app(prod, db), base_url="https://testserver") as c:
        page = c.get("/login")
        assert "__Host-kb_anon" in page.headers["set-cookie"]
        response = c.post(
            "/login",
            data={"username": "ana", "password": PASSWORD, "csrf_token": csrf_of(page.text)},
            follow_redirects=False,
        )
        cookie = response.headers["set-cookie"]
        assert cookie.startswith("__Host-kb_session=")
        assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie
        assert "strict-transport-security" in response.headers


def test_a_new_session_token_at_each_login(client, db, settings):
    make_user(db, settings, "ana")
    login(client, "ana", PASSWORD)
    first = client.cookies.get("kb_session")
    login(client, "ana", PASSWORD)
    second = client.cookies.get("kb_session")
    assert first != second
    with db.read() as session:
        assert session.query(AuthSession).count() == 1  # the old one was ended


def test_wrong_password_gets_a_generic_message(client, db, settings):
    make_user(db, settings, "ana")
    response = login(client, "ana", "salah-sekali-123")
    assert response.status_code == 401
    assert "Nama pengguna atau kata sandi tidak tepat" in response.text
    unknown = login(client, "tidak-ada", "salah-sekali-123")
    assert unknown.status_code == 401
    assert "Nama pengguna atau kata sandi tidak tepat" in unknown.text


def test_post_without_valid_csrf_token_is_refused(client, db, settings):
    make_user(db, settings, "ana")
    client.get("/login")
    no_token = client.post("/login", data={"username": "ana", "password": PASSWORD})
    assert no_token.status_code == 403
    assert "Muat ulang halaman" in no_token.text
    forged = client.post(
        "/login", data={"username": "ana", "password": PASSWORD, "csrf_token": "forged"}
    )
    assert forged.status_code == 403
    login(client, "ana", PASSWORD)
    # a signed-in POST with the pre-login (anonymous) token still works only with a real token
    assert client.post("/logout", data={"csrf_token": "nope"}).status_code == 403
    assert client.post("/logout", headers={"X-CSRF-Token": "nope"}).status_code == 403
    page = client.get("/account")
    ok = client.post(
        "/logout", headers={"X-CSRF-Token": csrf_of(page.text)}, follow_redirects=False
    )
    assert ok.status_code == 303


def test_repeated_wrong_passwords_get_429_with_retry_after(client, db, settings):
    make_user(db, settings, "ana")
    for _ in range(settings.login_max_per_account):
        assert login(client, "ana", "bukan-sandinya").status_code == 401
    throttled = login(client, "ana", PASSWORD)  # even the right password waits
    assert throttled.status_code == 429
    assert int(throttled.headers["retry-after"]) > 0
    assert "Terlalu banyak percobaan" in throttled.text


def test_throttle_expires_after_the_window(client, db, settings, time_machine):
    time_machine.move_to("2026-03-01 08:00:00+00:00", tick=False)
    make_user(db, settings, "ana")
    for _ in range(settings.login_max_per_account):
        login(client, "ana", "bukan-sandinya")
    assert login(client, "ana", PASSWORD).status_code == 429
    time_machine.move_to("2026-03-01 08:16:00+00:00", tick=False)
    assert login(client, "ana", PASSWORD).status_code == 303


def test_throttle_per_client_address(client, db, settings):
    make_user(db, settings, "ana")
    for i in range(settings.login_max_per_address):
        login(client, f"coba{i}", "bukan-sandinya")
    assert login(client, "ana", PASSWORD).status_code == 429


def test_logged_out_token_no_longer_works(client, db, settings):
    make_user(db, settings, "ana")
    login(client, "ana", PASSWORD)
    token = client.cookies.get("kb_session")
    post_form(client, "/logout", page="/admin")
    client.cookies.set("kb_session", token)
    response = client.get("/admin", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login")


def test_deactivated_users_session_ends(client, db, settings):
    user = make_user(db, settings, "ana")
    make_user(db, settings, "boss")
    login(client, "ana", PASSWORD)
    assert client.get("/admin").status_code == 200
    with db.write() as session:
        user_set_active(session, user_id=user.id, active=False)
    assert client.get("/admin", follow_redirects=False).status_code == 303
    with db.read() as session:
        assert session.query(AuthSession).filter_by(user_id=user.id).count() == 0
    assert login(client, "ana", PASSWORD).status_code == 401


def test_admin_deactivates_through_the_page_and_it_is_audited(make_client, db, settings):
    from app.accounts.models import AuditLog

    make_user(db, settings, "boss")
    target = make_user(db, settings, "fasi", Role.facilitator)
    victim, boss = make_client(), make_client()
    login(victim, "fasi", PASSWORD)
    login(boss, "boss", PASSWORD)
    response = post_form(boss, f"/admin/users/{target.id}/active", {"active": "0"}, page="/admin")
    assert response.status_code == 303
    assert victim.get("/facilitator", follow_redirects=False).status_code == 303
    with db.read() as session:
        log = session.query(AuditLog).one()
        assert log.action == "user.deactivate" and log.target == "user:fasi"


def test_role_guards(client, db, settings):
    make_user(db, settings, "fasi", Role.facilitator)
    login(client, "fasi", PASSWORD)
    assert client.get("/facilitator").status_code == 200
    for path in ("/admin", "/kpk", "/learn"):
        response = client.get(path)
        assert response.status_code == 403, path
        assert "Anda tidak boleh membuka halaman ini" in response.text


def test_anonymous_is_sent_to_login_with_next(client):
    response = client.get("/facilitator", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/facilitator"


def test_next_parameter_cannot_leave_the_site(client, db, settings):
    make_user(db, settings, "ana")
    page = client.get("/login?next=//evil.example/x")
    response = client.post(
        "/login",
        data={
            "username": "ana",
            "password": PASSWORD,
            "next": "//evil.example/x",
            "csrf_token": csrf_of(page.text),
        },
        follow_redirects=False,
    )
    assert response.headers["location"] == "/admin"


def test_oversized_and_empty_fields_get_422(client):
    page = client.get("/login")
    token = csrf_of(page.text)
    big = client.post("/login", data={"username": "a" * 5000, "password": "x", "csrf_token": token})
    assert big.status_code == 422
    empty = client.post("/login", data={"username": "", "password": "", "csrf_token": token})
    assert empty.status_code == 422
    assert "Isi nama pengguna dan kata sandi" in empty.text


def test_language_switch_is_remembered_for_the_user(client, db, settings):
    make_user(db, settings, "ana")
    login(client, "ana", PASSWORD)
    assert "Keluar" in client.get("/admin").text
    post_form(client, "/language", {"locale": "en", "next": "/admin"}, page="/admin")
    assert "Sign out" in client.get("/admin").text
    with db.read() as session:
        assert session.query(User).filter_by(username="ana").one().locale == "en"
    client.cookies.clear()
    login(client, "ana", PASSWORD)
    assert "Sign out" in client.get("/admin").text


def test_changing_the_password_signs_out_other_browsers_and_is_audited(make_client, db, settings):
    from sqlalchemy import select

    from app.accounts.models import AuditLog

    make_user(db, settings, "ana", role=Role.participant)
    phone, laptop = make_client(), make_client()
    login(phone, "ana", PASSWORD)
    login(laptop, "ana", PASSWORD)
    new = "Sabtu-pagi-di-Cisadane"
    wrong = post_form(
        phone,
        "/account/password",
        {"current": "bukan-ini-1234", "password": new, "password2": new},
    )
    assert wrong.status_code == 422 and "Kata sandi Anda yang sekarang tidak benar" in wrong.text
    weak = post_form(
        phone,
        "/account/password",
        {"current": PASSWORD, "password": "12345678", "password2": "12345678"},
    )
    assert weak.status_code == 422 and "terlalu mudah ditebak" in weak.text
    differ = post_form(
        phone, "/account/password", {"current": PASSWORD, "password": new, "password2": new + "x"}
    )
    assert differ.status_code == 422 and "tidak sama" in differ.text
    done = post_form(
        phone, "/account/password", {"current": PASSWORD, "password": new, "password2": new}
    )
    assert done.status_code == 303 and done.headers["location"] == "/account?changed=1"
    assert "Kata sandi Anda sudah diganti" in phone.get(done.headers["location"]).text
    assert phone.get("/account", follow_redirects=False).status_code == 200  # still signed in
    assert laptop.get("/account", follow_redirects=False).status_code == 303  # signed out there
    again = make_client()
    assert login(again, "ana", PASSWORD).status_code == 401
    assert login(again, "ana", new).status_code == 303
    with db.read() as session:
        actions = session.execute(select(AuditLog.action)).scalars().all()
    assert actions.count("account.password") == 1


def test_wrong_current_passwords_are_throttled_like_sign_ins(client, db, settings):
    make_user(db, settings, "ana", role=Role.participant)
    login(client, "ana", PASSWORD)
    statuses = [
        post_form(
            client,
            "/account/password",
            {"current": f"tebakan-{n}-xyz", "password": "x", "password2": "x"},
        ).status_code
        for n in range(settings.login_max_per_account + 1)
    ]
    assert statuses[0] == 422 and statuses[-1] == 429
