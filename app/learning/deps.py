"""The participant's standing as a request dependency: ``StandingDep`` (own progress) and
``CoupleStandingDep`` (with the partner's). An account in no couple is refused with 403 here,
once, for every participant page."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from app.deps import (
    ParticipantDep,
    ReadDep,
    get_settings,
    request_curriculum,
    request_learner_row,
    request_now,
)
from app.learning.standing import Standing, standing_for


async def _standing(
    request: Request, user: ParticipantDep, session: ReadDep, *, with_partner: bool
) -> Standing:
    settings = await get_settings(request)
    return standing_for(
        session,
        user=user,
        curriculum=request_curriculum(request, session),
        now=request_now(request),
        tz=settings.tz,
        with_partner=with_partner,
        learner_row=request_learner_row(request),
    )


async def own_standing(request: Request, user: ParticipantDep, session: ReadDep) -> Standing:
    return await _standing(request, user, session, with_partner=False)


async def couple_standing(request: Request, user: ParticipantDep, session: ReadDep) -> Standing:
    return await _standing(request, user, session, with_partner=True)


StandingDep = Annotated[Standing, Depends(own_standing)]
CoupleStandingDep = Annotated[Standing, Depends(couple_standing)]
