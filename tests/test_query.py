"""``Query``: the hot pages' reads on the driver give exactly what the ORM gives."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import bindparam, select

from app.accounts.models import AuditLog, AuthSession
from app.accounts.service import session_create, session_user
from app.db import Query
from tests.factories import make_user

AUDIT = Query(
    select(AuditLog.id, AuditLog.at, AuditLog.action, AuditLog.detail)
    .where(AuditLog.at > bindparam("since"), AuditLog.action != "ignored")
    .order_by(AuditLog.id)
)


def test_values_come_back_as_the_orm_reads_them(db):
    at = datetime(2024, 10, 14, 1, 30, 15, 123456, tzinfo=UTC)
    with db.write() as session:
        for action, detail in (("a", {"kata": "ñ", "n": [1, 2]}), ("ignored", None), ("b", None)):
            session.add(AuditLog(at=at, action=action, detail=detail))
    with db.read() as session:
        expected = [
            tuple(r)
            for r in session.execute(
                select(AuditLog.id, AuditLog.at, AuditLog.action, AuditLog.detail)
                .where(AuditLog.action != "ignored")
                .order_by(AuditLog.id)
            )
        ]
    with db.reader() as reader:
        rows = reader.rows(AUDIT, since=at - timedelta(seconds=1))
        later = reader.rows(AUDIT, since=at)
    assert rows == expected
    assert [r[2] for r in rows] == ["a", "b"]
    assert rows[0][1] == at and rows[0][1].tzinfo is not None  # aware UTC, to the microsecond
    assert rows[0][3] == {"kata": "ñ", "n": [1, 2]}
    assert later == []  # the datetime parameter is compared as a timestamp, not as text


def test_a_missing_parameter_is_an_error_not_a_silent_null(db):
    with db.reader() as reader, pytest.raises(TypeError, match="since"):
        reader.rows(AUDIT)


def test_an_in_list_is_refused_when_compiled(db):
    query = Query(
        select(AuditLog.id).where(AuditLog.action.in_(bindparam("names", expanding=True)))
    )
    with db.reader() as reader, pytest.raises(ValueError, match="IN list"):
        reader.rows(query, names=["a"])


def test_session_user_honours_expiry_and_deactivation(db, settings):
    user = make_user(db, settings, "ratna", role="facilitator")
    now = datetime(2024, 10, 14, 2, 0, tzinfo=UTC)
    with db.write() as session:
        token = session_create(session, user=user, settings=settings, now=now, user_agent=None)
    ends = now + timedelta(days=settings.session_days)
    with db.reader() as reader:
        current = session_user(reader, token=token, now=now)
        assert (current.id, current.username, current.role) == (user.id, "ratna", "facilitator")
        assert session_user(reader, token=token, now=ends) is None
        assert session_user(reader, token="tebakan", now=now) is None
    with db.write() as session:
        session.get(type(user), user.id).is_active = False
    with db.reader() as reader:
        assert session_user(reader, token=token, now=now) is None
    with db.read() as session:
        assert session.execute(select(AuthSession.id)).first() is not None


def test_query_counter_sees_reader_statements(db, count_queries):
    with count_queries() as counter, db.reader() as reader:
        reader.rows(AUDIT, since=datetime(2024, 1, 1, tzinfo=UTC))
    assert counter.count == 1 and "audit_log" in counter.statements[0]
