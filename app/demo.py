"""``integritas seed-demo``: the demo accounts, cohorts and history (safe to run again)."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any

from sqlalchemy import func, select, text, update
from sqlmodel import Session, col

from app.accounts.models import Role, User
from app.accounts.service import hash_password
from app.cohorts.models import Cohort, CohortFacilitator, Couple, Organization, Region
from app.config import Settings
from app.curriculum.models import Lesson, LessonProgress, Module
from app.db import Database, saved_id, utcnow
from app.learning.rules import attempt_passed, is_late, workshop_over_at
from app.privacy.models import CURRENT_NOTICE
from app.privacy.service import consent_give

# tng-demo participants who have not activated their accounts yet (their cards still work)
DEMO_NOT_ACTIVATED = frozenset({"tngd-004b", "tngd-007a", "tngd-007b", "tngd-010b"})
DEMO_PASSWORD = "demo-integritas"  # noqa: S105 — the published demo password (README)

ORGANIZATIONS = [
    "Dinas Pendidikan",
    "Dinas Kesehatan",
    "Dinas Pekerjaan Umum dan Penataan Ruang",
    "Dinas Perhubungan",
    "Dinas Sosial",
    "Dinas Kependudukan dan Pencatatan Sipil",
    "Dinas Lingkungan Hidup",
    "Dinas Komunikasi dan Informatika",
    "Badan Perencanaan Pembangunan Daerah",
    "Badan Pengelolaan Keuangan Daerah",
    "Badan Pendapatan Daerah",
    "Badan Kepegawaian dan Pengembangan Sumber Daya Manusia",
    "Inspektorat",
    "Satuan Polisi Pamong Praja",
]
MEN = [
    "Ahmad",
    "Budi",
    "Dedi",
    "Eko",
    "Fajar",
    "Gunawan",
    "Hendra",
    "Irfan",
    "Joko",
    "Kurniawan",
    "Lukman",
    "Muhammad",
    "Nanang",
    "Om",
    "Rahmat",
    "Slamet",
    "Teguh",
    "Wahyu",
    "Yusuf",
    "Agus",
    "Bambang",
    "Dodi",
    "Hari",
    "Iwan",
    "Rudi",
]
WOMEN = [
    "Ani",
    "Dewi",
    "Endang",
    "Fitri",
    "Indah",
    "Kartika",
    "Lestari",
    "Maya",
    "Nur",
    "Ratna",
    "Siti",
    "Tuti",
    "Wulan",
    "Yanti",
    "Rina",
    "Dian",
    "Ika",
    "Lina",
    "Mega",
    "Puspita",
]
FAMILY = [
    "Santoso",
    "Hidayat",
    "Saputra",
    "Wijaya",
    "Setiawan",
    "Nugroho",
    "Pratama",
    "Siregar",
    "Harahap",
    "Nasution",
    "Kusuma",
    "Rahman",
    "Hakim",
    "Suryadi",
    "Permana",
    "Gunadi",
    "Sitompul",
    "Lubis",
    "Firmansyah",
    "Hasibuan",
    "Ma'ruf",
    "Syahputra",
]
TITLES = ["Drs.", "Ir.", "H.", "Dr.", "", "", ""]
DEGREES = ["M.Si.", "M.M.", "S.T., M.T.", "M.Pd.", "S.H., M.H.", "M.A.P.", "S.E., M.Ak."]
POSITIONS = [
    "Kepala Dinas",
    "Sekretaris Dinas",
    "Kepala Bidang",
    "Kepala Badan",
    "Inspektur",
    "Kepala Satuan",
    "Sekretaris Badan",
]


def _local(day: date, hour: int, tz: tzinfo) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=tz).astimezone(UTC)


def _ensure_user(session: Session, *, settings: Settings, password_hash: str, **fields) -> User:
    user = session.execute(
        select(User).where(User.username == fields["username"])
    ).scalar_one_or_none()
    if user is None:
        user = User(password_hash=password_hash, **fields)
        session.add(user)
        session.flush()
        _agree(session, user, utcnow())
    return user


def _agree(session: Session, user: User, now: datetime) -> None:
    """A demo account has agreed to the published privacy notice, as its activation (or
    first sign-in) would have recorded."""
    notice = session.execute(CURRENT_NOTICE).scalar()
    if notice is not None and user.consent_version != notice:
        consent_give(session, user_id=saved_id(user), version=notice, now=now)
        user.consent_version = notice


# What the demo cohorts' certificates state. The signatory is a made-up person under the
# title of an office; no signature image.
DEMO_CERTIFICATE_FACTS: dict[str, Any] = {
    "jp_workshop": 16,  # two workshop days of 8 JP
    "jp_rounding": "nearest",
    "organizers": "Pemerintah Kota Tangerang dan Komisi Pemberantasan Korupsi (KPK)",
    "signatory_title": "Sekretaris Daerah Kota Tangerang",
    "signatory_name": "Contoh Penandatangan, S.Sos., M.Si.",
}


def _ensure_cohort(session: Session, **fields) -> Cohort:
    cohort = session.execute(
        select(Cohort).where(Cohort.slug == fields["slug"])
    ).scalar_one_or_none()
    if cohort is None:
        cohort = Cohort(**fields, **DEMO_CERTIFICATE_FACTS)
        session.add(cohort)
        session.flush()
    elif not (cohort.jp_workshop or cohort.organizers or cohort.signatory_name):
        # a demo seeded before cohorts held these facts: given them once
        for key, value in DEMO_CERTIFICATE_FACTS.items():
            setattr(cohort, key, value)
    return cohort


def make_roster_csv(n: int, *, seed: int = 2024, organizations: list[str] | None = None) -> bytes:
    """A roster in the template's format with ``n`` realistic, made-up couples."""
    import csv
    import io

    from app.cohorts.roster import COLUMNS

    rng = random.Random(seed)  # noqa: S311 — demo data, reproducible
    orgs = organizations or ORGANIZATIONS
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    for i in range(1, n + 1):
        family = rng.choice(FAMILY)
        title = rng.choice(TITLES)
        official = " ".join(p for p in [title, rng.choice(MEN), family] if p)
        if n > 100:  # keep every official distinct in a large roster
            official += f" {i:04d}"
        official += ", " + rng.choice(DEGREES)
        org = orgs[(i - 1) % len(orgs)]
        nip = (
            f"19{rng.randint(60, 85)}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}"
            f"{rng.randint(1990, 2015)}{rng.randint(1, 12):02d}1{rng.randint(0, 999):03d}"
        )
        writer.writerow(
            [
                org,
                official,
                nip if rng.random() < 0.8 else "",
                f"{rng.choice(POSITIONS)} {org}",
                f"0812 {1000 + i:04d} {rng.randint(100, 999)}",
                f"{rng.choice(WOMEN)} {rng.choice(FAMILY)}",
                f"+62 813-{2000 + i:04d}-{rng.randint(100, 999)}" if rng.random() < 0.9 else "",
            ]
        )
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def _import(session: Session, cohort: Cohort, data: bytes, now: datetime, secret: str) -> None:
    """Through the same code path as a facilitator's upload."""
    from app.cohorts.roster import parse_roster
    from app.cohorts.service import roster_import

    result = roster_import(
        session,
        cohort=cohort,
        parsed=parse_roster(data, "demo.csv"),
        actor_id=None,
        now=now,
        activation_days=30,
        secret=secret,
    )
    if not result.ok:
        raise RuntimeError(f"demo roster refused: {result.problems[:3]}")


def _activate_all(
    session: Session,
    cohort: Cohort,
    password_hash: str,
    now: datetime,
    renames: dict[str, str] | None = None,
    skip: frozenset[str] = frozenset(),
) -> list[User]:
    """Demo participants are already activated, with the demo password (but those in
    ``skip``, who still have their card's code). Returns the activated."""
    from app.cohorts.models import ActivationCode

    users = list(
        session.execute(
            select(User)
            .join(Couple, col(Couple.id) == User.couple_id)
            .where(col(Couple.cohort_id) == cohort.id)
            .order_by(col(User.username))
        ).scalars()
    )
    users = [u for u in users if u.username not in skip]
    for user in users:
        if renames and user.username in renames:
            user.username = renames[user.username]
        if user.password_hash is None:
            user.password_hash = password_hash
        _agree(session, user, now)
    session.execute(
        update(ActivationCode)
        .where(
            col(ActivationCode.user_id).in_([u.id for u in users]),
            col(ActivationCode.used_at).is_(None),
        )
        .values(used_at=now, code_seed=None)
    )
    session.flush()
    return users


def seed_demo(db: Database, settings: Settings, *, today: date | None = None) -> str:
    now = utcnow()
    tz = settings.tz
    today = today or now.astimezone(tz).date()
    password_hash = hash_password(DEMO_PASSWORD, settings)
    with db.write() as session:
        region = session.execute(
            select(Region).where(col(Region.slug) == "kota-tangerang")
        ).scalar_one_or_none()
        if region is None:
            region = Region(slug="kota-tangerang", name="Kota Tangerang", province="Banten")
            session.add(region)
            session.flush()
        region_id = saved_id(region)
        orgs = {
            o.name: o
            for o in session.execute(
                select(Organization).where(col(Organization.region_id) == region_id)
            ).scalars()
        }
        for name in ORGANIZATIONS:
            if name not in orgs:
                orgs[name] = Organization(region_id=region_id, name=name)
                session.add(orgs[name])
        session.flush()

        staff = {}
        for username, name, role in [
            ("admin", "Admin Platform", Role.admin),
            ("fasilitator", "Rina Fasilitator", Role.facilitator),
            ("kpk", "Analis KPK", Role.kpk),
        ]:
            staff[username] = _ensure_user(
                session,
                settings=settings,
                password_hash=password_hash,
                username=username,
                display_name=name,
                role=role,
            )

        start = today + timedelta(days=7)
        demo = _ensure_cohort(
            session,
            slug="tng-demo",
            code_prefix="TNGD",
            region_id=region_id,
            title="Bimtek Keluarga Berintegritas Kota Tangerang (Angkatan Demo)",
            venue="Pusat Pemerintahan Kota Tangerang",
            workshop_start=start,
            workshop_end=start + timedelta(days=1),
            pre_opens=_local(today - timedelta(days=7), 0, tz),
            post_closes=_local(start + timedelta(days=45), 23, tz),
        )
        historic = _ensure_cohort(
            session,
            slug="tng-2024",
            code_prefix="TNG24",
            region_id=region_id,
            title="Bimtek Keluarga Berintegritas Kota Tangerang",
            venue="Hotel Novotel Kota Tangerang",
            workshop_start=date(2024, 10, 14),
            workshop_end=date(2024, 10, 15),
            pre_opens=_local(date(2024, 9, 30), 0, tz),
            post_closes=_local(date(2024, 11, 30), 23, tz),
        )
        for cohort in (demo, historic):
            if session.get(CohortFacilitator, (cohort.id, staff["fasilitator"].id)) is None:
                session.add(
                    CohortFacilitator(
                        cohort_id=saved_id(cohort), user_id=saved_id(staff["fasilitator"])
                    )
                )

        budi_row = (
            b"organisasi,nama_pejabat,nip,jabatan,kontak_pejabat,nama_pasangan,kontak_pasangan\n"
            b"Dinas Pendidikan,Budi Santoso,,Kepala Dinas Pendidikan,0812 7000 1001,"
            b"Sari Wulandari,0813 7000 1002\n"
        )
        _import(session, demo, budi_row, now, settings.secret())
        _import(session, demo, make_roster_csv(12, seed=2026), now, settings.secret())
        demo_users = _activate_all(
            session,
            demo,
            password_hash,
            now,
            renames={"tngd-001a": "budi", "tngd-001b": "sari"},
            skip=DEMO_NOT_ACTIVATED,
        )
        _historic_progress(
            session,
            demo,
            [u for u in demo_users if u.username not in ("budi", "sari")],
            tz,
            early_until=now - timedelta(hours=1),
        )
        _import(session, historic, make_roster_csv(40, seed=2024), now, settings.secret())
        historic_users = _activate_all(session, historic, password_hash, now)
        made = _historic_progress(session, historic, historic_users, tz)
        session.flush()
        if session.get_bind().dialect.name == "postgresql":
            # the planner's statistics still say the tables are empty: the history just
            # written (not committed yet) is read by many joins next
            session.execute(text("ANALYZE"))
        _historic_after(session, historic, staff["fasilitator"], settings)
        _historic_followup(session, historic, settings)
    return (
        "Demo ready: admin, fasilitator, kpk, budi + sari and 12 more couples (tng-demo), "
        f"40 couples in tng-2024; {made} lesson records added. Password: {DEMO_PASSWORD}"
    )


def _historic_progress(
    session: Session,
    cohort: Cohort,
    users: list[User],
    tz: tzinfo,
    *,
    early_until: datetime | None = None,
) -> int:
    """Realistic history for the 2024 cohort, following the same rules as the site: the
    pre-test first, lessons with their checks in order, module quizzes (up to three tries),
    module 3 after the workshop, then the post-test. Most finished; some stalled; a few
    barely started. With ``early_until``: a cohort still before its workshop, everyone in an
    early stage, nothing after that moment. Made once: nothing when anyone has a record.
    Returns lessons recorded."""
    from app.curriculum.models import Choice, Question, Quiz
    from app.quizzes.models import AttemptItem, CheckAnswer, QuizAttempt
    from app.quizzes.scoring import attempt_percent, score_item

    lessons = session.execute(
        select(col(Lesson.id), col(Lesson.phase), col(Lesson.module_id))
        .join(Module, col(Module.id) == Lesson.module_id)
        .where(col(Lesson.active).is_(True), col(Module.active).is_(True))
        .order_by(col(Module.position), col(Lesson.position))
    ).all()
    if not lessons:
        return 0
    ids = [u.id for u in users]
    started = set(
        session.execute(
            select(col(LessonProgress.user_id)).where(col(LessonProgress.user_id).in_(ids))
        ).scalars()
    ) | set(
        session.execute(
            select(col(QuizAttempt.user_id)).where(col(QuizAttempt.user_id).in_(ids))
        ).scalars()
    )
    quizzes = {q.slug: q for q in session.execute(select(Quiz)).scalars()}
    questions = session.execute(
        select(
            col(Question.id),
            col(Question.pool),
            col(Question.module_id),
            col(Question.lesson_id),
            col(Question.type),
        )
        .where(col(Question.current).is_(True))
        .order_by(col(Question.position), col(Question.id))
    ).all()
    choices: dict[int, list[tuple[int, bool]]] = {}
    for cid, qid, correct in session.execute(
        select(col(Choice.id), col(Choice.question_id), col(Choice.correct)).order_by(
            col(Choice.position)
        )
    ).all():
        choices.setdefault(qid, []).append((cid, correct))
    kinds = {q[0]: q[4] for q in questions}
    prepost = [q[0] for q in questions if q[1] == "prepost"]
    by_module: dict[int, list[int]] = {}  # module id → its quiz questions
    checks: dict[int, list[int]] = {}  # lesson id → its check questions
    for q in questions:
        if q[1] == "quiz":
            by_module.setdefault(q[2], []).append(q[0])
        elif q[1] == "check":
            checks.setdefault(q[3], []).append(q[0])

    rng = random.Random(1014)  # noqa: S311 — demo data, reproducible
    end = workshop_over_at(cohort.workshop_end, tz)  # when "after" lessons open

    def answer(qid: int, p_right: float) -> tuple[list[int], float]:
        options = choices[qid]
        right = [c for c, ok in options if ok]
        if rng.random() < p_right:
            picked = right
        else:
            wrong = [c for c, ok in options if not ok] or right
            picked = [rng.choice(wrong)]
        return picked, score_item(kinds[qid], [c for c, _ in options], right, picked)

    def attempt(
        user: User,
        quiz,
        number: int,
        items: list[int],
        p_right: float,
        when: datetime,
    ) -> bool:
        row = QuizAttempt(
            user_id=saved_id(user),
            quiz_id=quiz.id,
            number=number,
            seed=rng.randrange(2**31),
            started_at=when - timedelta(minutes=15),
        )
        session.add(row)
        session.flush()
        scores = []
        order = list(items)
        rng.shuffle(order)
        for n, qid in enumerate(order, 1):
            picked, s = answer(qid, p_right)
            scores.append(s)
            session.add(
                AttemptItem(
                    attempt_id=saved_id(row),
                    question_id=qid,
                    position=n,
                    selected=picked,
                    answered_at=when,
                    score=s,
                )
            )
        row.submitted_at = when
        row.score = attempt_percent(scores)
        row.passed = attempt_passed(row.score, quiz.pass_mark)
        return row.passed

    made = 0
    if started:  # the cohort's history is made once
        return made
    for user in users:
        ability = rng.uniform(0.3, 0.75)
        profile = rng.random()
        if early_until is not None:
            if profile < 0.3:
                continue  # not started
            reach = 0 if profile < 0.55 else rng.randint(1, 6)
        elif profile < 0.75:
            reach = len(lessons)
        elif profile < 0.90:
            reach = rng.randint(len(lessons) // 3, len(lessons) - 1)
        else:
            reach = rng.randint(0, 2)
        when = cohort.pre_opens + timedelta(hours=rng.randint(10, 60))
        if "pre-test" in quizzes and prepost:
            attempt(user, quizzes["pre-test"], 1, prepost, ability, when)
        done_modules: set[int] = set()
        stalled = False
        for index, (lesson_id, phase, module_id) in enumerate(lessons):
            if index >= reach or stalled:
                break
            if phase == "after" and when < end:
                when = end + timedelta(hours=rng.randint(20, 120))
            when += timedelta(minutes=rng.randint(20, 60 * (8 if early_until else 30)))
            if early_until is not None and when > early_until:
                break
            for qid in checks.get(lesson_id, []):
                picked, s = answer(qid, 0.85)
                session.add(
                    CheckAnswer(
                        user_id=saved_id(user),
                        question_id=qid,
                        selected=picked,
                        correct=s == 1.0,
                        tries=1,
                        answered_at=when,
                    )
                )
            session.add(
                LessonProgress(
                    user_id=saved_id(user),
                    lesson_id=lesson_id,
                    viewed_at=when - timedelta(minutes=8),
                    completed_at=when,
                    late=is_late(phase, when, end),
                )
            )
            made += 1
            last_of_module = index + 1 == len(lessons) or lessons[index + 1][2] != module_id
            if last_of_module:
                quiz = next((q for q in quizzes.values() if q.module_id == module_id), None)
                if quiz is None or module_id not in by_module:
                    continue
                for number in range(1, 4):
                    when += timedelta(hours=rng.randint(1, 20))
                    if attempt(
                        user,
                        quiz,
                        number,
                        by_module[module_id],
                        min(0.97, ability + 0.2 + 0.1 * number),
                        when,
                    ):
                        done_modules.add(module_id)
                        break
                else:
                    stalled = True
        all_modules = {m for _, _, m in lessons}
        if done_modules == all_modules and "post-test" in quizzes and prepost:
            when = max(when, end) + timedelta(hours=rng.randint(2, 48))
            attempt(user, quizzes["post-test"], 1, prepost, min(0.97, ability + 0.3), when)
    return made


# ---------------------------------------------------------------- after the lessons

REFLECTIONS = {
    0: [
        "Kami sepakat bahwa kejujuran dimulai dari rumah: anak-anak melihat bagaimana kami "
        "berbicara tentang uang dan hadiah. Mulai bulan ini kami mencatat pemasukan dan "
        "pengeluaran bersama setiap Minggu malam.",
        "Setelah membaca materi, kami membicarakan nilai tanggung jawab dan kesederhanaan. "
        "Kami memutuskan tidak menerima parsel dari rekanan kantor dan menjelaskannya "
        "kepada keluarga besar saat Lebaran.",
        "Kami belajar bahwa integritas berarti sama antara kata dan perbuatan. Anak kami "
        "yang sulung bertanya kenapa Ayah menolak titipan; kami jelaskan dengan contoh dari "
        "materi ini.",
    ],
    1: [
        "Materi tentang gratifikasi membuka mata kami: hadiah untuk pejabat bisa datang "
        "lewat istri atau anak. Kami sepakat setiap pemberian yang berkaitan dengan jabatan "
        "dibicarakan berdua dulu dan dilaporkan bila perlu.",
        "Kami membahas konflik kepentingan ketika saudara meminta bantuan proyek. Kami "
        "sepakat menolak dengan sopan dan menjelaskan aturannya, walau tidak enak hati.",
        "Kami menyusun aturan keluarga: tidak memakai mobil dinas untuk keperluan pribadi, "
        "termasuk mengantar anak ke sekolah.",
    ],
    2: [
        "Kami sekarang tahu tanda-tanda pencucian uang dan kenapa rekening keluarga bisa "
        "dipakai orang lain. Kami sepakat tidak meminjamkan rekening atau nama kepada siapa "
        "pun.",
        "Rencana aksi keluarga kami: rapat keluarga sebulan sekali membahas keuangan, "
        "anak-anak ikut menabung, dan kami saling mengingatkan bila ada tawaran yang "
        "mencurigakan.",
        "Kami berkomitmen menjadi contoh di lingkungan RT: menolak pungutan liar dan "
        "membayar iuran sesuai aturan.",
    ],
}


def _staff_actor(user: User):
    from app.accounts.models import CurrentUser

    return CurrentUser(
        id=saved_id(user),
        username=user.username,
        display_name=user.display_name,
        role=user.role,
        locale=user.locale,
        couple_id=None,
        partner_role=None,
    )


def _historic_after(
    session: Session,
    cohort: Cohort,
    facilitator: User,
    settings: Settings,
) -> int:
    """Attendance at the workshop, the facilitator's reminders, and — for couples who
    finished — confirmed family reflections and signed pledges (which issue the
    certificates), through the same services as real use. Skipped when the cohort already
    has attendance. Returns the couples completed."""
    from app.certificates.models import Certificate
    from app.cohorts.models import Attendance
    from app.curriculum.models import ContentVersion
    from app.curriculum.service import load_curriculum
    from app.facilitator.service import attendance_mark, reminder_mark, workspace_of
    from app.family.service import pledge_sign, reflection_confirm, reflection_write
    from app.learning.rules import StageKind
    from app.learning.standing import standing_for

    if session.execute(
        select(col(Attendance.id))
        .join(User, col(User.id) == Attendance.user_id)
        .join(Couple, col(Couple.id) == User.couple_id)
        .where(col(Couple.cohort_id) == cohort.id)
        .limit(1)
    ).first():
        return 0
    version = session.execute(select(func.max(ContentVersion.id))).scalar_one()
    if version is None:
        return 0
    curriculum = load_curriculum(session, version)
    tz = settings.tz
    actor = _staff_actor(facilitator)
    rng = random.Random(1510)  # noqa: S311 — demo data, reproducible
    over = workshop_over_at(cohort.workshop_end, tz)
    workspace = workspace_of(
        session, actor=actor, slug=cohort.slug, curriculum=curriculum, now=over, settings=settings
    )
    # attendance: most of those who kept up came; fewer of those who fell behind
    for day_index in range(2):
        day = (cohort.workshop_start + timedelta(days=day_index)).isoformat()
        present: list[int] = []
        absent: list[int] = []
        for person in workspace.people:
            ready = person.stage.kind not in (
                StageKind.not_activated,
                StageKind.pretest,
            ) and (person.stage.module is None or person.stage.module.position > 1)
            chance = 0.95 if ready else 0.55
            (present if rng.random() < chance - 0.05 * day_index else absent).append(person.id)
        at = _local(cohort.workshop_start + timedelta(days=day_index), 9, tz)
        for ids, flag in ((present, True), (absent, False)):
            if ids:
                attendance_mark(
                    session,
                    actor=actor,
                    slug=cohort.slug,
                    user_ids=ids,
                    day=day,
                    present=flag,
                    now=at,
                )
    # family reflections and the pledge, after the post-test
    completed = 0
    users = {
        u.id: u
        for u in session.execute(
            select(User).where(col(User.id).in_([p.id for p in workspace.people]))
        ).scalars()
    }
    late = max(cohort.post_closes - timedelta(days=20), over + timedelta(days=3))
    for couple in workspace.couples:
        if len(couple.partners) != 2:
            continue
        a, b = (users[p.id] for p in couple.partners)
        when = late + timedelta(hours=rng.randint(0, 200))
        stand_a = standing_for(session, user=a, curriculum=curriculum, now=when, tz=tz)
        stand_b = standing_for(session, user=b, curriculum=curriculum, now=when, tz=tz)
        luck = rng.random()
        for index, progress in enumerate(stand_a.mine.modules):
            writer, other = (stand_a, stand_b) if index % 2 == 0 else (stand_b, stand_a)
            if not progress.complete or not (writer.mine.modules[index].complete):
                continue
            reflection_write(
                session,
                standing=writer,
                module_slug=progress.module.slug,
                text=rng.choice(REFLECTIONS.get(index, REFLECTIONS[0])),
                now=when,
            )
            session.flush()
            if luck < 0.85:
                reflection_confirm(
                    session,
                    standing=other,
                    module_slug=progress.module.slug,
                    now=when + timedelta(hours=rng.randint(1, 30)),
                )
        signers = [s for s in (stand_a, stand_b) if s.taken("post-test")]
        for stand in signers if luck < 0.9 else signers[:1]:
            pledge_sign(
                session, standing=stand, now=when + timedelta(days=1, hours=rng.randint(0, 48))
            )
        session.flush()
    completed = session.execute(
        select(func.count(col(Certificate.id)))
        .join(User, col(User.id) == Certificate.user_id)
        .join(Couple, col(Couple.id) == User.couple_id)
        .where(col(Couple.cohort_id) == cohort.id)
    ).scalar_one()
    # the facilitator's reminders: the week before the workshop and the week before the close,
    # to everyone not finished
    workspace = workspace_of(
        session,
        actor=actor,
        slug=cohort.slug,
        curriculum=curriculum,
        now=cohort.post_closes,
        settings=settings,
    )
    for moment in (
        _local(cohort.workshop_start - timedelta(days=4), 19, tz),
        cohort.post_closes - timedelta(days=9),
    ):
        for person in workspace.people:
            if person.stage.kind == StageKind.certificate:
                continue
            if rng.random() < 0.7:
                reminder_mark(
                    session,
                    actor=actor,
                    slug=cohort.slug,
                    user_id=person.id,
                    stage=person.stage.key,
                    channel="whatsapp" if person.channel == "whatsapp" else "other",
                    curriculum=curriculum,
                    now=moment + timedelta(minutes=rng.randint(0, 90)),
                )
    return completed // 2


COMMITMENTS = [
    (
        "Setiap awal bulan kami duduk bersama membahas penghasilan dan asal setiap tambahan.",
        "Kami berdua",
    ),
    (
        "Menolak setiap hadiah yang berhubungan dengan jabatan, juga yang dititipkan lewat anak.",
        "Kami berdua",
    ),
    (
        "Mengisi LHKPN bersama sebelum akhir Februari, lengkap dengan harta pasangan.",
        "Bapak, dibantu Ibu",
    ),
    ("Mobil dinas hanya dipakai untuk urusan dinas, tidak untuk antar-jemput sekolah.", "Bapak"),
    (
        "Makan malam tanpa HP tiga kali seminggu, sambil bercerita tentang nilai kejujuran.",
        "Seluruh keluarga",
    ),
    ("Anak-anak menyisihkan uang saku sendiri untuk keperluan mereka.", "Ibu bersama anak-anak"),
    ("Tidak mengunggah barang mewah atau perjalanan di media sosial.", "Seluruh keluarga"),
    ("Bertanya dengan hangat ‘ini dari mana?’ bila ada uang atau barang di luar gaji.", "Ibu"),
]
CHECKIN_NOTES = [
    "Sudah jalan, walau sekali terlewat karena dinas luar.",
    "Anak-anak mulai ikut mengingatkan.",
    "Masih sulit, kami coba lagi bulan depan.",
    "Sudah kami lakukan dan rasanya lebih tenang.",
]
SURVEY_OPEN = {
    "paling-berguna": [
        "Cara bertanya ‘ini uang dari mana?’ tanpa menuduh.",
        "Belajar bersama pasangan, jadi kami punya bahasa yang sama di rumah.",
        "Penjelasan tentang gratifikasi yang dititipkan lewat keluarga.",
        "Contoh-contoh kasus yang dekat dengan kehidupan sehari-hari.",
    ],
    "saran": [
        "Waktu lokakarya sebaiknya tidak bertepatan dengan akhir pekan panjang.",
        "Materi pencucian uang perlu contoh yang lebih sederhana.",
        "Ruangan terlalu dingin, dan jeda makan siang terlalu singkat.",
        "Tambahkan sesi untuk anak remaja.",
    ],
}


def _historic_followup(session: Session, cohort: Cohort, settings: Settings) -> None:
    """After tng-2024's workshop, through the same services as real use: survey answers,
    family action plans drafted and confirmed, check-ins at 30 and 90 days and the retention
    check, in realistic shares. Skipped when the cohort already has survey answers."""
    from app.curriculum.models import ContentVersion
    from app.curriculum.service import load_curriculum
    from app.followup import service as followup
    from app.followup.models import SurveyTaken
    from app.learning.rules import plan_open
    from app.learning.standing import standing_for

    if session.execute(
        select(col(SurveyTaken.user_id)).where(col(SurveyTaken.cohort_id) == cohort.id).limit(1)
    ).first():
        return
    version = session.execute(select(func.max(ContentVersion.id))).scalar_one()
    survey = followup.survey_text(session)
    if version is None or survey is None:
        return
    curriculum = load_curriculum(session, version)
    tz = settings.tz
    rng = random.Random(2024_12)  # noqa: S311 — demo data, reproducible
    plan = followup.plan_of_cohort(cohort, tz)
    users = list(
        session.execute(
            select(User)
            .join(Couple, col(Couple.id) == User.couple_id)
            .where(col(Couple.cohort_id) == cohort.id)
            .order_by(col(User.id))
        ).scalars()
    )

    def standing(user: User, when: datetime):
        return standing_for(session, user=user, curriculum=curriculum, now=when, tz=tz)

    def at(window, *, within: int) -> datetime:
        return window.opens + timedelta(days=rng.randint(0, within), hours=rng.randint(8, 20))

    # the survey: about seven in ten of those who took the post-test
    for user in users:
        stand = standing(user, plan.survey.opens + timedelta(days=1))
        if not stand.taken("post-test") or rng.random() > 0.72:
            continue
        form = {}
        for item in survey["items"]:
            if item["kind"] == "likert":
                low = 2 if item["topic"] == "venue" else 3
                form[item["slug"]] = str(min(5, max(1, rng.choice([low, 4, 4, 5, 5]))))
            elif item["kind"] == "choice":
                form[item["slug"]] = rng.choices(["ya", "mungkin", "tidak"], [80, 17, 3])[0]
            elif rng.random() < 0.45:
                form[item["slug"]] = rng.choice(SURVEY_OPEN.get(item["slug"], [""]))
        followup.survey_submit(
            session, standing=stand, form=form, now=at(plan.survey, within=14), tz=tz
        )
    session.flush()
    # action plans: couples who finished the last module; one drafts, the other confirms
    couples: dict[int, list[User]] = {}
    for user in users:
        couples.setdefault(user.couple_id or 0, []).append(user)
    start = plan.survey.opens + timedelta(days=2)
    for members in couples.values():
        if len(members) != 2 or rng.random() > 0.8:
            continue
        drafter, other = rng.sample(members, 2)
        stand = standing(drafter, start)
        if not plan_open(stand.mine):
            continue
        picked = rng.sample(COMMITMENTS, rng.randint(2, 4))
        rows = [
            (
                what,
                who,
                (cohort.workshop_end + timedelta(days=rng.choice([30, 60, 90]))).isoformat(),
            )
            for what, who in picked
        ]
        followup.plan_save(session, standing=stand, rows=rows, now=start, tz=tz)
        session.flush()
        if rng.random() < 0.88:
            followup.plan_confirm(
                session, standing=standing(other, start), now=start + timedelta(hours=20)
            )
        session.flush()
    # check-ins: most confirmed plans at 30 days, fewer at 90; marks improve a little
    for round_, answer, weights in ((1, 0.78, [50, 35, 15]), (2, 0.62, [60, 28, 12])):
        window = plan.checkins[round_]
        for members in couples.values():
            view = followup.plan_view(session, couple_id=members[0].couple_id or 0)
            if not view.confirmed:
                continue
            for user in members:
                if rng.random() > answer:
                    continue
                when = at(window, within=12)
                form = {}
                for c in view.commitments:
                    form[f"mark-{c.id}"] = rng.choices(["done", "partly", "not_yet"], weights)[0]
                    if rng.random() < 0.2:
                        form[f"note-{c.id}"] = rng.choice(CHECKIN_NOTES)
                followup.checkin_save(
                    session,
                    standing=standing(user, when),
                    round_=round_,
                    form=form,
                    now=when,
                    tz=tz,
                )
                if round_ == 2 and rng.random() < 0.85:
                    _retention(session, followup, standing(user, when), rng, when, tz)
            session.flush()


def _retention(session: Session, followup, stand, rng: random.Random, when: datetime, tz) -> None:  # noqa: ANN001
    followup.retention_start(session, standing=stand, now=when, tz=tz)
    session.flush()
    attempt = followup.retention_attempt_of(session, user_id=stand.learner.user_id)
    answers = {}
    for q in followup.retention_questions(session, attempt_id=attempt.id):
        right = [c["id"] for c in q.choices if c["correct"]]
        wrong = [c["id"] for c in q.choices if not c["correct"]]
        answers[q.question_id] = right if rng.random() < 0.72 or not wrong else [rng.choice(wrong)]
    followup.retention_submit(session, standing=stand, answers=answers, now=when, tz=tz)
