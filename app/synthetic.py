"""``integritas seed-synthetic``: a realistic, deterministic country of made-up couples for
KPK's national dashboards, the API and the scale benchmarks (DESIGN §7: 100k couples).

What it builds
- 70 local governments (real kabupaten/kota in their real provinces, ``REGIONS``), each with
  12–20 OPDs (``OPD_CORE`` plus a per-region choice from ``OPD_MORE``); one facilitator per
  region (``syn-fas-<code>``) assigned to all of the region's cohorts, and one KPK analyst
  ``syn-kpk``.
- Yearly cohorts 2022–2026, 1–3 per region and year, workshops (two weekdays) spread over the
  year; ``pre_opens`` 14–21 days before the workshop, ``post_closes`` 45–60 days after it.
  When ``couples`` is too small to fill them all (fewer than ~20 couples a cohort), a
  deterministic choice of them is made.
- ``couples`` couples spread over the cohorts (bigger regions get more): an official and a
  spouse with plausible Indonesian names of the region's naming traditions (combinations of
  common given names and family names: no real persons; no NIP, no phone numbers; some have an
  e-mail contact at ``example.org``).
- Progress that follows ``app.learning.rules``: activation, the pre-test first, lessons in
  order, module quizzes with up to three attempts and the pass mark (a facilitator grants a
  fourth now and then), module 3 only after the workshop, the post-test after every module.
  Each person has an ability and an engagement drawn per person and correlated between
  partners, around a level of the cohort (its region and year: the platform grows better year
  by year); drop-off is a chance at every step that depends on engagement. Quiz answers are
  ``AttemptItem`` rows choosing right or wrong choices of the synced curriculum's current
  questions (read from the database), scored by ``app.quizzes.scoring``; items have a
  difficulty of their own, so item analysis has something to find. About 6 million answers at
  100,000 couples (the pre- and post-test have 27 items each, a module quiz 12): about one
  couple in ten completes, one participant in five takes the post-test.
- Attendance for both workshop days (everyone of the roster, present or absent, marked by the
  region's facilitator), family reflections (short synthetic texts, confirmed by the partner,
  some with a facilitator's reply), pledge signatures, and — for couples who are complete by
  ``app.learning.selectors.couple_complete`` — both partners' certificates (codes in the
  app's format, unique).
- Time: nothing happens on or after ``today`` (default: the real date, in ``APP_TIMEZONE``):
  a 2026 cohort still in the future has no progress (or only early progress if its window is
  open); one whose window is open has what happened so far.

Sparse on purpose: lesson-check answers (``CheckAnswer``) are written for one participant in
ten (they are formative and feed no KPK measure; for everyone they would add some 40 rows per
active participant); reminders, surveys and action plans are not generated.

The marker: **every synthetic cohort's slug starts with ``syn-``** (``SYNTHETIC_PREFIX``);
synthetic staff usernames too. Regions are matched by slug and OPDs by name, so a region that
already exists (e.g. the demo's Kota Tangerang) is reused.

Safety: it refuses to write into a database that holds any cohort whose slug does not start
with ``syn-`` (real data) unless ``force``; it refuses when the tables are missing (run
``integritas migrate``) or the curriculum is not synced (run ``integritas content sync``).
Running it again with the same ``couples``, ``seed`` and ``today`` adds nothing (the run is
recorded in the audit log, action ``synthetic.seed``); with other parameters, or after an
interrupted run, it refuses: use a fresh database.

Determinism: ``random.Random`` seeded from ``seed`` (string seeds per cohort, never ``hash()``),
so the same seed, couple count and ``today`` give the same rows, the same ids included, in a
fresh database.

Speed: ids are assigned here (from ``max(id)`` read at the start), so child rows reference
their parents without round trips; rows are written table by table with the statement of
SQLAlchemy Core ``insert(table)`` compiled once and run as an executemany in chunks of 5,000
(SQLite), or with ``COPY`` (PostgreSQL), with values already in the driver's form (SQLAlchemy's
per-value type processing cost more than the insert itself); one transaction per batch of
whole cohorts. The rows bypass the transaction hooks that keep the KPK reports' summary, so
at the end ``app.reports.summary.rebuild`` recomputes it and its cubes (PostgreSQL: after
``ANALYZE``, the planner's statistics still being those of empty tables), in the transaction
that records the run. Nobody else should write to the database meanwhile. Never run it against a
production database: the synthetic accounts share the password ``SYNTHETIC_PASSWORD``.
"""

from __future__ import annotations

import json
import math
import random
import re
import time as clock
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any

from sqlalchemy import Connection, func, insert, inspect, select, text
from sqlmodel import col

from app.accounts.models import AuditLog, PartnerRole, Role
from app.accounts.service import hash_password
from app.certificates.models import Certificate
from app.certificates.service import CERT_ALPHABET
from app.cohorts.models import Cohort, Couple, Organization, Region
from app.config import Settings
from app.curriculum.models import Choice, ContentVersion, Question
from app.curriculum.outline import Curriculum, QuizInfo
from app.curriculum.service import load_curriculum
from app.db import Database, metadata, utcnow
from app.learning.rules import attempt_passed, workshop_over_at
from app.privacy.models import CURRENT_NOTICE
from app.quizzes.scoring import attempt_percent, score_item
from app.reports.models import participant_summary, report_cohort, report_opd
from app.reports.summary import rebuild

SYNTHETIC_PREFIX = "syn-"
SYNTHETIC_PASSWORD = "sintetis-integritas"  # noqa: S105 — synthetic accounts only
AUDIT_ACTION = "synthetic.seed"
YEARS = (2022, 2023, 2024, 2025, 2026)
CHUNK = 5000  # rows per executemany
BATCH_ROWS = 150_000  # rows buffered before a transaction is written
CHECK_SHARE = 0.10  # participants whose lesson-check answers are written
MIN_PER_COHORT = 20
SUMMARY_TABLES = (participant_summary.name, report_cohort.name, report_opd.name)

# ---------------------------------------------------------------- the country

# name | province | code (couple codes) | naming tradition | size (couples weight)
_REGIONS = """
Kota Tangerang|Banten|TNG|sunda|3
Kota Tangerang Selatan|Banten|TGS|sunda|2.5
Kabupaten Tangerang|Banten|KTG|sunda|2.5
Kota Serang|Banten|SRG|sunda|1.2
Kota Cilegon|Banten|CLG|sunda|1
Kota Bandung|Jawa Barat|BDG|sunda|3
Kabupaten Bandung|Jawa Barat|KBD|sunda|2.5
Kota Bekasi|Jawa Barat|BKS|sunda|2.5
Kabupaten Bogor|Jawa Barat|KBG|sunda|2.5
Kota Bogor|Jawa Barat|BGR|sunda|1.5
Kota Depok|Jawa Barat|DPK|sunda|2
Kabupaten Garut|Jawa Barat|GRT|sunda|1.5
Kota Semarang|Jawa Tengah|SMG|jawa|2.5
Kota Surakarta|Jawa Tengah|SKA|jawa|1.5
Kabupaten Banyumas|Jawa Tengah|BMS|jawa|1.5
Kota Magelang|Jawa Tengah|MGL|jawa|0.8
Kabupaten Cilacap|Jawa Tengah|CLP|jawa|1.3
Kota Yogyakarta|DI Yogyakarta|YYK|jawa|1.5
Kabupaten Sleman|DI Yogyakarta|SLM|jawa|1.5
Kabupaten Bantul|DI Yogyakarta|BTL|jawa|1.2
Kota Surabaya|Jawa Timur|SBY|jawa|3
Kota Malang|Jawa Timur|MLG|jawa|2
Kabupaten Sidoarjo|Jawa Timur|SDA|jawa|2
Kabupaten Banyuwangi|Jawa Timur|BWI|jawa|1.5
Kabupaten Jember|Jawa Timur|JBR|jawa|1.5
Kota Denpasar|Bali|DPS|bali|1.5
Kabupaten Badung|Bali|BDU|bali|1.2
Kota Medan|Sumatera Utara|MDN|batak|3
Kabupaten Deli Serdang|Sumatera Utara|DLS|batak|2
Kabupaten Tapanuli Utara|Sumatera Utara|TPU|batak|0.8
Kota Padang|Sumatera Barat|PDG|minang|1.5
Kota Bukittinggi|Sumatera Barat|BKT|minang|0.8
Kota Pekanbaru|Riau|PKU|melayu|2
Kabupaten Kampar|Riau|KMR|melayu|1
Kota Batam|Kepulauan Riau|BTM|melayu|2
Kota Tanjungpinang|Kepulauan Riau|TPI|melayu|0.8
Kota Palembang|Sumatera Selatan|PLG|melayu|2
Kabupaten Ogan Komering Ilir|Sumatera Selatan|OKI|melayu|1
Kota Bandar Lampung|Lampung|BDL|melayu|1.8
Kabupaten Lampung Selatan|Lampung|LMS|melayu|1
Kota Banda Aceh|Aceh|BNA|melayu|1
Kabupaten Aceh Besar|Aceh|ACB|melayu|1
Kota Jambi|Jambi|JMB|melayu|1.2
Kota Bengkulu|Bengkulu|BKL|melayu|1
Kota Pangkalpinang|Kepulauan Bangka Belitung|PGK|melayu|0.8
Kota Pontianak|Kalimantan Barat|PTK|melayu|1.5
Kota Palangka Raya|Kalimantan Tengah|PLK|melayu|1
Kota Banjarmasin|Kalimantan Selatan|BJM|melayu|1.5
Kota Banjarbaru|Kalimantan Selatan|BJB|melayu|1
Kota Samarinda|Kalimantan Timur|SMD|melayu|1.8
Kota Balikpapan|Kalimantan Timur|BPN|melayu|1.5
Kota Tarakan|Kalimantan Utara|TRK|melayu|0.8
Kota Makassar|Sulawesi Selatan|MKS|bugis|2.5
Kabupaten Gowa|Sulawesi Selatan|GWA|bugis|1.3
Kabupaten Bone|Sulawesi Selatan|BNE|bugis|1.2
Kota Manado|Sulawesi Utara|MND|timur|1.5
Kota Bitung|Sulawesi Utara|BTG|timur|0.8
Kota Palu|Sulawesi Tengah|PLW|bugis|1.2
Kota Kendari|Sulawesi Tenggara|KDI|bugis|1.2
Kota Gorontalo|Gorontalo|GTO|bugis|0.8
Kabupaten Mamuju|Sulawesi Barat|MMJ|bugis|0.7
Kota Mataram|Nusa Tenggara Barat|MTR|umum|1.3
Kabupaten Lombok Barat|Nusa Tenggara Barat|LBR|umum|1
Kota Kupang|Nusa Tenggara Timur|KPG|timur|1.2
Kabupaten Sikka|Nusa Tenggara Timur|SKK|timur|0.7
Kota Ambon|Maluku|AMB|timur|1
Kota Ternate|Maluku Utara|TTE|melayu|0.8
Kota Jayapura|Papua|DJJ|timur|1
Kabupaten Manokwari|Papua Barat|MKW|timur|0.7
Kota Sorong|Papua Barat Daya|SOQ|timur|0.8
"""


@dataclass(frozen=True)
class RegionInfo:
    slug: str
    name: str
    province: str
    code: str
    culture: str
    weight: float

    @property
    def kabupaten(self) -> bool:
        return self.name.startswith("Kabupaten")

    @property
    def place(self) -> str:
        return self.name.split(" ", 1)[1]


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


REGIONS: tuple[RegionInfo, ...] = tuple(
    RegionInfo(_slug(name), name, province, code, culture, float(weight))
    for name, province, code, culture, weight in (
        line.split("|") for line in _REGIONS.strip().splitlines()
    )
)

OPD_CORE = (
    "Sekretariat Daerah",
    "Inspektorat",
    "Badan Perencanaan Pembangunan Daerah",
    "Badan Pengelolaan Keuangan dan Aset Daerah",
    "Badan Kepegawaian dan Pengembangan Sumber Daya Manusia",
    "Dinas Pendidikan",
    "Dinas Kesehatan",
    "Dinas Pekerjaan Umum dan Penataan Ruang",
)
OPD_MORE = (
    "Sekretariat DPRD",
    "Badan Pendapatan Daerah",
    "Dinas Sosial",
    "Dinas Perhubungan",
    "Dinas Kependudukan dan Pencatatan Sipil",
    "Dinas Lingkungan Hidup",
    "Dinas Komunikasi dan Informatika",
    "Dinas Penanaman Modal dan Pelayanan Terpadu Satu Pintu",
    "Dinas Perumahan dan Kawasan Permukiman",
    "Dinas Tenaga Kerja",
    "Dinas Koperasi dan Usaha Mikro",
    "Dinas Perindustrian dan Perdagangan",
    "Dinas Pemuda dan Olahraga",
    "Dinas Kebudayaan dan Pariwisata",
    "Dinas Pemberdayaan Perempuan dan Perlindungan Anak",
    "Dinas Pengendalian Penduduk dan Keluarga Berencana",
    "Satuan Polisi Pamong Praja",
    "Badan Penanggulangan Bencana Daerah",
    "Badan Kesatuan Bangsa dan Politik",
    "Dinas Perpustakaan dan Kearsipan",
    "Dinas Ketahanan Pangan",
    "Rumah Sakit Umum Daerah",
)
OPD_KABUPATEN = (
    "Dinas Pertanian",
    "Dinas Perikanan",
    "Dinas Pemberdayaan Masyarakat dan Desa",
    "Dinas Peternakan dan Kesehatan Hewan",
)
OPD_KOTA = ("Dinas Pemadam Kebakaran dan Penyelamatan", "Dinas Pertamanan dan Pemakaman")
# how many couples an OPD sends, relative to the others
OPD_WEIGHT = {
    "Dinas Pendidikan": 3.0,
    "Dinas Kesehatan": 2.5,
    "Sekretariat Daerah": 2.5,
    "Dinas Pekerjaan Umum dan Penataan Ruang": 2.0,
    "Rumah Sakit Umum Daerah": 1.5,
    "Badan Pengelolaan Keuangan dan Aset Daerah": 1.5,
}
POSITIONS = (
    ("Kepala", 1),
    ("Sekretaris", 1),
    ("Kepala Bidang", 4),
    ("Kepala Bagian", 2),
    ("Kepala Sub Bagian", 3),
    ("Kepala Seksi", 5),
    ("Kepala UPT", 1),
    ("Pejabat Fungsional", 2),
)


# given names of men and women, and second/family names of men and women, by naming
# tradition ("bali": birth-order names instead); combinations of very common names, none
# meant to be a real person
_NAMES = """
umum men: Muhammad Ahmad Rizki Fajar Arif Dedi Hendra Irfan Rudi Andi Yusuf Faisal Hari Adi
umum men: Ridwan Bayu Dimas
umum women: Siti Nur Fitri Dewi Rina Maya Indah Lina Mega Ika Putri Ratih Sari Yanti Wulan Novi
umum women: Desi
umum last-men: Hidayat Saputra Pratama Wijaya Setiawan Kusuma Rahman Hakim Firmansyah Ramadhan
umum last-men: Nugraha Permana Syahputra Gunawan
umum last-women: Lestari Wulandari Handayani Permatasari Rahmawati Anggraini Puspitasari Safitri
umum last-women: Maharani Utami Kartika Oktaviani
jawa men: Agus Bambang Budi Dwi Eko Hadi Joko Slamet Sugeng Teguh Wahyu Yudi Bayu Heru Puji
jawa men: Sigit Tri Wawan Aris Didik
jawa women: Sri Dewi Endang Ratna Siti Tri Wulan Yuli Retno Rini Ayu Dian Indah Kartika Nurul
jawa women: Wiwik Eni
jawa last-men: Santoso Setiawan Nugroho Wibowo Susanto Prasetyo Purnomo Hartono Suryanto
jawa last-men: Kurniawan Wijayanto Saputro Pranoto Utomo Sutrisno Haryanto
jawa last-women: Lestari Rahayu Wulandari Puspitasari Handayani Anggraini Kusumawati Setyowati
jawa last-women: Purwanti Sulastri Wahyuni Astuti
sunda men: Asep Dadang Ujang Cecep Dede Encep Iwan Yayan Ade Agus Deden Hendra Rudi Wawan Yana
sunda women: Euis Neneng Iis Yeni Nining Rina Tati Enok Imas Lilis Nia Rosita Siti Wiwin Yuyun
sunda last-men: Hermawan Sutisna Suherman Kurniawan Setiadi Supriatna Rukmana Sudrajat Permana
sunda last-men: Gunawan Hidayat Mulyana Rusmana Somantri
sunda last-women: Rahmawati Nurhayati Komalasari Sukmawati Kurniasih Maryati Yulianti Hasanah
sunda last-women: Suryani Rosmiati Fitriani Herawati
batak men: Andreas Benny Daniel Hotman Jonner Maruli Parlindungan Robert Sahat Tigor Togar Rudi
batak men: Hendra Lamhot Freddy
batak women: Debora Erna Friska Hotmauli Lasma Marta Rosmawati Ruth Sondang Tiurma Yanti Rina
batak women: Lenny Mariani
batak last-men: Siregar Nasution Harahap Lubis Simanjuntak Hutapea Sitompul Pardede Sinaga
batak last-men: Panjaitan Manurung Situmorang Simatupang Hasibuan Tambunan Sihombing
batak last-women: Siregar Nasution Harahap Lubis Simanjuntak Hutapea Sitompul Pardede Sinaga
batak last-women: Panjaitan Manurung Situmorang Simatupang Hasibuan Tambunan Sihombing
minang men: Afrizal Defri Erizal Fauzan Hendri Indra Jasman Rahmat Syafrizal Yusrizal Zulkifli
minang men: Andri Budiman Irwan Novrizal
minang women: Desi Elvi Fitri Hayati Lidya Mardiana Nofrianti Rahmi Syafrida Vivi Yelni Zuraida
minang women: Rosna Silvia Yulia
minang last-men: Putra Syahputra Efendi Chaniago Koto Piliang Sikumbang Tanjung Rahman Hakim
minang last-men: Anwar Saputra
minang last-women: Yanti Wati Sari Rahmawati Fitriani Novita Yuliani Marlina Susanti Hasni
melayu men: Ahmad Azhar Fadli Hamdan Iskandar Jamaludin Rizal Nasrul Syamsul Zainal Khairul
melayu men: Hasan Usman Rusli Firdaus
melayu women: Aisyah Fatimah Halimah Junaidah Khadijah Mariam Nurlela Rohani Salmah Zubaidah
melayu women: Suriani Faridah Rosnah Hasnah
melayu last-men: Abdullah Ismail Hamid Yusuf Harun Saleh Rahman Arifin Syahrial Zulkarnain
melayu last-men: Effendi Hasan
melayu last-women: Hanum Zahara Mardiah Hayati Nurjanah Safitri Wardani Ramadhani Amelia Fadilah
bugis men: Abdul Arman Baso Hasanuddin Irwan Jufri Makmur Nurdin Rahman Syamsuddin Takdir Umar
bugis men: Zainuddin Mustari Akbar Amiruddin
bugis women: Hasnah Irma Hartati Jumriani Kasmawati Mardiana Nurhaedah Rahmatia Sitti Suriani
bugis women: Wahida Hikmah Darmawati Fatmawati
bugis last-men: Said Amir Hamzah Rauf Latif Gani Haris Kadir Malik Syarif Hafid Tahir
bugis last-women: Sari Yanti Ningsih Wati Ramlah Nurmala Hasmiati Rosmini Salmawati
bali men: Suarta Sudarma Artawan Wirawan Sukadana Mahendra Astawa Widiana Budiarta Darmawan
bali men: Suardana Adnyana
bali women: Ayu Sukerti Suwarni Ariani Wulandari Yuliantari Suastini Darmayanti Sumiati Lestari
bali women: Astiti Widiasih
bali last-men: Wayan Made Nyoman Ketut Putu Gede Komang Kadek
bali last-women: Luh Putu Made Kadek Komang Nyoman Ketut
timur men: Alfons Benediktus Charles Dominggus Ferdinand Frans Johanis Marthen Petrus Stefanus
timur men: Yohanes Yosep Agustinus Hendrik Simon
timur women: Agustina Yohana Maria Elisabeth Fransiska Magdalena Margaretha Martha Paulina Ribka
timur women: Selfina Yuliana Rosalina Theresia Veronika
timur last-men: Wenas Lumentut Pattinama Sahetapy Ndolu Fanggidae Manafe Bire Mambrasar Rumbiak
timur last-men: Kaunang Mandagi Tuhumury Lewerissa Rumere
timur last-women: Wenas Lumentut Pattinama Sahetapy Ndolu Fanggidae Manafe Bire Mambrasar
timur last-women: Rumbiak Kaunang Mandagi Tuhumury Lewerissa Rumere
"""


def _name_lists() -> dict[str, tuple[tuple[str, ...], ...]]:
    found: dict[str, dict[str, list[str]]] = {}
    for line in _NAMES.strip().splitlines():
        head, words = line.split(":", 1)
        culture, kind = head.split()
        found.setdefault(culture, {}).setdefault(kind, []).extend(words.split())
    kinds = ("men", "women", "last-men", "last-women")
    return {c: tuple(tuple(k[kind]) for kind in kinds) for c, k in found.items()}


NAMES = _name_lists()
MUSLIM = {"umum", "jawa", "sunda", "minang", "melayu", "bugis"}
DEGREES = ("M.Si.", "M.M.", "S.T., M.T.", "M.Pd.", "S.H., M.H.", "M.A.P.", "S.E., M.Ak.", "S.Sos.")
VENUES = (
    "Aula Kantor {head} {place}",
    "Gedung Serbaguna Pemerintah {name}",
    "Balai Pertemuan {name}",
    "Aula Badan Perencanaan Pembangunan Daerah {name}",
)
# short synthetic family reflections, per module (position 1, 2, 3, …): an opening and a
# commitment, combined
REFLECTION_OPEN = (
    (
        "Kami berdiskusi berdua tentang arti integritas di rumah.",
        "Setelah membaca materi, kami membicarakan nilai kejujuran dan kesederhanaan.",
        "Anak-anak ikut mendengar ketika kami membahas nilai tanggung jawab.",
        "Kami sepakat bahwa integritas berarti sama antara kata dan perbuatan.",
    ),
    (
        "Materi tentang gratifikasi membuat kami sadar bahwa hadiah bisa datang lewat keluarga.",
        "Kami membahas konflik kepentingan ketika saudara meminta bantuan urusan kantor.",
        "Kami baru tahu bahwa hadiah di acara keluarga juga perlu dipikirkan baik-baik.",
        "Kami membicarakan harta keluarga dan kewajiban melaporkannya dengan jujur.",
    ),
    (
        "Kami sekarang tahu tanda-tanda pencucian uang dan mengapa rekening keluarga bisa "
        "disalahgunakan.",
        "Kami membahas bagaimana aset bisa disamarkan atas nama anggota keluarga.",
        "Kami sepakat bahwa setiap pemasukan keluarga harus jelas asal-usulnya.",
    ),
)
REFLECTION_PLAN = (
    "Mulai bulan ini kami mencatat pemasukan dan pengeluaran bersama setiap akhir pekan.",
    "Setiap pemberian yang berkaitan dengan jabatan kami bicarakan berdua dulu dan kami "
    "laporkan bila perlu.",
    "Kami tidak meminjamkan rekening atau nama kepada siapa pun.",
    "Kami menjelaskan aturan ini kepada keluarga besar dengan sopan.",
    "Fasilitas dinas tidak kami pakai untuk keperluan pribadi, termasuk mengantar anak.",
    "Sebulan sekali kami mengadakan rapat keluarga tentang keuangan rumah tangga.",
    "Kami saling mengingatkan bila ada tawaran yang mencurigakan.",
)
REPLIES = (
    "Terima kasih, refleksi keluarga yang sangat baik. Semoga komitmennya terus dijaga.",
    "Rencana yang konkret. Silakan ceritakan pengalamannya pada pertemuan berikutnya.",
    "Bagus sekali. Jangan ragu menghubungi kami bila ada pertanyaan tentang pelaporan.",
)
# when people sit down to learn (hour of the day, local time): weights
HOURS = (5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23)
HOUR_WEIGHTS = (1, 3, 3, 2, 2, 2, 2, 4, 3, 2, 2, 2, 2, 3, 6, 8, 8, 5, 2)
HOUR_CUMULATIVE = tuple(sum(HOUR_WEIGHTS[: i + 1]) for i in range(len(HOUR_WEIGHTS)))
# engagement: a person goes on at each step with the chance KEEP[step] ** exp(-0.9 z), where
# z is the person's engagement around the cohort's level (LEVEL, the region's, the year's)
KEEP = {
    "activate": 0.8,
    "pretest": 0.93,
    "pretest_submit": 0.99,
    "lesson": 0.985,
    "quiz": 0.97,
    "retry": 0.9,
    "after_workshop": 0.88,
    "post_test": 0.93,
    "reflection": 0.95,
    "confirm": 0.97,
    "pledge": 0.95,
}
LEVEL = -1.0
FOLLOW = 0.9  # how often partners take a step of the path (or stop) together
YEAR_LEVEL = {2022: -0.35, 2023: -0.15, 2024: 0.0, 2025: 0.1, 2026: 0.2}


class SyntheticRefused(RuntimeError):
    """The database is not one to write synthetic data into; the message says why and what
    to do."""


@dataclass
class SyntheticResult:
    added: dict[str, int]  # table → rows added
    seconds: float
    skipped: bool = False  # the same run was already made: nothing added
    message: str = ""
    summary_seconds: float = 0.0  # of ``seconds``: rebuilding the reports' summary


# ---------------------------------------------------------------- plan


@dataclass
class _CohortPlan:
    slug: str
    region: RegionInfo
    year: int
    number: int  # of the region's cohorts that year
    of: int
    start: date
    pre_days: int
    post_days: int
    level: float  # engagement of the cohort (its region and year)
    venue: str
    size: int = 0
    id: int = 0

    @property
    def code_prefix(self) -> str:
        return f"{self.region.code}{self.year % 100:02d}{'ABC'[self.number - 1]}"

    @property
    def title(self) -> str:
        title = f"Bimtek Keluarga Berintegritas {self.region.name} {self.year}"
        return title + (f" Angkatan {self.number}" if self.of > 1 else "")


def _weekday(day: date) -> date:
    """The workshop's first day: moved forward to a Monday–Thursday (two weekdays)."""
    while day.weekday() > 3:
        day += timedelta(days=1)
    return day


def plan_cohorts(seed: int) -> list[_CohortPlan]:
    """Every cohort the country could have: 1–3 per region and year, 2022–2026."""
    rng = random.Random(f"synthetic:{seed}:plan")
    plans: list[_CohortPlan] = []
    for region in REGIONS:
        base = rng.gauss(0, 0.45)
        for year in YEARS:
            count = rng.choices((1, 2, 3), weights=(45, 40, 15))[0]
            span = (date(year, 12, 12) - date(year, 1, 15)).days
            starts: list[date] = []
            while len(starts) < count:
                day = _weekday(date(year, 1, 15) + timedelta(days=rng.randrange(span)))
                if all(abs((day - s).days) >= 45 for s in starts):
                    starts.append(day)
            for number, start in enumerate(sorted(starts), 1):
                head = "Bupati" if region.kabupaten else "Wali Kota"
                venue = rng.choice(VENUES).format(head=head, place=region.place, name=region.name)
                plans.append(
                    _CohortPlan(
                        slug=f"{SYNTHETIC_PREFIX}{region.slug}-{year}-{number}",
                        region=region,
                        year=year,
                        number=number,
                        of=count,
                        start=start,
                        pre_days=rng.randint(14, 21),
                        post_days=rng.randint(45, 60),
                        level=LEVEL + base + YEAR_LEVEL[year] + rng.gauss(0, 0.2),
                        venue=venue,
                    )
                )
    return plans


def choose_cohorts(plans: list[_CohortPlan], couples: int, seed: int) -> list[_CohortPlan]:
    """The cohorts that get couples, and how many each: all of them when there are couples
    enough, else a deterministic choice of cohorts of about ``MIN_PER_COHORT``; sizes in
    proportion to the region's size, varied per cohort."""
    rng = random.Random(f"synthetic:{seed}:sizes")
    keep = max(1, min(len(plans), couples // MIN_PER_COHORT))
    chosen = sorted(rng.sample(range(len(plans)), keep)) if keep < len(plans) else None
    picked = plans if chosen is None else [plans[i] for i in chosen]
    weights = [p.region.weight * rng.uniform(0.6, 1.4) for p in picked]
    total = sum(weights)
    shares = [couples * w / total for w in weights]
    sizes = [int(s) for s in shares]
    order = sorted(range(len(picked)), key=lambda i: (sizes[i] - shares[i], i))
    for i in order[: couples - sum(sizes)]:
        sizes[i] += 1
    for plan, size in zip(picked, sizes, strict=True):
        plan.size = size
    return [p for p in picked if p.size > 0]


def region_organizations(region: RegionInfo, seed: int) -> list[str]:
    """The region's OPDs: the core every government has, and 4–12 more of its own."""
    rng = random.Random(f"synthetic:{seed}:opd:{region.slug}")
    pool = list(OPD_MORE) + list(OPD_KABUPATEN if region.kabupaten else OPD_KOTA)
    return list(OPD_CORE) + sorted(rng.sample(pool, rng.randint(4, 12)))


# ---------------------------------------------------------------- rows


COLUMNS: dict[str, tuple[str, ...]] = {
    "region": ("id", "slug", "name", "province"),
    "organization": ("id", "region_id", "name"),
    "cohort": (
        "id",
        "slug",
        "region_id",
        "title",
        "venue",
        "code_prefix",
        "workshop_start",
        "workshop_end",
        "pre_opens",
        "post_closes",
        "checkin_first_days",
        "checkin_second_days",
        "checkin_open_days",
        "jp_workshop",
        "jp_rounding",
        "organizers",
    ),
    "couple": ("id", "code", "cohort_id", "organization_id"),
    "user_account": (
        "id",
        "username",
        "display_name",
        "role",
        "password_hash",
        "locale",
        "is_active",
        "created_at",
        "couple_id",
        "partner_role",
        "contact",
        "nip",
        "position",
        "check_seed",
        "consent_version",
    ),
    "cohort_facilitator": ("cohort_id", "user_id"),
    "lesson_progress": ("id", "user_id", "lesson_id", "viewed_at", "completed_at", "late"),
    "quiz_attempt": (
        "id",
        "user_id",
        "quiz_id",
        "number",
        "seed",
        "started_at",
        "submitted_at",
        "score",
        "passed",
    ),
    "attempt_item": (
        "id",
        "attempt_id",
        "question_id",
        "position",
        "selected",
        "answered_at",
        "score",
    ),
    "check_answer": ("id", "user_id", "question_id", "selected", "correct", "tries", "answered_at"),
    "extra_attempts": ("id", "user_id", "quiz_id", "extra"),
    "attendance": ("id", "user_id", "day", "present", "marked_by", "marked_at"),
    "family_reflection": (
        "id",
        "couple_id",
        "module_id",
        "text",
        "written_by",
        "written_at",
        "confirmed_by",
        "confirmed_at",
        "reply",
        "replied_by",
        "replied_at",
    ),
    "pledge_signature": ("id", "user_id", "couple_id", "signed_at", "content_version_id"),
    "certificate": (
        "id",
        "user_id",
        "code",
        "issued_at",
        "revoked_at",
        "revoked_by",
        "revoke_reason",
    ),
}
TABLES = tuple(COLUMNS)  # in the order parents come before children


_CLOCK = [f"{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}.000000" for s in range(86400)]


class _Writer:
    """Rows waiting to be written, table by table, with ids assigned here; written in bulk
    in the form the driver takes (SQLite: text timestamps; PostgreSQL: ``COPY``)."""

    def __init__(self, db: Database, next_ids: dict[str, int]) -> None:
        self.db = db
        self.sqlite = db.engine.dialect.name == "sqlite"
        self.postgresql = db.engine.dialect.name == "postgresql"
        self.rows: dict[str, list[tuple]] = {t: [] for t in TABLES}
        self.next = next_ids
        self.added = dict.fromkeys(TABLES, 0)
        self._days: dict[int, str] = {}
        self.statements: dict[str, str] = {}
        preparer = db.engine.dialect.identifier_preparer
        for name, columns in COLUMNS.items():
            table = metadata.tables[name]
            if tuple(c.name for c in table.columns if c.name in columns) != columns:
                raise RuntimeError(f"synthetic rows of {name} do not match its columns")
            if self.sqlite:
                statement = insert(table).compile(dialect=db.engine.dialect, column_keys=columns)
                self.statements[name] = str(statement)
            else:
                names = ", ".join(preparer.quote(c) for c in columns)
                self.statements[name] = f"COPY {preparer.quote(name)} ({names}) FROM STDIN"

    def id(self, table: str) -> int:
        value = self.next[table]
        self.next[table] = value + 1
        return value

    def add(self, table: str, row: tuple) -> None:
        self.rows[table].append(row)

    @property
    def pending(self) -> int:
        return sum(len(r) for r in self.rows.values())

    def ts(self, moment: int | None) -> Any:
        """A moment (seconds since the epoch, UTC) as the driver stores it."""
        if moment is None:
            return None
        if not self.sqlite:
            return datetime.fromtimestamp(moment, UTC)
        # SQLAlchemy's storage format for SQLite ("%Y-%m-%d %H:%M:%S.%f"), from two tables
        day, rest = divmod(moment, 86400)
        text_day = self._days.get(day)
        if text_day is None:
            text_day = self._days[day] = datetime.fromtimestamp(day * 86400, UTC).strftime(
                "%Y-%m-%d "
            )
        return text_day + _CLOCK[rest]

    def day(self, value: date) -> Any:
        return value.isoformat() if self.sqlite else value

    def flush(self) -> int:
        """Write every pending row in one transaction; returns rows written."""
        written = 0
        with self.db.write_engine.begin() as conn:
            if self.sqlite:
                conn.exec_driver_sql("PRAGMA cache_size=-262144")
            for name in TABLES:
                rows = self.rows[name]
                if not rows:
                    continue
                self._write(conn, name, rows)
                self.added[name] += len(rows)
                written += len(rows)
                self.rows[name] = []
        return written

    def _write(self, conn: Connection, name: str, rows: list[tuple]) -> None:
        if self.sqlite:
            for start in range(0, len(rows), CHUNK):
                conn.exec_driver_sql(self.statements[name], rows[start : start + CHUNK])
            return
        driver: Any = conn.connection.driver_connection
        with driver.cursor() as cursor, cursor.copy(self.statements[name]) as copy:
            for row in rows:
                copy.write_row(row)

    def fix_sequences(self) -> None:
        """PostgreSQL: move each table's id sequence past the ids assigned here."""
        if self.sqlite:
            return
        with self.db.write_engine.begin() as conn:
            for name, columns in COLUMNS.items():
                if columns[0] == "id" and self.added[name]:
                    conn.execute(
                        text(
                            f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "  # noqa: S608
                            f'(SELECT MAX(id) FROM "{name}"))'
                        )
                    )


# ---------------------------------------------------------------- questions


@dataclass
class _Question:
    id: int
    difficulty: float
    right: str  # the selection (JSON) that scores 1
    wrong: list[tuple[str, float]]  # wrong selections (JSON) and their scores


def _selection(ids: Sequence[int]) -> str:
    return json.dumps(sorted(ids))


def _questions(session: Any, rng: random.Random) -> dict[str, Any]:
    """The current questions with their choices, as right and wrong selections, by pool."""
    rows = session.execute(
        select(
            col(Question.id),
            col(Question.pool),
            col(Question.module_id),
            col(Question.lesson_id),
            col(Question.type),
        )
        .where(col(Question.current).is_(True))
        .order_by(
            col(Question.pool), col(Question.module_id), col(Question.position), col(Question.id)
        )
    ).all()
    choices: dict[int, list[tuple[int, bool]]] = {}
    for cid, qid, correct in session.execute(
        select(col(Choice.id), col(Choice.question_id), col(Choice.correct))
        .join(Question, col(Question.id) == Choice.question_id)
        .where(col(Question.current).is_(True))
        .order_by(col(Choice.question_id), col(Choice.position), col(Choice.id))
    ).all():
        choices.setdefault(qid, []).append((cid, correct))
    prepost: list[_Question] = []
    quiz: dict[int, list[_Question]] = {}
    check: dict[int, list[_Question]] = {}
    for qid, pool, module_id, lesson_id, kind in rows:
        options = choices.get(qid, [])
        ids = [c for c, _ in options]
        right = [c for c, ok in options if ok]
        if not ids or not right:
            continue
        wrong: list[tuple[str, float]] = []
        if kind == "multiple":
            # one decision wrong, or two: partial credit
            flips = [sorted(set(right) ^ {c}) for c in ids]
            flips += [sorted(set(right) ^ {a, b}) for a in ids for b in ids if a < b][:4]
            for picked in flips:
                if picked:
                    wrong.append((_selection(picked), score_item(kind, ids, right, picked)))
        else:
            for c in ids:
                if c not in right:
                    wrong.append((_selection([c]), score_item(kind, ids, right, [c])))
        if not wrong:
            wrong = [(_selection(right), 1.0)]
        question = _Question(qid, rng.gauss(0.0, 0.7), _selection(right), wrong)
        if pool == "prepost":
            question.difficulty += 0.4  # asked before any lesson
            prepost.append(question)
        elif pool == "quiz":
            quiz.setdefault(module_id, []).append(question)
        elif pool == "check" and lesson_id is not None:
            check.setdefault(lesson_id, []).append(question)
    return {"prepost": prepost, "quiz": quiz, "check": check}


# ---------------------------------------------------------------- people


def _sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


@dataclass
class _Person:
    user_id: int
    role: PartnerRole
    z: float  # engagement
    theta: float  # ability
    checks: bool  # writes lesson-check answers
    present: tuple[bool, bool] = (False, False)
    activated: bool = False
    module_done: dict[int, int] = field(default_factory=dict)  # module id → lessons done at
    post_at: int | None = None


@dataclass
class _Context:
    """What the simulation of one cohort needs."""

    writer: _Writer
    curriculum: Curriculum
    questions: dict[str, Any]
    module_quiz: dict[int, QuizInfo]
    pre: QuizInfo
    post: QuizInfo
    version: int
    cut: int  # nothing happens at or after this moment (the start of ``today``)
    tz: tzinfo
    certificate_codes: set[str]
    password_hash: str  # one hash for every activated account, computed once
    notice: int | None  # the privacy notice version every activated account agreed to


def _epoch(moment: datetime) -> int:
    return int(moment.timestamp())


class _Cohort:
    """One cohort's couples and everything they did."""

    def __init__(self, ctx: _Context, plan: _CohortPlan, facilitator: int, orgs: list[tuple]):
        self.ctx = ctx
        self.w = ctx.writer
        self.plan = plan
        self.facilitator = facilitator
        self.orgs = orgs  # (organization id, name, weight)
        self.rng = random.Random(f"synthetic:{plan.slug}:{plan.start.isoformat()}:{plan.size}")
        self.together: dict[str, float] = {}  # the couple's draws at the steps of the path
        tz = ctx.tz
        end = plan.start + timedelta(days=1)
        self.start = plan.start
        self.end_day = end
        self.pre_opens = _epoch(
            datetime.combine(plan.start - timedelta(days=plan.pre_days), time(0), tzinfo=tz)
        )
        self.post_closes = _epoch(
            datetime.combine(end + timedelta(days=plan.post_days), time(23), tzinfo=tz)
        )
        self.after = _epoch(workshop_over_at(end, tz))
        self.offset = int(
            (
                datetime.combine(plan.start, time(12), tzinfo=tz).utcoffset() or timedelta()
            ).total_seconds()
        )
        # activity stops at "today", and a month after the window closed
        self.stop = min(ctx.cut, self.post_closes + 30 * 86400)

    # ------------------------------------------------------------ helpers

    def keep(self, base: float, z: float, step: str | None = None) -> bool:
        """Whether a person goes on at a step whose chance is ``base`` for an average one.
        At a ``step`` of the learning path partners mostly decide together: the chance drawn
        is the couple's one (``FOLLOW``), else the person's own."""
        rng = self.rng
        u = rng.random()
        if step is not None and rng.random() < FOLLOW:
            u = self.together.setdefault(step, u)
        return u < base ** math.exp(-0.9 * z)

    def session_after(self, moment: int, mean_days: float) -> int:
        """The next time the person sits down to learn, after ``moment``."""
        rng = self.rng
        later = moment + 1800 + int(rng.expovariate(1.0 / max(mean_days, 0.05)) * 86400)
        local = later + self.offset
        day = local - local % 86400
        hour = rng.choices(HOURS, cum_weights=HOUR_CUMULATIVE)[0]
        at = day + hour * 3600 + rng.randrange(3600) - self.offset
        return at if at > moment else at + 86400

    def local(self, day: date, hour: int) -> int:
        return _epoch(datetime.combine(day, time(hour), tzinfo=self.ctx.tz))

    # ------------------------------------------------------------ couples

    def build(self) -> None:
        plan, rng, w = self.plan, self.rng, self.w
        weights = [o[2] for o in self.orgs]
        couple_level = plan.level
        imported = min(self.pre_opens - rng.randint(2, 6) * 86400, self.ctx.cut - 86400)
        for number in range(1, plan.size + 1):
            org_id, org_name, _ = rng.choices(self.orgs, weights=weights)[0]
            couple_id = w.id("couple")
            code = f"{plan.code_prefix}-{number:03d}"
            w.add("couple", (couple_id, code, plan.id, org_id))
            shared_z, shared_theta = rng.gauss(0, 1), rng.gauss(0, 1)
            self.together = {}
            official_female = rng.random() < 0.22
            people = []
            for suffix, role in (("a", PartnerRole.official), ("b", PartnerRole.spouse)):
                female = official_female == (role == PartnerRole.official)
                name, plain = self.name(female, official=role == PartnerRole.official)
                user_id = w.id("user_account")
                person = _Person(
                    user_id=user_id,
                    role=role,
                    z=couple_level + 0.9 * shared_z + 0.3 * rng.gauss(0, 1),
                    theta=0.2
                    + 0.75 * shared_theta
                    + 0.6 * rng.gauss(0, 1)
                    + (0.2 if role == PartnerRole.official else 0.0),
                    checks=rng.random() < CHECK_SHARE,
                )
                people.append((person, name, plain, suffix, org_name))
            # the couple comes to the in-person workshop together, mostly, and most do (the
            # less engaged online a little less often)
            for day_index in range(2):
                u = rng.random()
                for person, *_ in people:
                    chance = _sigmoid(2.0 + 0.8 * (person.z - couple_level)) - 0.04 * day_index
                    present = list(person.present)
                    present[day_index] = u < chance
                    person.present = (present[0], present[1])
            for person, *_ in people:
                self.learn(person)
            for person, name, plain, suffix, org_name in people:
                contact = None
                if rng.random() < 0.6:
                    local_part = re.sub(r"[^a-z]+", ".", plain.lower()).strip(".")
                    contact = f"{local_part}.{number:03d}@example.org"
                position = None
                if person.role == PartnerRole.official:
                    title = rng.choices([p for p, _ in POSITIONS], [k for _, k in POSITIONS])[0]
                    position = f"{title} {org_name}"[:200]
                w.add(
                    "user_account",
                    (
                        person.user_id,
                        f"{code.lower()}{suffix}",
                        name,
                        Role.participant.value,
                        self.ctx.password_hash if person.activated else None,
                        "id",
                        True,
                        w.ts(imported),
                        couple_id,
                        person.role.value,
                        contact,
                        None,
                        position,
                        person.user_id * 2654435761 % 2**31,  # not from rng: keeps its stream
                        self.ctx.notice if person.activated else None,
                    ),
                )
                self.attendance(person)
            self.family(couple_id, people[0][0], people[1][0])

    def name(self, female: bool, *, official: bool) -> tuple[str, str]:
        """(display name with titles and degrees, the plain name)"""
        rng = self.rng
        culture = self.plan.region.culture
        if culture != "bali" and rng.random() < 0.3:
            culture = "umum"  # families from elsewhere in the country
        men, women, last_men, last_women = NAMES[culture]
        if culture == "bali":
            if female:
                name = f"Ni {rng.choice(last_women)} {rng.choice(women)}"
            else:
                name = f"I {rng.choice(last_men)} {rng.choice(men)}"
        else:
            first = rng.choice(women if female else men)
            last = rng.choice(last_women if female else last_men)
            name = first if first == last else f"{first} {last}"
        plain = name
        if official:
            muslim = culture in MUSLIM
            prefix = rng.choices(
                ["", "Dr.", "Ir.", "Hj." if female else "H.", "Dra." if female else "Drs."],
                weights=[70, 6, 6, 10 if muslim else 0, 8],
            )[0]
            if prefix:
                name = f"{prefix} {name}"
            if rng.random() < 0.6:
                name = f"{name}, {rng.choice(DEGREES)}"
        return name, plain

    # ------------------------------------------------------------ the learning path

    def learn(self, person: _Person) -> None:
        """The person's way along the path, as far as they got before ``stop``."""
        rng, ctx = self.rng, self.ctx
        z = person.z
        slow = math.exp(-0.4 * z)
        if not self.keep(KEEP["activate"], z, "activate"):
            return
        activated = self.pre_opens + int(rng.expovariate(1 / (2.0 * slow)) * 86400)
        if activated >= self.stop:
            return
        person.activated = True
        # the pre-test first
        if not self.keep(KEEP["pretest"], z, "pretest"):
            return
        t = self.session_after(activated, 0.4 * slow)
        prepost = ctx.questions["prepost"]
        if not prepost or t + 3600 >= self.stop:
            return
        if not self.keep(KEEP["pretest_submit"], z):
            self.attempt(person, ctx.pre, 1, prepost, 0.0, t, submit=False)
            return
        t, _ = self.attempt(person, ctx.pre, 1, prepost, person.theta, t)
        left = 0
        absent = not any(person.present)
        for module in ctx.curriculum.modules:
            for lesson in module.lessons:
                if lesson.phase == "after" and t < self.after:
                    if not self.keep(
                        KEEP["after_workshop"] * (0.75 if absent else 1.0), z, "after"
                    ):
                        return
                    t, left = self.session_after(self.after, 2.0 * slow), rng.randint(1, 4)
                elif left <= 0:
                    t, left = self.session_after(t, 1.2 * slow), rng.randint(1, 4)
                viewed = t + rng.randint(30, 300)
                if not self.keep(KEEP["lesson"], z, f"lesson:{lesson.id}"):
                    if viewed < self.stop and rng.random() < 0.5:
                        self.lesson(person, lesson.id, viewed, None, False)
                    return
                done = viewed + int(lesson.minutes * 60 * rng.uniform(0.5, 1.6))
                if done >= self.stop:
                    if viewed < self.stop:
                        self.lesson(person, lesson.id, viewed, None, False)
                    return
                late = lesson.phase == "before" and done >= self.after
                self.lesson(person, lesson.id, viewed, done, late)
                if person.checks:
                    for question in ctx.questions["check"].get(lesson.id, []):
                        self.check(person, question, viewed, done)
                t, left = done, left - 1
            person.module_done[module.id] = t
            quiz = ctx.module_quiz.get(module.id)
            if quiz is None:
                continue  # a module without a quiz is passed by its lessons
            passed_at = self.quiz(person, quiz, ctx.questions["quiz"].get(module.id, []), t, slow)
            if passed_at is None:
                return
            t = passed_at
            left = 0 if rng.random() < 0.5 else left
        # the post-test: the workshop is over (module 3 came after it) and every module passed
        if not self.keep(KEEP["post_test"], z, "post"):
            return
        t = self.session_after(max(t, self.after), 1.0 * slow)
        if t + 3600 >= self.stop:
            return
        gain = 1.1 + 0.35 * rng.gauss(0, 1) + (0.2 if person.role == PartnerRole.spouse else 0.0)
        gain += 0.15 * sum(person.present)
        person.post_at, _ = self.attempt(person, ctx.post, 1, prepost, person.theta + gain, t)

    def quiz(
        self, person: _Person, quiz: QuizInfo, items: list[_Question], t: int, slow: float
    ) -> int | None:
        """Attempts at a module quiz until passed (returns when), given up or out of
        attempts (None)."""
        rng = self.rng
        if not items or not self.keep(KEEP["quiz"], person.z, f"quiz:{quiz.id}"):
            return None
        allowed = quiz.max_attempts
        number = 0
        while True:
            number += 1
            if number == 1:
                t += rng.randint(60, 1800)
            else:
                t = self.session_after(t, 0.8 * slow)
            if t + 3600 >= self.stop:
                return None
            if number > allowed:
                # every attempt used: now and then the facilitator grants one more
                if allowed > quiz.max_attempts or rng.random() > 0.6:
                    return None
                allowed += 1
                self.w.add(
                    "extra_attempts", (self.w.id("extra_attempts"), person.user_id, quiz.id, 1)
                )
                t += rng.randint(1, 5) * 86400
                if t + 3600 >= self.stop or rng.random() < 0.2:
                    return None
            logit = person.theta + 1.2 + 0.6 * (number - 1)
            if number > 1 and not self.keep(KEEP["retry"], person.z, f"retry:{quiz.id}:{number}"):
                if rng.random() < 0.1:
                    self.attempt(person, quiz, number, items, logit, t, submit=False)
                return None
            t, passed = self.attempt(person, quiz, number, items, logit, t)
            if passed:
                return t

    def attempt(
        self,
        person: _Person,
        quiz: QuizInfo,
        number: int,
        questions: list[_Question],
        logit: float,
        start: int,
        *,
        submit: bool = True,
    ) -> tuple[int, bool]:
        """One attempt with its answers; returns when it was submitted (or left), and
        whether it passed."""
        rng, w = self.rng, self.w
        attempt_id = w.id("quiz_attempt")
        order = list(questions)
        rng.shuffle(order)
        t = start
        scores: list[float] = []
        answered = len(order) if submit else rng.randrange(len(order))
        # the hot loop (about 5 million times): locals, no method calls per row
        rows, item_id, rand, ts, exp = (
            w.rows["attempt_item"],
            w.next["attempt_item"],
            rng.random,
            w.ts,
            math.exp,
        )
        for position, q in enumerate(order, 1):
            if position <= answered:
                t += 15 + int(rand() * 61)
                # right with the chance 1 / (1 + exp(difficulty - logit))
                if rand() * (1.0 + exp(q.difficulty - logit)) < 1.0:
                    selected, score = q.right, 1.0
                else:
                    selected, score = q.wrong[int(rand() * len(q.wrong))]
                scores.append(score)
                rows.append(
                    (
                        item_id,
                        attempt_id,
                        q.id,
                        position,
                        selected,
                        ts(t),
                        score if submit else None,
                    )
                )
            else:
                rows.append((item_id, attempt_id, q.id, position, None, None, None))
            item_id += 1
        w.next["attempt_item"] = item_id
        percent = attempt_percent(scores) if submit else None
        passed = attempt_passed(percent, quiz.pass_mark) if percent is not None else None
        t += rng.randint(5, 60)
        w.add(
            "quiz_attempt",
            (
                attempt_id,
                person.user_id,
                quiz.id,
                number,
                rng.randrange(2**31),
                w.ts(start),
                w.ts(t) if submit else None,
                percent,
                passed,
            ),
        )
        return t, bool(passed)

    def lesson(
        self, person: _Person, lesson_id: int, viewed: int, done: int | None, late: bool
    ) -> None:
        w = self.w
        w.add(
            "lesson_progress",
            (w.id("lesson_progress"), person.user_id, lesson_id, w.ts(viewed), w.ts(done), late),
        )

    def check(self, person: _Person, question: _Question, viewed: int, done: int) -> None:
        """The latest answer to a lesson check (unlimited tries: mostly right in the end)."""
        rng, w = self.rng, self.w
        tries = 1 if rng.random() < 0.7 else rng.randint(2, 3)
        right = rng.random() < 0.9
        selected, score = (question.right, 1.0) if right else rng.choice(question.wrong)
        at = viewed + (done - viewed) * rng.randint(3, 9) // 10
        w.add(
            "check_answer",
            (
                w.id("check_answer"),
                person.user_id,
                question.id,
                selected,
                score == 1.0,
                tries,
                w.ts(at),
            ),
        )

    # ------------------------------------------------------------ workshop and family

    def attendance(self, person: _Person) -> None:
        """Both workshop days, marked by the facilitator for the whole roster."""
        w = self.w
        for index in range(2):
            day = self.start + timedelta(days=index)
            marked = self.local(day, 16) + self.rng.randrange(3600)
            if marked >= self.ctx.cut:
                continue
            w.add(
                "attendance",
                (
                    w.id("attendance"),
                    person.user_id,
                    w.day(day),
                    person.present[index],
                    self.facilitator,
                    w.ts(marked),
                ),
            )

    def family(self, couple_id: int, a: _Person, b: _Person) -> None:
        """Reflections per module (when both finished its lessons), the pledge after the
        post-test, and the certificates when the couple is complete."""
        rng, w, ctx = self.rng, self.w, self.ctx
        z = (a.z + b.z) / 2
        confirmed_all = True
        last = 0
        for index, module in enumerate(ctx.curriculum.modules):
            done_a, done_b = a.module_done.get(module.id), b.module_done.get(module.id)
            if done_a is None or done_b is None or not self.keep(KEEP["reflection"], z):
                confirmed_all = False
                continue
            written = self.session_after(max(done_a, done_b), 1.5)
            if written >= self.stop:
                confirmed_all = False
                continue
            writer, other = (a, b) if rng.random() < 0.5 else (b, a)
            confirmed: int | None = written + 1800 + int(rng.expovariate(1.0) * 86400)
            if confirmed is not None and (
                confirmed >= self.stop or not self.keep(KEEP["confirm"], z)
            ):
                confirmed = None
            reply: tuple[str | None, int | None, int | None] = (None, None, None)
            replied = written + rng.randint(1, 6) * 86400
            if rng.random() < 0.3 and replied < self.stop:
                reply = (rng.choice(REPLIES), self.facilitator, replied)
            openings = REFLECTION_OPEN[index % len(REFLECTION_OPEN)]
            body = f"{rng.choice(openings)} {rng.choice(REFLECTION_PLAN)}"
            w.add(
                "family_reflection",
                (
                    w.id("family_reflection"),
                    couple_id,
                    module.id,
                    body,
                    writer.user_id,
                    w.ts(written),
                    other.user_id if confirmed is not None else None,
                    w.ts(confirmed),
                    reply[0],
                    reply[1],
                    w.ts(reply[2]),
                ),
            )
            if confirmed is None:
                confirmed_all = False
            else:
                last = max(last, confirmed)
        signed: list[int] = []
        for person in (a, b):
            if person.post_at is None or not self.keep(KEEP["pledge"], person.z):
                continue
            at = self.session_after(person.post_at, 1.0)
            if at >= self.stop:
                continue
            w.add(
                "pledge_signature",
                (w.id("pledge_signature"), person.user_id, couple_id, w.ts(at), ctx.version),
            )
            signed.append(at)
        if confirmed_all and len(signed) == 2:
            issued = max([last, *signed])  # the change that completed the couple
            for person in (a, b):
                w.add(
                    "certificate",
                    (
                        w.id("certificate"),
                        person.user_id,
                        self.certificate_code(),
                        w.ts(issued),
                        None,
                        None,
                        None,
                    ),
                )

    def certificate_code(self) -> str:
        codes = self.ctx.certificate_codes
        while True:
            code = "KB-" + "".join(self.rng.choice(CERT_ALPHABET) for _ in range(10))
            if code not in codes:
                codes.add(code)
                return code


# ---------------------------------------------------------------- the run


REQUIRED_TABLES = tuple(COLUMNS) + ("audit_log", "question", "choice", "quiz", "content_version")


def _refuse_unless_ready(
    db: Database, *, couples: int, seed: int, today: date, force: bool
) -> SyntheticResult | None:
    """Refuse with a clear message, or None to go on, or a result when the same run was
    made before (nothing to add)."""
    inspector = inspect(db.engine)
    missing = [t for t in REQUIRED_TABLES if not inspector.has_table(t)]
    if missing:
        raise SyntheticRefused(
            f"The database has no tables {', '.join(missing[:3])}…: run `integritas migrate` first."
        )
    with db.read() as session:
        version = session.execute(select(func.max(col(ContentVersion.id)))).scalar()
        quizzes = set(session.execute(select(col(Question.pool)).distinct()).scalars())
        slugs = list(session.execute(select(col(Cohort.slug)).order_by(col(Cohort.slug))).scalars())
        runs = [
            d
            for d in session.execute(
                select(col(AuditLog.detail)).where(col(AuditLog.action) == AUDIT_ACTION)
            ).scalars()
        ]
    if version is None or not {"prepost", "quiz"} <= quizzes:
        raise SyntheticRefused("The curriculum is not synced: run `integritas content sync` first.")
    real = [s for s in slugs if not s.startswith(SYNTHETIC_PREFIX)]
    if real and not force:
        shown = ", ".join(real[:5]) + (" …" if len(real) > 5 else "")
        raise SyntheticRefused(
            f"This database holds {len(real)} real (non-synthetic) cohort(s): {shown}. "
            "Synthetic data is meant for a database of its own; add --force to write it "
            "here anyway."
        )
    if any(s.startswith(SYNTHETIC_PREFIX) for s in slugs):
        same = next(
            (
                d
                for d in runs
                if isinstance(d, dict) and d.get("couples") == couples and d.get("seed") == seed
            ),
            None,
        )
        if same is not None:
            return SyntheticResult(
                added=dict.fromkeys(TABLES, 0),
                seconds=0.0,
                skipped=True,
                message=(
                    f"Synthetic data for {couples:,} couples (seed {seed}, as of "
                    f"{same.get('today')}) is already here: nothing added."
                ),
            )
        before = next((d for d in runs if isinstance(d, dict)), None)
        what = (
            f"from another run (seed {before.get('seed')}, {before.get('couples'):,} couples, "
            f"today {before.get('today')})"
            if before
            else "from an interrupted run"
        )
        raise SyntheticRefused(
            f"This database already holds synthetic cohorts {what}. Use a fresh database "
            "(create it, `integritas migrate`, `integritas content sync`) for another run."
        )
    return None


def seed_synthetic(
    db: Database,
    settings: Settings,
    *,
    couples: int,
    seed: int = 2024,
    today: date | None = None,
    force: bool = False,
    progress: Callable[[str], None] | None = None,
) -> SyntheticResult:
    """Build the synthetic country (see the module's docstring); returns the rows added."""
    began = clock.perf_counter()
    tz = settings.tz
    today = today or utcnow().astimezone(tz).date()
    if couples < 1:
        raise SyntheticRefused("--couples must be at least 1.")
    done = _refuse_unless_ready(db, couples=couples, seed=seed, today=today, force=force)
    if done is not None:
        return done
    say = progress or (lambda _message: None)

    plans = choose_cohorts(plan_cohorts(seed), couples, seed)
    with db.read() as session:
        version = session.execute(select(func.max(col(ContentVersion.id)))).scalar_one()
        notice = session.execute(CURRENT_NOTICE).scalar()  # the accounts have agreed to it
        curriculum = load_curriculum(session, version)
        questions = _questions(session, random.Random(f"synthetic:{seed}:items"))
        next_ids = {
            name: (session.execute(select(func.max(metadata.tables[name].c.id))).scalar() or 0) + 1
            for name, columns in COLUMNS.items()
            if columns[0] == "id"
        }
        regions = {
            slug: rid
            for rid, slug in session.execute(select(col(Region.id), col(Region.slug))).all()
        }
        organizations = {
            (rid, name): oid
            for oid, rid, name in session.execute(
                select(col(Organization.id), col(Organization.region_id), col(Organization.name))
            ).all()
        }
        taken_prefixes = {
            p.lower() for p in session.execute(select(col(Cohort.code_prefix))).scalars()
        } | {
            code.rsplit("-", 1)[0].lower()
            for code in session.execute(select(col(Couple.code))).scalars()
        }
        codes = set(session.execute(select(col(Certificate.code))).scalars())
    clash = sorted({p.code_prefix for p in plans if p.code_prefix.lower() in taken_prefixes})
    if clash:
        raise SyntheticRefused(
            f"Couple codes {', '.join(clash[:5])} are already used in this database; "
            "use a fresh database."
        )
    pre = curriculum.quizzes.get("pre-test")
    post = curriculum.quizzes.get("post-test")
    if pre is None or post is None or not curriculum.modules:
        raise SyntheticRefused("The curriculum is not synced: run `integritas content sync` first.")
    module_quiz = {
        q.module_id: q
        for q in curriculum.quizzes.values()
        if q.kind == "module" and q.module_id is not None
    }
    writer = _Writer(db, next_ids)
    cut = _epoch(datetime.combine(today, time(0), tzinfo=tz))
    password_hash = hash_password(SYNTHETIC_PASSWORD, settings)
    ctx = _Context(
        writer=writer,
        curriculum=curriculum,
        questions=questions,
        module_quiz=module_quiz,
        pre=pre,
        post=post,
        version=version,
        cut=cut,
        tz=tz,
        certificate_codes=codes,
        password_hash=password_hash,
        notice=notice,
    )

    # regions, their OPDs, facilitators and cohorts: one transaction
    staff_created = _epoch(datetime.combine(date(YEARS[0], 1, 2), time(9), tzinfo=tz))
    orgs_of: dict[str, list[tuple]] = {}
    facilitator_of: dict[str, int] = {}
    for region in REGIONS:
        rid = regions.get(region.slug)
        if rid is None:
            rid = regions[region.slug] = writer.id("region")
            writer.add("region", (rid, region.slug, region.name, region.province))
        orgs_of[region.slug] = []
        for name in region_organizations(region, seed):
            oid = organizations.get((rid, name))
            if oid is None:
                oid = organizations[(rid, name)] = writer.id("organization")
                writer.add("organization", (oid, rid, name))
            orgs_of[region.slug].append((oid, name, OPD_WEIGHT.get(name, 1.0)))
        uid = facilitator_of[region.slug] = writer.id("user_account")
        writer.add(
            "user_account",
            (
                uid,
                f"{SYNTHETIC_PREFIX}fas-{region.code.lower()}",
                f"Fasilitator {region.name}",
                Role.facilitator.value,
                password_hash,
                "id",
                True,
                writer.ts(staff_created),
                None,
                None,
                None,
                None,
                None,
                0,
                notice,
            ),
        )
    writer.add(
        "user_account",
        (
            writer.id("user_account"),
            f"{SYNTHETIC_PREFIX}kpk",
            "Analis KPK (sintetis)",
            Role.kpk.value,
            password_hash,
            "id",
            True,
            writer.ts(staff_created),
            None,
            None,
            None,
            None,
            None,
            0,
            notice,
        ),
    )
    for plan in plans:
        plan.id = writer.id("cohort")
        end = plan.start + timedelta(days=1)
        writer.add(
            "cohort",
            (
                plan.id,
                plan.slug,
                regions[plan.region.slug],
                plan.title,
                plan.venue,
                plan.code_prefix,
                writer.day(plan.start),
                writer.day(end),
                writer.ts(
                    _epoch(
                        datetime.combine(
                            plan.start - timedelta(days=plan.pre_days), time(0), tzinfo=tz
                        )
                    )
                ),
                writer.ts(
                    _epoch(
                        datetime.combine(end + timedelta(days=plan.post_days), time(23), tzinfo=tz)
                    )
                ),
                30,
                90,
                21,
                16,  # two workshop days of 8 JP
                "nearest",
                f"Pemerintah {plan.region.name} dan Komisi Pemberantasan Korupsi",
            ),
        )
        writer.add("cohort_facilitator", (plan.id, facilitator_of[plan.region.slug]))
    writer.flush()
    say(
        f"{len(REGIONS)} regions, {sum(len(o) for o in orgs_of.values())} OPDs, "
        f"{len(plans)} cohorts; now {couples:,} couples…"
    )

    made = 0
    rows = 0
    for plan in plans:
        _Cohort(ctx, plan, facilitator_of[plan.region.slug], orgs_of[plan.region.slug]).build()
        made += plan.size
        if writer.pending >= BATCH_ROWS or plan is plans[-1]:
            rows += writer.flush()
            say(
                f"  {made:>9,} / {couples:,} couples ({100 * made // couples:>3} %) · "
                f"{rows:,} rows · {clock.perf_counter() - began:.0f} s"
            )
    writer.fix_sequences()
    # the rows bypassed the summary's transaction hooks: the KPK reports' summary and its
    # cubes are recomputed from them, in the transaction that records the run
    with db.write() as session:
        summary_began = clock.perf_counter()
        if writer.postgresql:
            session.execute(text("ANALYZE"))  # the planner still thinks the tables are empty
        participants = rebuild(session)
        if writer.postgresql:
            for table in SUMMARY_TABLES:
                session.execute(text(f'ANALYZE "{table}"'))
        summary_seconds = clock.perf_counter() - summary_began
        say(
            f"Report summary rebuilt: {participants:,} participants in {summary_seconds:.1f} s "
            f"· {clock.perf_counter() - began:.0f} s"
        )
        seconds = clock.perf_counter() - began
        session.add(
            AuditLog(
                at=utcnow(),
                actor_id=None,
                action=AUDIT_ACTION,
                target=f"couples:{couples}",
                detail={
                    "couples": couples,
                    "seed": seed,
                    "today": today.isoformat(),
                    "cohorts": len(plans),
                    "content_version": version,
                    "seconds": round(seconds, 1),
                    "summary_seconds": round(summary_seconds, 1),
                },
            )
        )
    return SyntheticResult(
        added=dict(writer.added),
        seconds=seconds,
        summary_seconds=summary_seconds,
        message=(
            f"Synthetic country ready: {couples:,} couples in {len(plans)} cohorts of "
            f"{len(REGIONS)} regions (seed {seed}, as of {today.isoformat()}) in "
            f"{seconds:.1f} s. Accounts {SYNTHETIC_PREFIX}kpk and "
            f"{SYNTHETIC_PREFIX}fas-<code> (and every activated participant) use the "
            f"password {SYNTHETIC_PASSWORD}."
        ),
    )


def describe(result: SyntheticResult) -> str:
    """The rows added, table by table, and the time."""
    lines = [result.message]
    if not result.skipped:
        width = max(len(t) for t in TABLES)
        for table in TABLES:
            lines.append(f"  {table:<{width}}  {result.added[table]:>12,}")
        lines.append(f"  {'total':<{width}}  {sum(result.added.values()):>12,}")
    return "\n".join(lines)
