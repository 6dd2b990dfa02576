"""Cohorts, couples and who may see them."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cache
from typing import Any

from sqlalchemy import Select, bindparam, false, func, or_, select, update
from sqlmodel import Session, col

from app.accounts.models import CurrentUser, PartnerRole, Role, User
from app.audit import audit_record
from app.cohorts.models import (
    ActivationCode,
    Cohort,
    CohortFacilitator,
    Couple,
    Organization,
    Region,
)
from app.db import execute_core, saved_id, touch_learning, utcnow
from app.errors import AppError, NotFound
from app.i18n import N_


def cohorts_visible_to(*, user: User | CurrentUser) -> Select:
    """The cohorts a user may manage: a facilitator's own, every cohort for an admin."""
    query = select(col(Cohort.id))
    if user.role == Role.admin:
        return query
    if user.role == Role.facilitator:
        return query.join(CohortFacilitator, col(CohortFacilitator.cohort_id) == Cohort.id).where(
            col(CohortFacilitator.user_id) == user.id
        )
    return query.where(false())


def cohort_list_for(session: Session, *, user: User | CurrentUser) -> list[dict]:
    """The cohorts a facilitator (or admin) may see, with their size, in one query."""
    visible = cohorts_visible_to(user=user).subquery()
    participants = (
        select(col(Couple.cohort_id), func.count(col(User.id)).label("participants"))
        .join(User, col(User.couple_id) == Couple.id)
        .group_by(col(Couple.cohort_id))
        .subquery()
    )
    couples = (
        select(col(Couple.cohort_id), func.count(col(Couple.id)).label("couples"))
        .group_by(col(Couple.cohort_id))
        .subquery()
    )
    rows = session.execute(
        select(
            col(Cohort.id),
            col(Cohort.slug),
            col(Cohort.title),
            col(Cohort.venue),
            col(Cohort.workshop_start),
            col(Cohort.workshop_end),
            col(Region.name).label("region"),
            func.coalesce(couples.c.couples, 0).label("couples"),
            func.coalesce(participants.c.participants, 0).label("participants"),
        )
        .join(Region, col(Region.id) == Cohort.region_id)
        .join(visible, visible.c.id == Cohort.id)
        .outerjoin(couples, couples.c.cohort_id == Cohort.id)
        .outerjoin(participants, participants.c.cohort_id == Cohort.id)
        .order_by(col(Cohort.workshop_start).desc())
    ).mappings()
    return [dict(r) for r in rows]


def cohort_by_slug(session: Session, *, slug: str) -> Cohort | None:
    return session.execute(select(Cohort).where(col(Cohort.slug) == slug)).scalar_one_or_none()


# ---------------------------------------------------------------- activation codes

CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: easy to read from a card


def new_code_seed() -> str:
    return secrets.token_hex(16)


def code_from_seed(seed: str, secret: str) -> str:
    """The card's code (8 letters and digits, 40 bits) for a stored seed: only the server,
    which holds the secret, can make it."""
    digest = hmac.new(secret.encode(), f"activation-code:{seed}".encode(), hashlib.sha256)
    number = int.from_bytes(digest.digest()[:5], "big")
    raw = "".join(CODE_ALPHABET[(number >> (5 * i)) & 31] for i in range(8))
    return f"{raw[:4]}-{raw[4:]}"


def normalize_code(text: str) -> str:
    raw = "".join(ch for ch in text.upper() if ch.isalnum())[:16]
    return f"{raw[:4]}-{raw[4:]}" if len(raw) == 8 else raw


def code_hash(code: str, secret: str) -> str:
    """The keyed hash a code is stored and looked up by (without the secret, the 40-bit code
    space cannot be searched against a copy of the database)."""
    message = f"activation-lookup:{normalize_code(code)}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def activation_issue(
    session: Session, *, user_id: int, now: datetime, days: int, secret: str
) -> str:
    """A new one-time code for a participant; any earlier code stops working."""
    session.execute(
        update(ActivationCode)
        .where(
            col(ActivationCode.user_id) == user_id,
            col(ActivationCode.used_at).is_(None),
            col(ActivationCode.retired_at).is_(None),
        )
        .values(retired_at=now, code_seed=None)
    )
    record, code = _activation_code(user_id, now, days, secret)
    session.add(record)
    return code


def _activation_code(
    user_id: int, now: datetime, days: int, secret: str
) -> tuple[ActivationCode, str]:
    seed = new_code_seed()
    code = code_from_seed(seed, secret)
    record = ActivationCode(
        user_id=user_id,
        code_hash=code_hash(code, secret),
        code_seed=seed,
        issued_at=now,
        expires_at=now + timedelta(days=days),
    )
    return record, code


class ActivationError(AppError):
    """The activation code cannot be used; the message says why."""

    status = 422

    def __init__(self, message: str) -> None:
        super().__init__(message=message, field="code")


def activation_find(
    session: Session, *, code: str, now: datetime, secret: str
) -> tuple[ActivationCode, User]:
    """The valid code and its participant; ActivationError (English id) otherwise."""
    if not code or len(code) > 40:
        raise ActivationError(N_("Enter the activation code printed on your card."))
    row = session.execute(
        select(ActivationCode, User)
        .join(User, col(User.id) == ActivationCode.user_id)
        .where(col(ActivationCode.code_hash) == code_hash(code, secret))
    ).first()
    if row is None:
        raise ActivationError(
            N_("This activation code is not known. Check the letters on your card.")
        )
    activation, user = row
    if activation.used_at is not None:
        raise ActivationError(
            N_("This code was already used. Sign in with your username and password.")
        )
    if activation.retired_at is not None:
        raise ActivationError(
            N_("This code was replaced by a newer one. Use the newest card from your facilitator.")
        )
    if activation.expires_at <= now:
        raise ActivationError(N_("This code has expired. Ask your facilitator for a new one."))
    if not user.is_active:
        raise ActivationError(N_("This account is not active. Contact your facilitator."))
    return activation, user


def activation_use(
    session: Session, *, activation: ActivationCode, user: User, password_hash: str, now: datetime
) -> None:
    session.execute(update(User).where(col(User.id) == user.id).values(password_hash=password_hash))
    touch_learning(session, users=[user.id])
    session.execute(
        update(ActivationCode)
        .where(col(ActivationCode.id) == activation.id)
        .values(used_at=now, code_seed=None)
    )


# ---------------------------------------------------------------- roster import


@dataclass
class ImportResult:
    problems: list = field(default_factory=list)  # RosterProblem
    created: list[str] = field(default_factory=list)  # new couple codes
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    dry_run: bool = False
    # organizations the import creates (or, in a dry run, would create): only when asked to
    new_organizations: list[str] = field(default_factory=list)
    # organizations of the file that the region does not have and that were not to be created
    unknown_organizations: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def _norm(text: str | None) -> str:
    return " ".join((text or "").split()).casefold()


def _official_fields(row) -> dict:
    return {
        "display_name": row.official_name,
        "nip": row.nip,
        "position": row.position,
        "contact": row.official_contact,
    }


def _spouse_fields(row) -> dict:
    return {"display_name": row.spouse_name, "contact": row.spouse_contact}


def roster_import(
    session: Session,
    *,
    cohort: Cohort,
    parsed,
    actor_id: int | None,
    now: datetime,
    activation_days: int,
    secret: str,
    dry_run: bool = False,
    create_organizations: bool = False,
) -> ImportResult:
    """Import a parsed roster into a cohort, all or nothing. Each row's organization is one
    of the cohort's region, matched without regard to case and spacing; an unknown one is a
    problem (with the closest known name) unless ``create_organizations`` is set, then it is
    created. Couples already in this cohort are matched (by NIP, contact, or organization and
    name) and updated; a couple that is in another cohort is refused. Each new participant
    gets an activation code. A dry run reports the same problems and writes nothing."""
    from app.cohorts.roster import RosterProblem, match_organizations

    result = ImportResult(problems=list(parsed.problems), dry_run=dry_run)
    orgs = {
        _norm(o.name): o
        for o in session.execute(
            select(Organization).where(col(Organization.region_id) == cohort.region_id)
        ).scalars()
    }
    matched = match_organizations(
        parsed.rows, [o.name for o in orgs.values()], create=create_organizations
    )
    result.problems.extend(matched.problems)
    result.new_organizations = matched.new
    result.unknown_organizations = matched.unknown
    if parsed.problems:
        return result
    rows = parsed.rows
    nips = {r.nip for r in rows if r.nip}
    contacts = {c for r in rows for c in (r.official_contact, r.spouse_contact) if c}
    people = session.execute(
        select(User, Couple, col(Cohort.title), col(Organization.name))
        .join(Couple, col(Couple.id) == User.couple_id)
        .join(Cohort, col(Cohort.id) == Couple.cohort_id)
        .join(Organization, col(Organization.id) == Couple.organization_id)
        .where(
            or_(
                col(User.nip).in_(nips),
                col(User.contact).in_(contacts),
                col(Couple.cohort_id) == cohort.id,
            )
        )
    ).all()
    by_couple: dict[int, dict] = {}
    for user, couple, cohort_title, org_name in people:
        loaded = by_couple.setdefault(
            couple.id, {"couple": couple, "cohort": cohort_title, "org": org_name, "users": {}}
        )
        loaded["users"][user.partner_role] = user
    # partners of matched couples that were not loaded by the filter
    missing = [cid for cid, e in by_couple.items() if len(e["users"]) < 2]
    if missing:
        for user in session.execute(select(User).where(col(User.couple_id).in_(missing))).scalars():
            by_couple[user.couple_id]["users"].setdefault(user.partner_role, user)

    # indexes instead of a scan per row: a 2,000-row re-import stays linear
    index: dict[tuple, dict] = {}
    for known in by_couple.values():
        official = known["users"].get(PartnerRole.official)
        spouse = known["users"].get(PartnerRole.spouse)
        if official is None:
            continue
        keys: list[tuple[str | None, ...]] = [("nip", official.nip), ("contact", official.contact)]
        if spouse is not None:
            keys.append(("spouse", spouse.contact))
        if known["couple"].cohort_id == cohort.id:
            keys.append(("name", _norm(known["org"]), _norm(official.display_name)))
        for key in keys:
            if key[-1]:
                index.setdefault(key, known)

    def match(row) -> dict | None:
        for key in (
            ("nip", row.nip),
            ("contact", row.official_contact),
            ("spouse", row.spouse_contact),
            ("name", _norm(row.organization), _norm(row.official_name)),
        ):
            if key[-1] and key in index:
                return index[key]
        return None

    plan = []
    for row in rows:
        entry = match(row)
        if entry is not None and entry["couple"].cohort_id != cohort.id:
            result.problems.append(
                RosterProblem(
                    row=row.row,
                    column=None,
                    message=N_(
                        "This couple is already registered in another cohort: %(cohort)s "
                        "(%(code)s)."
                    ),
                    values={"cohort": entry["cohort"], "code": entry["couple"].code},
                )
            )
            continue
        plan.append((row, entry))
    if result.problems or dry_run:
        for row, entry in plan:
            (result.created if entry is None else result.unchanged).append(
                entry["couple"].code if entry else f"#{row.row}"
            )
        return result

    numbers = [
        int(code.rsplit("-", 1)[-1])
        for code in session.execute(
            select(col(Couple.code)).where(col(Couple.cohort_id) == cohort.id)
        ).scalars()
        if code.rsplit("-", 1)[-1].isdigit()
    ]
    next_number = max(numbers, default=0) + 1
    for name in matched.new:
        org = Organization(region_id=cohort.region_id, name=name)
        session.add(org)
        orgs[_norm(name)] = org
    session.flush()
    # new couples, their partners and activation codes in three batched inserts
    fresh: list[tuple] = []
    for row, entry in plan:
        if entry is None:
            code = f"{cohort.code_prefix}-{next_number:03d}"
            next_number += 1
            couple = Couple(
                code=code,
                cohort_id=saved_id(cohort),
                organization_id=orgs[_norm(row.organization)].id,
            )
            fresh.append((row, couple))
            result.created.append(code)
    session.add_all([couple for _row, couple in fresh])
    session.flush()
    users = [
        User(
            username=f"{couple.code.lower()}{suffix}",
            role=Role.participant,
            couple_id=couple.id,
            partner_role=role,
            **fields,
        )
        for row, couple in fresh
        for suffix, role, fields in (
            ("a", PartnerRole.official, _official_fields(row)),
            ("b", PartnerRole.spouse, _spouse_fields(row)),
        )
    ]
    session.add_all(users)
    session.flush()
    session.add_all(
        [_activation_code(saved_id(user), now, activation_days, secret)[0] for user in users]
    )
    for row, entry in plan:
        if entry is None:
            continue
        org = orgs[_norm(row.organization)]
        official_fields, spouse_fields = _official_fields(row), _spouse_fields(row)
        couple = entry["couple"]
        changed = couple.organization_id != org.id
        if changed:
            couple.organization_id = org.id
        for role, fields in (
            (PartnerRole.official, official_fields),
            (PartnerRole.spouse, spouse_fields),
        ):
            user = entry["users"].get(role)
            for key, value in fields.items():
                if user is not None and getattr(user, key) != value:
                    setattr(user, key, value)
                    changed = True
        (result.updated if changed else result.unchanged).append(couple.code)
    audit_record(
        session,
        now=now,
        actor_id=actor_id,
        action="roster.import",
        target=f"cohort:{cohort.slug}",
        detail={
            "created": len(result.created),
            "updated": len(result.updated),
            "unchanged": len(result.unchanged),
            "organizations_created": matched.new,
        },
    )
    return result


def cohort_for(session: Session, *, user: User | CurrentUser, slug: str) -> Cohort:
    """A cohort the user manages, by its slug. Another facilitator's cohort is NotFound with
    the same message as a slug that does not exist, in one statement either way: a
    facilitator cannot tell which other cohorts exist (a 403 would say so)."""
    cohort = session.execute(
        select(Cohort).where(
            col(Cohort.slug) == slug, col(Cohort.id).in_(cohorts_visible_to(user=user))
        )
    ).scalar_one_or_none()
    if cohort is None:
        raise NotFound(message=N_("This cohort does not exist."))
    return cohort


def participant_for(
    session: Session, *, actor: User | CurrentUser, user_id: int, cohort_id: int | None = None
) -> User:
    """A participant the actor may act on: one in a cohort the actor manages (and in
    ``cohort_id`` when given). Anyone else, or no one, is NotFound: the actor does not learn
    whether the account exists."""
    query = (
        select(User)
        .join(Couple, col(Couple.id) == User.couple_id)
        .where(
            col(User.id) == user_id,
            col(User.role) == Role.participant,
            col(Couple.cohort_id).in_(cohorts_visible_to(user=actor)),
        )
    )
    if cohort_id is not None:
        query = query.where(col(Couple.cohort_id) == cohort_id)
    participant = session.execute(query).scalar_one_or_none()
    if participant is None:
        raise NotFound(message=N_("This participant is not in your cohort."))
    return participant


class ResetUnconfirmed(AppError):
    """The participant already uses their account: a new code lets them choose a new
    password (their current one stops working when they use it), so it is issued only once
    the facilitator confirms. Carries who it is (plain values: the transaction that raised
    it is rolled back), for the confirmation."""

    status = 409

    def __init__(self, participant: User) -> None:
        super().__init__(
            message=N_("This participant already uses their account: confirm the new code first.")
        )
        self.user_id = saved_id(participant)
        self.name = participant.display_name
        self.username = participant.username


def activation_reissue(
    session: Session,
    *,
    actor: User | CurrentUser,
    cohort: Cohort,
    user_id: int,
    now: datetime,
    days: int,
    secret: str,
    reset_confirmed: bool = False,
) -> User:
    """A new activation code for a participant of a cohort the actor manages (the old one
    stops working); audit-logged. For a participant who already activated the code resets
    their password when used: ResetUnconfirmed (nothing written) unless ``reset_confirmed``.
    Returns the participant."""
    participant = participant_for(session, actor=actor, user_id=user_id, cohort_id=cohort.id)
    activated = participant.password_hash is not None
    if activated and not reset_confirmed:
        raise ResetUnconfirmed(participant)
    activation_issue(session, user_id=user_id, now=now, days=days, secret=secret)
    audit_record(
        session,
        now=now,
        actor_id=actor.id,
        action="activation.reissue",
        target=f"user:{participant.username}",
        detail={"cohort": cohort.slug, "reset": activated},
    )
    return participant


@dataclass(frozen=True)
class PartnerRow:
    id: int
    username: str
    name: str
    role: str
    activated: bool
    code_expires: datetime | None
    active: bool
    # activated, with an unused, unexpired, unretired code: a password reset the facilitator
    # gave, waiting to be used at /activate
    reset_pending: bool = False
    contact: str | None = None
    position: str | None = None
    locale: str = "id"


@dataclass
class CoupleRow:
    id: int
    code: str
    organization: str
    partners: list[PartnerRow] = field(default_factory=list)
    learning_version: int = 0  # ``Couple.learning_version``


@cache
def _roster_statement(one_couple: bool) -> Select:
    """The roster's statement (``:cohort_id``, and ``:couple_id`` for one couple), built once.
    A participant's unused, unretired code is looked up by their id (not every code of the
    database grouped)."""
    code_expires = (
        select(func.max(col(ActivationCode.expires_at)))
        .where(
            col(ActivationCode.user_id) == User.id,
            col(ActivationCode.used_at).is_(None),
            col(ActivationCode.retired_at).is_(None),
        )
        .correlate(User)
        .scalar_subquery()
    )
    where = [col(Couple.cohort_id) == bindparam("cohort_id")]
    if one_couple:
        where.append(col(Couple.id) == bindparam("couple_id"))
    return (
        select(
            col(Couple.id),
            col(Couple.code),
            col(Organization.name),
            col(User.id),
            col(User.username),
            col(User.display_name),
            col(User.partner_role),
            col(User.password_hash).is_not(None),
            code_expires,
            col(User.is_active),
            col(User.contact),
            col(User.position),
            col(User.locale),
            col(Couple.learning_version),
        )
        .join(Organization, col(Organization.id) == Couple.organization_id)
        .join(User, col(User.couple_id) == Couple.id)
        .where(*where, col(User.role) == Role.participant)
        .order_by(col(Couple.code), col(User.partner_role))
    )


def cohort_roster(
    session: Session, *, cohort_id: int, now: datetime | None = None, couple_id: int | None = None
) -> list[CoupleRow]:
    """Couples of a cohort (or its one couple ``couple_id``) with both partners, their contact
    and their activation state (a reset is pending while a code given to an activated
    participant is valid at ``now``, default the current time), in one query."""
    now = now or utcnow()
    params: dict[str, Any] = {"cohort_id": cohort_id}
    if couple_id is not None:
        params["couple_id"] = couple_id
    rows = execute_core(session, _roster_statement(couple_id is not None), params).all()
    couples: dict[int, CoupleRow] = {}
    for (
        cid,
        code,
        org,
        uid,
        username,
        name,
        role,
        activated,
        expires,
        active,
        contact,
        position,
        locale,
        version,
    ) in rows:
        couple = couples.setdefault(cid, CoupleRow(cid, code, org, learning_version=version))
        couple.partners.append(
            PartnerRow(
                uid,
                username,
                name,
                role or "",
                bool(activated),
                expires,
                active,
                reset_pending=bool(activated) and expires is not None and expires > now,
                contact=contact,
                position=position,
                locale=locale,
            )
        )
    return list(couples.values())


@dataclass(frozen=True)
class CardRow:
    id: int
    display_name: str
    username: str
    partner_role: str | None
    couple_code: str
    code: str
    expires_at: datetime


def cards_for(
    session: Session, *, cohort_id: int, secret: str, user_id: int | None = None
) -> list[CardRow]:
    """Readable activation codes of a cohort's participants who have not activated yet
    (each made again from its seed)."""
    query = (
        select(
            col(User.id),
            col(User.display_name),
            col(User.username),
            col(User.partner_role),
            col(Couple.code),
            col(ActivationCode.code_seed),
            col(ActivationCode.expires_at),
        )
        .join(Couple, col(Couple.id) == User.couple_id)
        .join(ActivationCode, col(ActivationCode.user_id) == User.id)
        .where(
            col(Couple.cohort_id) == cohort_id,
            col(ActivationCode.used_at).is_(None),
            col(ActivationCode.retired_at).is_(None),
            col(ActivationCode.code_seed).is_not(None),
        )
        .order_by(col(Couple.code), col(User.partner_role))
    )
    if user_id is not None:
        query = query.where(col(User.id) == user_id)
    return [
        CardRow(id_, name, username, role, couple, code_from_seed(seed, secret), expires)
        for id_, name, username, role, couple, seed, expires in session.execute(query).all()
    ]


def facilitator_names(session: Session, *, cohort_id: int) -> list[str]:
    """The active facilitators of a cohort, by name: whom a participant can ask."""
    return list(
        session.execute(
            select(col(User.display_name))
            .join(CohortFacilitator, col(CohortFacilitator.user_id) == User.id)
            .where(col(CohortFacilitator.cohort_id) == cohort_id, col(User.is_active).is_(True))
            .order_by(col(User.display_name))
        ).scalars()
    )


# ---------------------------------------------------------------- a participant's details


DETAIL_FIELDS = ("display_name", "position", "nip", "contact")


def participant_details_change(
    session: Session,
    *,
    actor: User | CurrentUser,
    cohort: Cohort,
    user_id: int,
    form: dict[str, str],
    now: datetime,
) -> tuple[list[str], str]:
    """A facilitator corrects a participant's name, position, NIP or contact (the person
    corrects their own contact themself; other corrections come to the facilitator). Checked
    as the roster checks them; audit-logged with the fields that changed, not their values.
    Returns the fields changed and the participant's couple code."""
    from app.cohorts.roster import (
        MAX_TEXT,
        MSG_CONTACT,
        MSG_NIP_CHARS,
        MSG_NIP_LENGTH,
        NIP_DIGITS,
        normalize_contact,
    )

    participant = participant_for(session, actor=actor, user_id=user_id, cohort_id=cohort.id)
    if participant.erased_at is not None:
        raise NotFound(message=N_("This participant is not in your cohort."))
    values: dict[str, str | None] = {}
    name = " ".join(form.get("display_name", "").split())
    if not name or len(name) > MAX_TEXT:
        raise AppError(422, N_("Display name must be 1–200 characters."), field="display_name")
    values["display_name"] = name
    position = " ".join(form.get("position", "").split())
    if len(position) > MAX_TEXT:
        raise AppError(422, N_("This field is too long."), field="position")
    values["position"] = position or None
    nip = "".join(form.get("nip", "").split())
    if nip and not (nip.isascii() and nip.isdigit()):
        raise AppError(422, MSG_NIP_CHARS, {"value": nip[:30]}, field="nip")
    if nip and len(nip) != NIP_DIGITS:
        raise AppError(422, MSG_NIP_LENGTH, {"count": len(nip)}, field="nip")
    values["nip"] = nip or None
    contact_text = form.get("contact", "").strip()
    contact = normalize_contact(contact_text) if contact_text else None
    if contact_text and contact is None:
        raise AppError(422, MSG_CONTACT, {"value": contact_text[:60]}, field="contact")
    values["contact"] = contact
    changed = [f for f in DETAIL_FIELDS if getattr(participant, f) != values[f]]
    for name_of in changed:
        setattr(participant, name_of, values[name_of])
    if changed:
        audit_record(
            session,
            now=now,
            actor_id=actor.id,
            action="participant.details",
            target=f"user:{saved_id(participant)}",
            detail={"cohort": cohort.slug, "fields": changed},
        )
    code = session.execute(
        select(col(Couple.code)).where(col(Couple.id) == participant.couple_id)
    ).scalar_one()
    return changed, code
