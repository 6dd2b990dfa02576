"""The participant's standing as a request dependency: ``StandingDep`` (own progress) and
``CoupleStandingDep`` (with the partner's). An account in no couple is refused with 403 here,
once, for every participant page."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from app.deps import CurriculumDep, NowDep, ParticipantDep, ReadDep, SettingsDep
from app.learning.standing import Standing, standing_for


async def own_standing(
    user: ParticipantDep,
    session: ReadDep,
    curriculum: CurriculumDep,
    now: NowDep,
    settings: SettingsDep,
) -> Standing:
    return standing_for(
        session, user=user, curriculum=curriculum, now=now, tz=settings.tz, with_partner=False
    )


async def couple_standing(
    user: ParticipantDep,
    session: ReadDep,
    curriculum: CurriculumDep,
    now: NowDep,
    settings: SettingsDep,
) -> Standing:
    return standing_for(
        session, user=user, curriculum=curriculum, now=now, tz=settings.tz, with_partner=True
    )


StandingDep = Annotated[Standing, Depends(own_standing)]
CoupleStandingDep = Annotated[Standing, Depends(couple_standing)]
