"""Who is signed in: the session lookup every request makes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from app.accounts.models import AuthSession
from app.accounts.service import session_create, session_user
from tests.factories import make_user


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
