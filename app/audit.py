"""The audit log: one line for every privileged action."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from app.accounts.models import AuditLog
from app.db import utcnow


def audit_record(
    session: Session,
    *,
    actor_id: int | None,
    action: str,
    target: str | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    session.add(
        AuditLog(at=utcnow(), actor_id=actor_id, action=action, target=target, detail=detail)
    )
