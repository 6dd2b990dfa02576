"""The item-writing rules of ``integritas content check``: one broken pool per rule, each
finding named with its file and line; accepted warnings; the summary table."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from app import cli
from app.curriculum.content import load_content
from app.curriculum.item_rules import ItemRules, review_items

FIXTURE = Path(__file__).parent.parent / "fixtures" / "content"
# the fixture's pools are tiny: only the rule a test is about may fire
QUIET = ItemRules(min_per_value=0, min_per_module=0)


def item(slug: str, kind: str, stem: str, choices: list[tuple[str, bool]], **extra) -> dict:
    out = {
        "slug": slug,
        "type": kind,
        "text": {"id": stem},
        "choices": [
            {
                "text": {"id": text},
                **({"correct": True} if right else {}),
                "feedback": {"id": "Tepat." if right else "Kurang tepat."},
            }
            for text, right in choices
        ],
        "explanation": {"id": "Penjelasan singkat."},
        "source": "UU No. 28 Tahun 1999, Pasal 3",
        "tags": {"module": "satu", "values": ["kejujuran"]},
    }
    out.update(extra)
    return out


def single(slug: str, key: int = 0, texts=("satu", "dua", "tiga", "empat"), **extra) -> dict:
    return item(
        slug, "single", f"Pertanyaan {slug}?", [(t, i == key) for i, t in enumerate(texts)], **extra
    )


def true_false(slug: str, stem: str, keyed_true: bool) -> dict:
    return item(slug, "true_false", stem, [("Benar", keyed_true), ("Salah", not keyed_true)])


def content_with(tmp_path: Path, quiz: list[dict], prepost: list[dict] | None = None):
    """The fixture content with module 1's quiz (and optionally the pre/post pool) replaced.
    Returns the content and the written quiz file's lines."""
    root = tmp_path / "content"
    shutil.copytree(FIXTURE, root)
    quiz_file = root / "01-satu/quiz.yaml"
    quiz_file.write_text(yaml.safe_dump(quiz, allow_unicode=True, sort_keys=False))
    if prepost is not None:
        (root / "pre-post.yaml").write_text(
            yaml.safe_dump(prepost, allow_unicode=True, sort_keys=False)
        )
    content, problems = load_content(root)
    assert problems == [], problems
    return content, root


def line_of(root: Path, file: str, text: str, nth: int = 1) -> int:
    lines = (root / file).read_text().splitlines()
    hits = [n for n, line in enumerate(lines, 1) if text in line]
    return hits[nth - 1]


def found(review, rule: str) -> list[str]:
    """The findings of one rule in the files a test wrote (the fixture's others are left)."""
    mine = ("content/01-satu/quiz.yaml", "content/pre-post.yaml")
    return [str(f) for f in review.findings if f.rule == rule and str(f.file) in mine]


def test_a_key_clearly_longer_than_every_distractor_is_a_warning_and_in_a_pool_an_error(
    tmp_path,
):
    long_key = "jawaban yang panjang, teliti dan lengkap sekali"
    quiz = [single("q-1", texts=(long_key, "pendek", "singkat", "ringkas"))] + [
        single(f"q-{n}", key=n % 4) for n in range(2, 8)
    ]
    content, root = content_with(tmp_path, quiz)
    review = review_items(content, QUIET)
    key_line = line_of(root, "01-satu/quiz.yaml", long_key) - 1  # the choice's "- text:"
    assert found(review, "key-longest") == [
        f"content/01-satu/quiz.yaml:{key_line}: warning [key-longest] q-1: the key is "
        f"{len(long_key) / 7:.1f}× as long as the longest distractor ({len(long_key)} vs 7 "
        "characters)"
    ]
    # 1 of 7 single-answer items (14 %) is within the pool's 15 %; 2 of 7 are not
    assert found(review, "key-longest-pool") == []
    quiz[1] = single("q-2", texts=(long_key, "pendek", "singkat", "ringkas"))
    content, root = content_with(tmp_path / "again", quiz)
    (pool,) = found(review_items(content, QUIET), "key-longest-pool")
    first = line_of(root, "01-satu/quiz.yaml", "slug: q-1")
    assert pool.startswith(f"content/01-satu/quiz.yaml:{first}: error [key-longest-pool]")
    assert "2 of 7 single-answer items (29 %; at most 15 %)" in pool


def test_keys_always_in_the_same_position_are_a_warning_and_a_spread_is_not(tmp_path):
    content, root = content_with(tmp_path, [single(f"q-{n}", key=0) for n in range(8)])
    (finding,) = found(review_items(content, QUIET), "key-positions")
    first = line_of(root, "01-satu/quiz.yaml", "slug: q-0")
    assert finding == (
        f"content/01-satu/quiz.yaml:{first}: warning [key-positions] m1 quiz: the keys' "
        "positions are far from even (position 1: 8)"
    )
    spread = [single(f"q-{n}", key=n % 4) for n in range(8)]
    content, _ = content_with(tmp_path / "spread", spread)
    review = review_items(content, QUIET)
    assert found(review, "key-positions") == []
    assert review.pools[1].positions == {1: 2, 2: 2, 3: 2, 4: 2}


def test_keys_always_of_the_same_length_rank_are_a_warning_in_the_pool_and_the_course(
    tmp_path,
):
    # every key just shorter than one distractor: "pick the second longest" would score
    texts = ("jawaban kedua", "jawaban paling panjang", "pendek", "singkat")
    quiz = [single(f"q-{n}", key=0, texts=texts) for n in range(8)]
    for n, q in enumerate(quiz):  # positions spread, so only the length rank is off
        q["choices"] = q["choices"][n % 4 :] + q["choices"][: n % 4]
    content, root = content_with(tmp_path, quiz)
    review = review_items(content, QUIET)
    first = line_of(root, "01-satu/quiz.yaml", "slug: q-0")
    assert found(review, "key-length-rank") == [
        f"content/01-satu/quiz.yaml:{first}: warning [key-length-rank] m1 quiz: the keys' "
        "lengths among their options are far from even (longest = 1st; 2nd: 8) — readers "
        "learn which length to pick"
    ]
    assert found(review, "key-positions") == []
    assert review.pools[1].length_ranks == {2: 8}
    # all pools together, as a participant meets them: the same test over the course
    whole = [str(f) for f in review.findings if f.rule == "key-length-rank" and f.line is None]
    assert len(whole) == 1 and whole[0].startswith("content: warning [key-length-rank] all:")
    everything = review.pools[-1]
    assert everything.name == "all"
    assert everything.items == sum(p.items for p in review.pools[:-1])


def test_true_false_keys_outside_forty_to_sixty_percent_benar_are_a_warning(tmp_path):
    quiz = [true_false(f"t-{n}", f"Pernyataan nomor {n}.", keyed_true=n == 0) for n in range(4)]
    content, root = content_with(tmp_path, quiz)
    (finding,) = found(review_items(content, QUIET), "true-false-balance")
    first = line_of(root, "01-satu/quiz.yaml", "slug: t-0")
    assert finding == (
        f"content/01-satu/quiz.yaml:{first}: warning [true-false-balance] m1 quiz: 1 of 4 "
        "true/false items are keyed 'Benar' (25 %; keep 40–60 %)"
    )
    quiz[1] = true_false("t-1", "Pernyataan nomor 1.", keyed_true=True)
    content, _ = content_with(tmp_path / "balanced", quiz)
    assert found(review_items(content, QUIET), "true-false-balance") == []


def test_multiple_answer_items_all_with_the_same_number_of_keys_are_a_warning(tmp_path):
    def multiple(slug: str, keys: int) -> dict:
        texts = ["a", "b", "c", "d", "e"]
        return item(slug, "multiple", "Pilih semua?", [(t, i < keys) for i, t in enumerate(texts)])

    content, root = content_with(tmp_path, [multiple(f"m-{n}", 3) for n in range(3)])
    (finding,) = found(review_items(content, QUIET), "multiple-same-count")
    first = line_of(root, "01-satu/quiz.yaml", "slug: m-0")
    assert finding == (
        f"content/01-satu/quiz.yaml:{first}: warning [multiple-same-count] m1 quiz: all 3 "
        "multiple-answer items have 3 correct choices"
    )
    content, _ = content_with(tmp_path / "varied", [multiple(f"m-{n}", n + 1) for n in range(3)])
    assert found(review_items(content, QUIET), "multiple-same-count") == []


def test_an_absolute_word_only_in_false_statements_is_a_warning(tmp_path):
    quiz = [
        true_false("t-1", "Hadiah dari keluarga selalu wajib dilaporkan.", keyed_true=False),
        single(
            "q-1",
            key=0,
            texts=("Melapor lewat UPG", "Hanya melapor bila ditanya", "Menyimpan", "Menolak"),
        ),
        # the same word in the key too: no cue left
        single("q-2", key=0, texts=("Hanya bila diminta", "Hanya bila mau", "Kapan saja", "Nanti")),
    ]
    content, root = content_with(tmp_path, quiz)
    findings = found(review_items(content, QUIET), "absolute-word")
    stem = line_of(root, "01-satu/quiz.yaml", "selalu wajib")
    wrong = line_of(root, "01-satu/quiz.yaml", "Hanya melapor") - 1  # the choice's "- text:"
    assert findings == [
        f"content/01-satu/quiz.yaml:{stem}: warning [absolute-word] t-1: 'selalu' in a false "
        "statement (readers learn that absolute claims are wrong)",
        f"content/01-satu/quiz.yaml:{wrong}: warning [absolute-word] q-1: 'hanya' in a false "
        "statement (readers learn that absolute claims are wrong)",
    ]


def test_feedback_that_contradicts_the_key_is_an_error(tmp_path):
    wrong_opener = true_false("t-1", "Pelaku pasif tidak bisa dijerat.", keyed_true=False)
    wrong_opener["choices"][1]["feedback"] = {"id": "Benar. Pelaku pasif bisa dijerat."}
    content, root = content_with(tmp_path, [wrong_opener])
    (finding,) = found(review_items(content, QUIET), "feedback-contradicts")
    line = line_of(root, "01-satu/quiz.yaml", "Benar. Pelaku pasif")
    assert finding == (
        f"content/01-satu/quiz.yaml:{line}: error [feedback-contradicts] t-1: the feedback of "
        "the correct choice ('Salah') begins with 'Benar'"
    )
    praised = single("q-1")
    praised["choices"][2]["feedback"] = {"id": "Tepat juga, tetapi kurang lengkap."}
    content, _ = content_with(tmp_path / "wrong-praised", [praised])
    (finding,) = found(review_items(content, QUIET), "feedback-contradicts")
    assert "the feedback of a wrong choice ('tiga') begins with 'Tepat'" in finding


def test_a_pre_post_item_near_identical_to_a_quiz_item_is_an_error(tmp_path):
    stem = "Seorang kontraktor mengirim parsel mahal ke rumah pejabat menjelang Lebaran."
    quiz = [single("q-parsel", texts=("Ditolak atau dilaporkan", "Disimpan", "Dibagi", "Dijual"))]
    quiz[0]["text"] = {"id": stem}
    copy = single("p-parsel", texts=("Dijual", "Ditolak atau dilaporkan", "Disimpan", "Dibagi"))
    copy["text"] = {"id": stem.replace("Seorang", "Satu")}
    copy["choices"] = [
        dict(c, correct=c["text"]["id"] == "Ditolak atau dilaporkan") for c in copy["choices"]
    ]
    fresh = single("p-lain", texts=("Menolak", "Menerima", "Menunda", "Membagi"))
    fresh["text"] = {"id": "Adik ipar meminta dimasukkan sebagai pegawai alih daya di dinas."}
    content, root = content_with(tmp_path, quiz, prepost=[copy, fresh])
    (finding,) = found(review_items(content, QUIET), "near-duplicate")
    pp_line = line_of(root, "pre-post.yaml", "slug: p-parsel")
    quiz_line = line_of(root, "01-satu/quiz.yaml", "slug: q-parsel")
    assert finding.startswith(
        f"content/pre-post.yaml:{pp_line}: error [near-duplicate] p-parsel: near-identical to "
        f"q-parsel (content/01-satu/quiz.yaml:{quiz_line}; similarity "
    )
    assert "p-lain" not in finding


def test_a_pre_post_pool_that_measures_a_value_or_module_too_little_is_an_error(tmp_path):
    content, _ = load_content(FIXTURE), None
    content = content[0]
    review = review_items(content, ItemRules(min_per_value=1, min_per_module=2))
    findings = found(review, "pool-coverage")
    line = content.prepost[0].line
    # the fixture's pool: one item on 'integritas', one on 'kejujuran', one per module
    assert (
        f"content/pre-post.yaml:{line}: error [pool-coverage] pre/post: 0 item(s) tagged with "
        "the value 'keadilan' (at least 1)"
    ) in findings
    assert not any("'kejujuran'" in f or "'integritas'" in f for f in findings)
    assert (
        f"content/pre-post.yaml:{line}: error [pool-coverage] pre/post: 1 item(s) on the "
        "module 'satu' (at least 2)"
    ) in findings
    assert len(findings) == 7 + 2  # seven values and both modules


def test_an_accepted_warning_needs_a_reason_and_errors_cannot_be_accepted(tmp_path):
    long_key = "jawaban yang panjang, teliti dan lengkap sekali"
    reason = "Kunci harus menyebut dua syarat sekaligus; pengecoh sama spesifiknya."
    accepted = single(
        "q-1", texts=(long_key, "pendek", "singkat", "ringkas"), accept={"key-longest": reason}
    )
    wrong = single("q-2", key=1, accept={"near-duplicate": "Ini sengaja dibuat mirip sekali."})
    content, root = content_with(tmp_path, [accepted, wrong])
    review = review_items(content, QUIET)
    (ok,) = review.accepted
    assert str(ok).endswith(
        f"accepted [key-longest] q-1: the key is 6.7× as long as the "
        f"longest distractor ({len(long_key)} vs 7 characters) — {reason}"
    )
    assert [w for w in review.warnings if str(w.file) == "content/01-satu/quiz.yaml"] == []
    (error,) = found(review, "accept")
    assert (
        f"content/01-satu/quiz.yaml:{line_of(root, '01-satu/quiz.yaml', 'near-duplicate:')}"
        in error
    )
    assert "'near-duplicate' is not a warning that can be accepted" in error
    too_short = single("q-3", accept={"key-longest": "ok"})
    root = tmp_path / "short"
    shutil.copytree(FIXTURE, root)
    (root / "01-satu/quiz.yaml").write_text(yaml.safe_dump([too_short], sort_keys=False))
    _, problems = load_content(root)
    assert any("accepting 'key-longest' needs a reason in a sentence" in str(p) for p in problems)


def test_accepting_a_warning_does_not_make_a_new_question_version(tmp_path):
    plain = single("q-1")
    content, _ = content_with(tmp_path, [plain])
    accepted = dict(plain, accept={"key-longest": "Alasan yang cukup panjang untuk diterima."})
    again, _ = content_with(tmp_path / "accepted", [accepted])
    assert content.digest() == again.digest()


@pytest.mark.parametrize("shown", ["pool", "items per value"])
def test_content_check_prints_the_pools_shape_and_fails_on_item_errors(tmp_path, shown):
    stem = "Seorang kontraktor mengirim parsel mahal ke rumah pejabat menjelang Lebaran."
    quiz = [single("q-parsel")]
    quiz[0]["text"] = {"id": stem}
    copy = single("p-parsel")
    copy["text"] = {"id": stem}
    _, root = content_with(tmp_path, quiz, prepost=[copy])
    result = CliRunner().invoke(cli.app, ["content", "check", str(root)])
    assert result.exit_code == 1
    assert "error [near-duplicate] p-parsel" in result.output
    assert "item-writing error(s)" in result.output
    header = next(line for line in result.output.splitlines() if line.startswith(shown))
    if shown == "pool":
        assert header.split() == [
            "pool",
            "items",
            "single",
            "key",
            "longest",
            "key",
            "positions",
            "key",
            "length",
            "rank",
            "T/F",
            "Benar",
            "multi",
        ]
    else:
        rows = result.output.split(header, 1)[1].splitlines()[1:10]
        assert [r.split()[0] for r in rows][:3] == ["kejujuran", "kemandirian", "keadilan"]


def test_the_curriculum_passes_the_item_rules_with_no_warning_left_unexplained():
    from app.config import ROOT

    content, problems = load_content(ROOT / "modules")
    assert problems == []
    review = review_items(content)
    assert [str(f) for f in review.errors + review.warnings] == []
    assert 27 <= len(content.prepost) <= 30
    prepost = review.pools[-1]
    assert all(prepost.per_module[m.data.slug] >= 8 for m in content.modules), prepost.per_module
    assert all(prepost.per_value[v.slug] >= 3 for v in content.values), prepost.per_value
