"""Every route of the application, declared once: who may use it, how to fill its path
parameters and, for a method that changes something, a minimal valid form.

The route × role gate (``tests/gates/test_routes.py``) and the CSRF gate
(``tests/gates/test_csrf.py``) read this table; a route of ``create_app()`` missing here fails
them, and so does an entry without its route. A new route joins the gates by one line here.

Identities (``tests/authz_world.py`` builds them): ``anonymous``; the ``participant`` of couple
UJI-001 in cohort ``uji`` and his ``partner``; ``other_participant`` of couple LAIN-001 in
cohort ``lain``; the ``facilitator`` of ``uji`` and ``other_facilitator`` of ``lain``; ``kpk``;
``admin``; and ``token``, a client holding only an API bearer token.

An entry's ``allowed`` identities may use the route on the world's objects (``uji``'s cohort,
UJI-001's couple, reflection, attempts…). Everyone else is refused, and how follows from
``roles``, the roles that may use the route at all: not signed in → the sign-in page (401 on
the API); a role outside ``roles`` → 403; a role inside ``roles`` whose object is someone
else's → 404, the same answer as for an object that does not exist.

Path parameters and form values name the world's values in braces: ``{cohort}`` is the slug of
the cohort the request is about, ``{participant_id}`` a participant of it, and so on (see
``authz_world.build_site``: ``subject`` for cohort ``uji``, ``stranger`` for ``lain``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Final

IDENTITIES: Final = (
    "anonymous",
    "participant",
    "partner",
    "other_participant",
    "facilitator",
    "other_facilitator",
    "kpk",
    "admin",
    "token",
)
ROLE_OF: Final = {
    "participant": "participant",
    "partner": "participant",
    "other_participant": "participant",
    "facilitator": "facilitator",
    "other_facilitator": "facilitator",
    "kpk": "kpk",
    "admin": "admin",
}
SIGNED_IN: Final = frozenset(ROLE_OF)
EVERYONE: Final = frozenset(IDENTITIES)
PARTICIPANTS: Final = frozenset({"participant", "partner", "other_participant"})
COUPLE: Final = frozenset({"participant", "partner"})
OWNER: Final = frozenset({"participant"})
FACILITATORS: Final = frozenset({"facilitator", "other_facilitator", "admin"})
COHORT_STAFF: Final = frozenset({"facilitator", "admin"})  # of cohort ``uji``
KPK: Final = frozenset({"kpk", "admin"})
ADMIN: Final = frozenset({"admin"})
TOKEN: Final = frozenset({"token"})

# values that belong to one cohort: a request about cohort A that names B's is refused
COHORT_OBJECTS: Final = frozenset({"participant_id", "couple_code", "reflection_id"})


@dataclass(frozen=True)
class Entry:
    method: str
    path: str
    allowed: frozenset[str]
    roles: frozenset[str] = frozenset()  # default: the roles of ``allowed``
    params: Mapping[str, str] = field(default_factory=dict)
    form: Mapping[str, str | tuple[str, ...]] = field(default_factory=dict)
    # the route's own answer is the sign-in page (``/``, ``/logout``): refused and allowed
    # look alike, so the gate checks only that the answer is not an error
    to_login: bool = False
    # ends the caller's session: the gate signs the identity in again afterwards
    signs_out: bool = False
    # the minimal form is refused by the route's own rules (409/422) for everyone allowed:
    # the request proves access, not the change; why, in words (every other entry must get
    # at least one allowed identity through)
    refused: str = ""
    # the route answers 403 with its own window's date (``data-window``) for everyone allowed
    # at the world's time: a follow-up not open yet; why, in words
    window: str = ""
    # the answer may be kept by a cache: it carries nothing personal (the API's public
    # documentation); why, in words
    cacheable: str = ""

    @property
    def key(self) -> tuple[str, str]:
        return self.method, self.path

    @property
    def api(self) -> bool:
        return self.path.startswith("/api/")

    @property
    def unsafe(self) -> bool:
        return self.method in {"POST", "PUT", "PATCH", "DELETE"}

    @property
    def role_set(self) -> frozenset[str]:
        if self.roles:
            return self.roles
        return frozenset(ROLE_OF[i] for i in self.allowed if i in ROLE_OF)

    @property
    def cohort_scoped(self) -> bool:
        """About one cohort and one of its objects: a facilitator's request that names their
        own cohort with another cohort's object (or the reverse) must be refused too."""
        names = set(self.params.values()) | {
            v for value in self.form.values() for v in _names(value)
        }
        return "{cohort}" in names and bool({f"{{{n}}}" for n in COHORT_OBJECTS} & names)

    def url(self, values: Mapping[str, str]) -> str:
        """The address, its parameters filled from the world's values."""
        return self.path.format(**{k: v.format(**values) for k, v in self.params.items()})

    def data(self, values: Mapping[str, str]) -> dict[str, str | list[str]]:
        """The minimal form, filled from the world's values."""
        return {
            k: v.format(**values) if isinstance(v, str) else [x.format(**values) for x in v]
            for k, v in self.form.items()
        }

    def expected(self, identity: str) -> str:
        """``allowed``, ``login``, ``401``, ``403`` or ``404`` for an identity."""
        if identity in self.allowed:
            return "allowed"
        if self.api:
            return "401"
        if identity not in ROLE_OF:
            return "login"
        return "404" if ROLE_OF[identity] in self.role_set else "403"


def _names(value: str | tuple[str, ...]) -> Iterable[str]:
    return (value,) if isinstance(value, str) else value


def R(  # noqa: N802 — reads as a table row
    method: str,
    path: str,
    allowed: Iterable[str],
    *,
    roles: Iterable[str] = (),
    params: Mapping[str, str] | None = None,
    form: Mapping[str, str | tuple[str, ...]] | None = None,
    **options: object,
) -> Entry:
    return Entry(
        method,
        path,
        frozenset(allowed),
        roles=frozenset(roles),
        params=params or {},
        form=form or {},
        **options,  # type: ignore[arg-type]
    )


SLUG = {"slug": "{cohort}"}
COHORT_FORM = {
    "code_prefix": "UJI",
    "region_id": "{region_id}",
    "title": "Angkatan uji",
    "venue": "Aula",
    "workshop_start": "{workshop_day}",
    "workshop_end": "{workshop_end}",
    "pre_opens": "{pre_opens}",
    "post_closes": "{post_closes}",
    "jp_workshop": "16",
    "jp_rounding": "nearest",
    "organizers": "Pemerintah Kota Uji dan KPK",
    "signatory_title": "Sekretaris Daerah Kota Uji",
    "signatory_name": "Nama Contoh",
}

ROUTES: Final[tuple[Entry, ...]] = (
    # ------------------------------------------------------------ accounts
    R("GET", "/", EVERYONE, to_login=True),
    R("GET", "/login", EVERYONE),
    R(
        "POST",
        "/login",
        EVERYONE,
        form={"username": "", "password": ""},
        refused="a sign-in ends the caller's session",
    ),
    R("POST", "/logout", EVERYONE, to_login=True, signs_out=True),
    R("POST", "/language", EVERYONE, form={"locale": "id", "next": "/"}),
    R("GET", "/account", SIGNED_IN),
    R(
        "POST",
        "/account/password",
        SIGNED_IN,
        form={"current": "{password}", "password": "pendek", "password2": "lain"},
        refused="a new password ends every other session",
    ),
    R("GET", "/privacy", EVERYONE),
    R("GET", "/privacy/consent", SIGNED_IN),
    R("POST", "/privacy/consent", SIGNED_IN, form={"version": "1", "consent": "yes"}),
    R("GET", "/account/data", SIGNED_IN),
    R("GET", "/account/data.json", SIGNED_IN),
    R("GET", "/account/data.html", SIGNED_IN),
    R("POST", "/account/data/contact", SIGNED_IN, form={"contact": "0812 3456 7890"}),
    R(
        "POST",
        "/account/data/withdraw",
        PARTICIPANTS,
        refused="without the box ticked nothing is withdrawn: the request proves access only",
    ),
    R("GET", "/privacy/requests", FACILITATORS),
    R(
        "POST",
        "/privacy/requests",
        ADMIN,
        form={"username": "{spare_participant}", "note": "Surat 2/2026"},
    ),
    R(
        "POST",
        "/privacy/requests/{request_id}/erase",
        ADMIN,
        params={"request_id": "{erasure_id}"},
    ),
    R("GET", "/activate", EVERYONE),
    R(
        "POST",
        "/activate",
        EVERYONE,
        form={
            "code": "{activation_code}",
            "password": "pendek",
            "password2": "lain",
            "consent": "yes",
        },
        refused="the code is used once",
    ),
    # ------------------------------------------------------------ learning
    R("GET", "/learn", PARTICIPANTS),
    R("GET", "/learn/glossary", SIGNED_IN),
    R("GET", "/learn/lessons/{slug}", PARTICIPANTS, params={"slug": "{lesson}"}),
    R(
        "POST",
        "/learn/lessons/{slug}/checks/{question_id}",
        PARTICIPANTS,
        params={"slug": "{lesson}", "question_id": "{check_id}"},
        form={"choice": "{check_choice}"},
    ),
    R("POST", "/learn/lessons/{slug}/complete", PARTICIPANTS, params={"slug": "{lesson}"}),
    R("GET", "/learn/quizzes/{slug}", PARTICIPANTS, params={"slug": "{taken_quiz}"}),
    R(
        "POST",
        "/learn/quizzes/{slug}/start",
        PARTICIPANTS,
        params={"slug": "{taken_quiz}"},
        refused="the pre-test is taken once",
    ),
    # the attempt in the form is the participant's open one: anyone else's answer is 404
    R(
        "POST",
        "/learn/quizzes/{slug}/save",
        OWNER,
        params={"slug": "{open_quiz}"},
        form={"attempt_id": "{attempt_id}"},
    ),
    R(
        "POST",
        "/learn/quizzes/{slug}/submit",
        OWNER,
        params={"slug": "{open_quiz}"},
        form={"attempt_id": "{attempt_id}"},
        refused="unanswered questions: the attempt stays open for the routes after it",
    ),
    # the participant's own first attempt; the others have none of that number
    R(
        "GET",
        "/learn/quizzes/{slug}/attempts/{number}",
        OWNER,
        params={"slug": "{open_quiz}", "number": "1"},
    ),
    R("GET", "/learn/results", PARTICIPANTS),
    # ------------------------------------------------------------ family
    R("GET", "/family", PARTICIPANTS),
    R(
        "POST",
        "/family/reflections/{slug}",
        PARTICIPANTS,
        params={"slug": "{module}"},
        form={"text": "Kami belajar jujur bersama."},
    ),
    R("POST", "/family/reflections/{slug}/confirm", PARTICIPANTS, params={"slug": "{module}"}),
    R("POST", "/family/pledge", PARTICIPANTS, refused="signed after the post-test"),
    # the certificate of the couple UJI-001; the other couple has none
    R("GET", "/family/certificate.pdf", COUPLE),
    # ------------------------------------------------------------ after the workshop
    # the world's workshop is a week ahead: sending the survey, a check-in or the knowledge
    # check is refused with the window's date (403, marked data-window); the plan waits for
    # the last module
    R("GET", "/survey", PARTICIPANTS),
    R("POST", "/survey", PARTICIPANTS, window="the survey opens after the workshop"),
    R("GET", "/family/plan", PARTICIPANTS),
    R(
        "POST",
        "/family/plan",
        PARTICIPANTS,
        form={"what-1": "Jujur", "who-1": "Kami", "by-1": "2026-12-31"},
        refused="written after the last module's lessons",
    ),
    R("POST", "/family/plan/confirm", PARTICIPANTS, refused="no plan to confirm yet"),
    R("GET", "/family/checkins/{round_}", PARTICIPANTS, params={"round_": "1"}),
    R(
        "POST",
        "/family/checkins/{round_}",
        PARTICIPANTS,
        params={"round_": "1"},
        window="the check-in opens 30 days after the workshop",
    ),
    R("GET", "/learn/retention", PARTICIPANTS),
    R("POST", "/learn/retention/start", PARTICIPANTS, window="with the 90-day check-in"),
    R(
        "POST",
        "/learn/retention/submit",
        PARTICIPANTS,
        refused="the knowledge check is not started",
    ),
    # ------------------------------------------------------------ certificates
    R("GET", "/verify/{code}", EVERYONE, params={"code": "{certificate}"}),
    R(
        "POST",
        "/admin/certificates/revoke",
        ADMIN,
        form={"code": "{spare_certificate}", "reason": "uji"},
    ),
    # ------------------------------------------------------------ facilitator
    R("GET", "/facilitator", FACILITATORS),
    R("GET", "/facilitator/roster-template.csv", FACILITATORS),
    R("GET", "/facilitator/items", FACILITATORS),
    R("GET", "/facilitator/cohorts/{slug}", COHORT_STAFF, params=SLUG),
    R(
        "POST",
        "/facilitator/cohorts/{slug}/participants/{user_id}/reminded",
        COHORT_STAFF,
        params={**SLUG, "user_id": "{participant_id}"},
        form={"stage": "m1-quiz", "channel": "whatsapp"},
    ),
    R(
        "GET",
        "/facilitator/cohorts/{slug}/remind",
        COHORT_STAFF,
        params=SLUG,
    ),
    R(
        "GET",
        "/facilitator/cohorts/{slug}/reminder-texts",
        COHORT_STAFF,
        params=SLUG,
    ),
    R(
        "POST",
        "/facilitator/cohorts/{slug}/reminder-texts",
        COHORT_STAFF,
        params=SLUG,
    ),
    R(
        "GET",
        "/facilitator/cohorts/{slug}/couples/{code}",
        COHORT_STAFF,
        params={**SLUG, "code": "{couple_code}"},
    ),
    R(
        "GET",
        "/facilitator/cohorts/{slug}/results",
        COHORT_STAFF,
        params=SLUG,
    ),
    R(
        "GET",
        "/facilitator/cohorts/{slug}/items",
        COHORT_STAFF,
        params=SLUG,
    ),
    R(
        "GET",
        "/facilitator/cohorts/{slug}/evaluation",
        COHORT_STAFF,
        params=SLUG,
    ),
    R(
        "GET",
        "/facilitator/cohorts/{slug}/export.{kind}",
        COHORT_STAFF,
        params={**SLUG, "kind": "csv"},
    ),
    R(
        "GET",
        "/facilitator/cohorts/{slug}/report.pdf",
        COHORT_STAFF,
        params=SLUG,
    ),
    R(
        "GET",
        "/facilitator/cohorts/{slug}/attendance",
        COHORT_STAFF,
        params=SLUG,
    ),
    R(
        "POST",
        "/facilitator/cohorts/{slug}/attendance",
        COHORT_STAFF,
        params=SLUG,
        form={"user": "{participant_id}", "day": "{workshop_day}", "present": "1"},
    ),
    R(
        "GET",
        "/facilitator/cohorts/{slug}/import",
        COHORT_STAFF,
        params=SLUG,
    ),
    R(
        "POST",
        "/facilitator/cohorts/{slug}/import",
        COHORT_STAFF,
        params=SLUG,
        form={"action": "check"},
        refused="a form without its file (uploads are the fuzz gate's)",
    ),
    R(
        "GET",
        "/facilitator/cohorts/{slug}/cards",
        COHORT_STAFF,
        params=SLUG,
    ),
    R(
        "GET",
        "/facilitator/cohorts/{slug}/cards.pdf",
        COHORT_STAFF,
        params=SLUG,
    ),
    R(
        "POST",
        "/facilitator/cohorts/{slug}/participants/{user_id}/extra-attempt",
        COHORT_STAFF,
        params={**SLUG, "user_id": "{participant_id}"},
        form={"quiz": "{open_quiz}"},
        refused="the participant still has an attempt left",
    ),
    # the participant has activated: the confirmation page, no new code yet
    R(
        "POST",
        "/facilitator/cohorts/{slug}/participants/{user_id}/reissue",
        COHORT_STAFF,
        params={**SLUG, "user_id": "{participant_id}"},
    ),
    R(
        "GET",
        "/facilitator/cohorts/{slug}/participants/{user_id}/details",
        COHORT_STAFF,
        params={**SLUG, "user_id": "{participant_id}"},
    ),
    R(
        "POST",
        "/facilitator/cohorts/{slug}/participants/{user_id}/details",
        COHORT_STAFF,
        params={**SLUG, "user_id": "{participant_id}"},
        form={"display_name": "Pak Uji", "position": "Kepala Bidang", "contact": "0812 3456 7890"},
    ),
    R(
        "GET",
        "/facilitator/cohorts/{slug}/reflections",
        COHORT_STAFF,
        params=SLUG,
    ),
    R("GET", "/facilitator/cohorts/{slug}/follow-up", COHORT_STAFF, params=SLUG),
    R(
        "POST",
        "/facilitator/cohorts/{slug}/reflections/{reflection_id}/reply",
        COHORT_STAFF,
        params={**SLUG, "reflection_id": "{reflection_id}"},
        form={"text": "Terima kasih, Bapak dan Ibu."},
    ),
    # ------------------------------------------------------------ KPK
    R("GET", "/kpk", KPK),
    R("GET", "/kpk/cohorts/{slug}", KPK, params=SLUG),
    R("GET", "/kpk/export.{kind}", KPK, params={"kind": "csv"}),
    # ------------------------------------------------------------ administration
    R("GET", "/admin", ADMIN),
    R("GET", "/admin/audit", ADMIN),
    R("GET", "/admin/audit.csv", ADMIN),
    # creations: the first request makes it, a second one is refused as taken (422)
    R(
        "POST",
        "/admin/regions",
        ADMIN,
        form={"slug": "wilayah-gerbang", "name": "Wilayah Gerbang", "province": "Banten"},
    ),
    R(
        "POST",
        "/admin/organizations",
        ADMIN,
        form={"region_id": "{region_id}", "name": "Dinas Gerbang"},
    ),
    R(
        "POST",
        "/admin/cohorts",
        ADMIN,
        form={**COHORT_FORM, "slug": "gerbang", "code_prefix": "GRB", "title": "Gerbang"},
    ),
    R("GET", "/admin/cohorts/{slug}", ADMIN, params=SLUG),
    # the cohort's own values again: saved, and the rest of the world stays as it was
    R("POST", "/admin/cohorts/{slug}", ADMIN, params=SLUG, form=COHORT_FORM),
    R(
        "POST",
        "/admin/cohorts/{slug}/facilitators",
        ADMIN,
        params=SLUG,
        form={"user_id": "{facilitator_id}", "action": "add"},
    ),
    R(
        "POST",
        "/admin/users",
        ADMIN,
        form={
            "username": "staf-gerbang",
            "name": "Staf Gerbang",
            "role": "kpk",
            "password": "kata-sandi-gerbang-1",
        },
    ),
    R(
        "POST",
        "/admin/users/{user_id}/active",
        ADMIN,
        params={"user_id": "{spare_user_id}"},
        form={"active": "1"},
    ),
    R("GET", "/admin/api-tokens", ADMIN),
    R("POST", "/admin/api-tokens", ADMIN, form={"name": "gerbang-baru"}),
    R(
        "POST",
        "/admin/api-tokens/{token_id}/revoke",
        ADMIN,
        params={"token_id": "{spare_token_id}"},
    ),
    # ------------------------------------------------------------ operations
    R("GET", "/healthz", EVERYONE),
    # ------------------------------------------------------------ the JSON API (bearer only)
    R(
        "GET",
        "/api/v1/openapi.json",
        EVERYONE,
        cacheable="the API's published schema: no data",
    ),
    R("GET", "/api/v1/docs", EVERYONE, cacheable="the API's documentation page: no data"),
    R("GET", "/api/v1/docs.js", EVERYONE, cacheable="the documentation's script: no data"),
    R("GET", "/api/v1/regions", TOKEN),
    R("GET", "/api/v1/organizations", TOKEN),
    R("GET", "/api/v1/cohorts", TOKEN),
    R("GET", "/api/v1/funnel", TOKEN),
    R("GET", "/api/v1/gain", TOKEN),
    R("GET", "/api/v1/trend", TOKEN),
    R("GET", "/api/v1/comparison", TOKEN),
    R("GET", "/api/v1/followup", TOKEN),
)

BY_KEY: Final = {entry.key: entry for entry in ROUTES}
assert len(BY_KEY) == len(ROUTES), "a route is declared twice"
