"""Who is signed in: the session lookup every request makes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from app.accounts.models import AuthSession
from app.accounts.service import session_create, session_user
from tests.factories import PASSWORD, make_user


def test_session_user_honours_expiry_and_deactivation(db, settings):
    user = make_user(db, settings, "ratna", role="facilitator")
    now = datetime(2024, 10, 14, 2, 0, tzinfo=UTC)
    with db.write() as session:
        token = session_create(session, user=user, settings=settings, now=now, user_agent=None)
    ends = now + timedelta(days=settings.session_days)
    with db.read() as reader:
        current = session_user(reader, token=token, now=now)
        assert (current.id, current.username, current.role) == (user.id, "ratna", "facilitator")
        assert session_user(reader, token=token, now=ends) is None
        assert session_user(reader, token="tebakan", now=now) is None
    with db.write() as session:
        session.get(type(user), user.id).is_active = False
    with db.read() as reader:
        assert session_user(reader, token=token, now=now) is None
    with db.read() as session:
        assert session.execute(select(AuthSession.id)).first() is not None


def test_sign_in_keeps_the_failure_it_refuses_and_clears_it_on_success(db, settings):
    from app.accounts.models import LoginFailure
    from app.accounts.service import sign_in

    make_user(db, settings, "sari", role="participant")
    now = datetime(2024, 10, 14, 2, 0, tzinfo=UTC)
    kwargs = dict(address="10.0.0.7", user_agent="uji", previous_token=None, settings=settings)
    refused = sign_in(db, username="Sari ", password="salah-sekali", now=now, **kwargs)
    assert refused.token is None and refused.refused.status == 401
    with db.read() as session:
        keys = sorted(session.execute(select(LoginFailure.key)).scalars())
    assert keys == ["addr:10.0.0.7", "user:sari"]
    ok = sign_in(db, username="sari", password=PASSWORD, now=now, **kwargs)
    assert ok.refused is None and ok.user.username == "sari"
    with db.read() as session:
        assert session_user(session, token=ok.token, now=now).username == "sari"
        assert list(session.execute(select(LoginFailure.key)).scalars()) == ["addr:10.0.0.7"]
