"""Reading and validating the curriculum files in ``modules/`` (format: modules/README.md).

``load_content(folder)`` returns the parsed content and every problem found, each naming the
file and line, so an author can fix them all in one pass.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

M = TypeVar("M", bound=BaseModel)

SLUG = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"
Slug = Annotated[str, Field(pattern=SLUG, max_length=100)]
LESSON_LINK = re.compile(r"\]\(lesson:([^)\s]*)\)")
TRUE_FALSE = ("Benar", "Salah")


# ---------------------------------------------------------------- the file models


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class Text(Strict):
    id: str = Field(min_length=1, max_length=5000)
    en: str | None = Field(default=None, max_length=5000)


class ChoiceIn(Strict):
    text: Text
    correct: bool = False
    feedback: Text


class Tags(Strict):
    module: Slug
    values: list[Slug] = Field(min_length=1)


class QuestionIn(Strict):
    slug: Slug
    lesson: Slug | None = None
    type: Literal["single", "multiple", "true_false"]
    text: Text
    choices: list[ChoiceIn]
    explanation: Text
    source: str = Field(min_length=3, max_length=500)
    tags: Tags
    # item-writing warnings the author accepted, each with the reason (app.curriculum.item_rules);
    # not part of the question's wording, so it never makes a new version
    accept: dict[Slug, str] = Field(default_factory=dict)

    @field_validator("accept")
    @classmethod
    def _accepted_with_reasons(cls, accept: dict[str, str]) -> dict[str, str]:
        for rule, reason in accept.items():
            if len(reason.strip()) < 10:
                raise ValueError(f"accepting {rule!r} needs a reason in a sentence")
        return accept

    def wording(self) -> dict:
        """Everything a participant can see or be scored by (what versions the question)."""
        return self.model_dump(exclude={"accept"})

    @field_validator("choices")
    @classmethod
    def _choices_fit_type(cls, choices: list[ChoiceIn], info: ValidationInfo) -> list[ChoiceIn]:
        kind = info.data.get("type")
        n = len(choices)
        correct = sum(c.correct for c in choices)
        if kind == "single":
            if not 2 <= n <= 6:
                raise ValueError(f"a single-answer question needs 2–6 choices, not {n}")
            if correct != 1:
                raise ValueError(
                    f"a single-answer question needs exactly one correct choice, not {correct}"
                )
        elif kind == "multiple":
            if not 3 <= n <= 6:
                raise ValueError(f"a multiple-answer question needs 3–6 choices, not {n}")
            if correct < 1:
                raise ValueError("a multiple-answer question needs at least one correct choice")
        elif kind == "true_false":
            texts = tuple(c.text.id for c in choices)
            if texts != TRUE_FALSE:
                raise ValueError("a true_false question has exactly the choices Benar, Salah")
            if correct != 1:
                raise ValueError("a true_false question needs exactly one correct choice")
        return choices


class QuizIn(Strict):
    slug: Slug
    title: Text


class ModuleIn(Strict):
    slug: Slug
    phase: Literal["before", "after"]
    title: Text
    summary: Text
    quiz: QuizIn
    discussion: list[Text] = Field(min_length=1)


class LessonMeta(Strict):
    slug: Slug
    title: str = Field(min_length=1, max_length=200)
    phase: Literal["before", "after"]
    minutes: int = Field(ge=1, le=60)
    values: list[Slug] = Field(min_length=1)
    sources: list[Annotated[str, Field(min_length=3, max_length=500)]] = Field(min_length=1)
    discussion: list[Text] = Field(min_length=1)


class LessonEnMeta(Strict):
    title: str = Field(min_length=1, max_length=200)


class ValueIn(Strict):
    slug: Slug
    title: Text
    kpk: str | None = None


class TermIn(Strict):
    """A glossary entry: a word of the lessons explained for readers outside government."""

    term: str = Field(min_length=1, max_length=60)
    text: Text
    source: str | None = Field(default=None, max_length=200)


class GlossaryIn(Strict):
    terms: list[TermIn] = Field(min_length=1)


class PledgeIn(Strict):
    title: Text
    intro: Text
    points: list[Text] = Field(min_length=3)


PRIVACY_PLACEHOLDERS = ("years", "k")
_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")


class NoticeText(Strict):
    """A text of the privacy notice: Indonesian and English both (everyone reads it before
    agreeing), with only the known placeholders."""

    id: str = Field(min_length=1, max_length=5000)
    en: str = Field(min_length=1, max_length=5000)

    @field_validator("id", "en")
    @classmethod
    def _placeholders(cls, value: str) -> str:
        for name in _PLACEHOLDER.findall(value):
            if name not in PRIVACY_PLACEHOLDERS:
                known = ", ".join("{" + p + "}" for p in PRIVACY_PLACEHOLDERS)
                raise ValueError(f"unknown placeholder {{{name}}} (known: {known})")
        return value


class NoticeSection(Strict):
    heading: NoticeText
    body: NoticeText  # Markdown


class PrivacyIn(Strict):
    """``privacy.yaml``: the privacy notice (UU No. 27 Tahun 2022). ``version`` goes up
    whenever its meaning changes: everyone is asked to agree again."""

    version: int = Field(ge=1, le=10_000)
    effective: date
    title: NoticeText
    summary: list[NoticeText] = Field(min_length=2, max_length=8)
    sections: list[NoticeSection] = Field(min_length=3, max_length=20)
    contact: NoticeText


class BiText(Strict):
    """A text everyone reads in their language: Indonesian and English both."""

    id: str = Field(min_length=1, max_length=1000)
    en: str = Field(min_length=1, max_length=1000)


class SurveyOption(Strict):
    slug: Slug
    text: BiText


SurveyTopic = Literal[
    "materials", "facilitators", "method", "venue", "usefulness", "recommend", "open"
]


class SurveyItem(Strict):
    slug: Slug
    topic: SurveyTopic
    kind: Literal["likert", "choice", "open"]
    text: BiText
    options: list[SurveyOption] = Field(default_factory=list, max_length=6)

    @model_validator(mode="after")
    def _options_fit_kind(self) -> SurveyItem:
        if self.kind == "choice" and len(self.options) < 2:
            raise ValueError("a choice item needs at least two options")
        if self.kind != "choice" and self.options:
            raise ValueError(f"a {self.kind} item has no options")
        if len({o.slug for o in self.options}) != len(self.options):
            raise ValueError("two options have the same slug")
        return self


class SurveyIn(Strict):
    """``survey.yaml``: the reaction survey asked after the workshop (evaluation level 1)."""

    version: int = Field(ge=1, le=10_000)
    title: BiText
    intro: BiText
    scale: list[BiText] = Field(min_length=5, max_length=5)
    items: list[SurveyItem] = Field(min_length=3, max_length=20)

    @model_validator(mode="after")
    def _items(self) -> SurveyIn:
        slugs = [i.slug for i in self.items]
        if len(set(slugs)) != len(slugs):
            raise ValueError("two items have the same slug")
        likert = [i for i in self.items if i.kind == "likert"]
        if not 4 <= len(likert) <= 12:
            raise ValueError("the survey needs 4 to 12 likert items")
        if sum(i.kind == "open" for i in self.items) > 3:
            raise ValueError("at most 3 open questions")
        return self


# ---------------------------------------------------------------- the loaded content


@dataclass
class Problem:
    file: Path
    line: int | None
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else str(self.file)
        return f"{where}: {self.message}"


@dataclass
class LessonDoc:
    meta: LessonMeta
    body: str
    file: Path
    body_line: int
    title_en: str | None = None
    body_en: str | None = None
    node: Any = field(default=None, repr=False, compare=False)

    def line_at(self, *loc: str | int) -> int | None:
        return _Reader.line_of(self.node, loc, offset=1)

    @property
    def words(self) -> int:
        return len(re.findall(r"\w+", self.body))


@dataclass
class QuestionDoc:
    data: QuestionIn
    file: Path
    line: int
    node: Any = field(default=None, repr=False, compare=False)

    def line_at(self, *loc: str | int) -> int | None:
        return _Reader.line_of(self.node, loc) or self.line


@dataclass
class ModuleDoc:
    data: ModuleIn
    folder: Path
    lessons: list[LessonDoc] = field(default_factory=list)
    checks: list[QuestionDoc] = field(default_factory=list)
    quiz: list[QuestionDoc] = field(default_factory=list)


@dataclass
class Content:
    values: list[ValueIn] = field(default_factory=list)
    modules: list[ModuleDoc] = field(default_factory=list)
    prepost: list[QuestionDoc] = field(default_factory=list)
    pledge: PledgeIn | None = None
    glossary: list[TermIn] = field(default_factory=list)
    privacy: PrivacyIn | None = None
    survey: SurveyIn | None = None

    @property
    def lessons(self) -> list[LessonDoc]:
        return [lesson for m in self.modules for lesson in m.lessons]

    def describe(self) -> str:
        lines = [
            f"Content is valid: {len(self.modules)} modules, {len(self.lessons)} lessons, "
            f"{sum(len(m.checks) for m in self.modules)} lesson checks, "
            f"{sum(len(m.quiz) for m in self.modules)} quiz questions, "
            f"{len(self.prepost)} pre/post items."
        ]
        for m in self.modules:
            lines.append(
                f"  {m.data.slug} ({m.data.phase}): {len(m.lessons)} lessons, "
                f"{len(m.checks)} checks, {len(m.quiz)} quiz questions"
            )
        lines.append(f"  glossary: {len(self.glossary)} terms")
        return "\n".join(lines)

    def digest(self) -> str:
        """A fingerprint of everything, to tell whether a sync changes anything."""
        payload = {
            "values": [v.model_dump() for v in self.values],
            "modules": [
                {
                    "module": m.data.model_dump(),
                    "lessons": [
                        [lesson.meta.model_dump(), lesson.body, lesson.title_en, lesson.body_en]
                        for lesson in m.lessons
                    ],
                    "checks": [q.data.wording() for q in m.checks],
                    "quiz": [q.data.wording() for q in m.quiz],
                }
                for m in self.modules
            ],
            "prepost": [q.data.wording() for q in self.prepost],
            "pledge": self.pledge.model_dump() if self.pledge else None,
            "glossary": [t.model_dump() for t in self.glossary],
            "privacy": self.privacy.model_dump(mode="json") if self.privacy else None,
            "survey": self.survey.model_dump() if self.survey else None,
        }
        raw = json.dumps(payload, sort_keys=True, ensure_ascii=False).encode()
        return hashlib.sha256(raw).hexdigest()


# ---------------------------------------------------------------- YAML with line numbers


class _Reader:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.problems: list[Problem] = []

    def rel(self, path: Path) -> Path:
        try:
            return path.relative_to(self.root.parent)
        except ValueError:
            return path

    def problem(self, path: Path, line: int | None, message: str) -> None:
        self.problems.append(Problem(self.rel(path), line, message))

    def yaml(self, path: Path, text: str | None = None, line_offset: int = 0):
        """Parse YAML, returning (data, node) or (None, None) after recording the problem."""
        try:
            text = path.read_text(encoding="utf-8") if text is None else text
        except UnicodeDecodeError:
            self.problem(path, None, "the file is not UTF-8 text")
            return None, None
        try:
            node = yaml.compose(text, Loader=yaml.SafeLoader)
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            line = mark.line + 1 + line_offset if mark else None
            self.problem(path, line, f"YAML cannot be read: {getattr(exc, 'problem', exc)}")
            return None, None
        return data, node

    @staticmethod
    def line_of(node: Any, loc: tuple, offset: int = 0) -> int | None:
        """The line of the YAML node at a Pydantic error location."""
        best = node
        for part in loc:
            if node is None:
                break
            if isinstance(node, yaml.MappingNode) and isinstance(part, str):
                nxt = None
                for key, value in node.value:
                    if key.value == part:
                        nxt = value
                        best = key
                        break
                node = nxt
                if nxt is not None:
                    best = nxt if not isinstance(nxt, yaml.ScalarNode) else best
            elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
                node = node.value[part] if part < len(node.value) else None
                if node is not None:
                    best = node
            else:
                break
        if best is None:
            return None
        return best.start_mark.line + 1 + offset

    def validate(
        self,
        model: type[BaseModel],
        data: Any,
        path: Path,
        node: Any,
        loc_prefix: tuple = (),
        offset: int = 0,
    ) -> Any:
        try:
            return model.model_validate(data)
        except ValidationError as exc:
            for err in exc.errors():
                loc = loc_prefix + tuple(err["loc"])
                where = ".".join(str(p) for p in err["loc"]) or "(top)"
                msg = err["msg"].removeprefix("Value error, ")
                self.problem(path, self.line_of(node, loc, offset), f"{where}: {msg}")
            return None


def _split_front_matter(text: str) -> tuple[str, str, int] | None:
    """(front matter, body, line where the body starts) or None without front matter."""
    if not text.startswith("---\n"):
        return None
    end = text.find("\n---\n", 4)
    if end == -1:
        end_alt = text.find("\n---", 4)
        if end_alt == -1 or text[end_alt + 4 :].strip():
            return None
        end = end_alt
    front = text[4 : end + 1]
    body = text[end + 5 :]
    body_line = front.count("\n") + 3
    return front, body, body_line


# ---------------------------------------------------------------- loading


def _load_questions(reader: _Reader, path: Path) -> list[QuestionDoc]:
    if not path.exists():
        reader.problem(path, None, "file is missing")
        return []
    data, node = reader.yaml(path)
    if data is None and node is None:
        return []
    if not isinstance(data, list):
        reader.problem(path, 1, "expected a list of questions")
        return []
    out = []
    for i, item in enumerate(data):
        q = reader.validate(QuestionIn, item, path, node, loc_prefix=(i,))
        if q is not None:
            item_node = node.value[i]
            out.append(QuestionDoc(q, reader.rel(path), item_node.start_mark.line + 1, item_node))
    return out


def _load_glossary(reader: _Reader, path: Path) -> list[TermIn]:
    """``glossary.yaml`` (optional): the terms, each once (whatever the letter case)."""
    if not path.exists():
        return []
    data, node = reader.yaml(path)
    if data is None and node is None:
        return []
    glossary = reader.validate(GlossaryIn, data, path, node)
    if glossary is None:
        return []
    items = next(v for k, v in node.value if k.value == "terms").value
    _unique(
        reader,
        [
            (term.term.casefold(), path, item.start_mark.line + 1)
            for term, item in zip(glossary.terms, items, strict=True)
        ],
        "glossary term",
    )
    return glossary.terms


def _load_lesson(reader: _Reader, path: Path) -> LessonDoc | None:
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        reader.problem(path, None, "the file is not UTF-8 text")
        return None
    parts = _split_front_matter(text)
    if parts is None:
        reader.problem(path, 1, "a lesson starts with YAML front matter between '---' lines")
        return None
    front, body, body_line = parts
    data, node = reader.yaml(path, front, line_offset=1)
    if data is None and node is None:
        return None
    if not isinstance(data, dict):
        reader.problem(path, 2, "the front matter must be a mapping")
        return None
    meta = reader.validate(LessonMeta, data, path, node, offset=1)
    if meta is None:
        return None
    if not body.strip():
        reader.problem(path, body_line, "the lesson has no Indonesian text")
        return None
    doc = LessonDoc(meta=meta, body=body, file=reader.rel(path), body_line=body_line, node=node)
    en_path = path.with_name(path.name.removesuffix(".md") + ".en.md")
    if en_path.exists():
        en_text = en_path.read_text(encoding="utf-8")
        en_parts = _split_front_matter(en_text)
        if en_parts is None:
            reader.problem(en_path, 1, "the English lesson needs front matter with a title")
        else:
            en_data, en_node = reader.yaml(en_path, en_parts[0], line_offset=1)
            en_meta = reader.validate(LessonEnMeta, en_data, en_path, en_node, offset=1)
            if en_meta is not None:
                doc.title_en = en_meta.title
                doc.body_en = en_parts[1] if en_parts[1].strip() else None
    return doc


def _load_module(reader: _Reader, folder: Path) -> ModuleDoc | None:
    path = folder / "module.yaml"
    if not path.exists():
        reader.problem(path, None, "file is missing")
        return None
    data, node = reader.yaml(path)
    if data is None and node is None:
        return None
    module = reader.validate(ModuleIn, data, path, node)
    if module is None:
        return None
    doc = ModuleDoc(data=module, folder=reader.rel(folder))
    lesson_files = sorted(
        p for p in (folder / "lessons").glob("*.md") if not p.name.endswith(".en.md")
    )
    if not lesson_files:
        reader.problem(folder / "lessons", None, "the module has no lessons")
    for lesson_path in lesson_files:
        lesson = _load_lesson(reader, lesson_path)
        if lesson is not None:
            doc.lessons.append(lesson)
    doc.checks = _load_questions(reader, folder / "checks.yaml")
    doc.quiz = _load_questions(reader, folder / "quiz.yaml")
    return doc


def load_content(root: Path) -> tuple[Content, list[Problem]]:
    root = Path(root)
    reader = _Reader(root)
    content = Content()
    if not root.is_dir():
        reader.problem(root, None, "the content folder does not exist")
        return content, reader.problems

    values_path = root / "values.yaml"
    if values_path.exists():
        data, node = reader.yaml(values_path)
        if isinstance(data, list):
            for i, item in enumerate(data):
                v = reader.validate(ValueIn, item, values_path, node, loc_prefix=(i,))
                if v is not None:
                    content.values.append(v)
        elif data is not None:
            reader.problem(values_path, 1, "expected a list of values")
    else:
        reader.problem(values_path, None, "file is missing")

    for folder in sorted(p for p in root.iterdir() if p.is_dir() and p.name[:2].isdigit()):
        module = _load_module(reader, folder)
        if module is not None:
            content.modules.append(module)
    if not content.modules:
        reader.problem(root, None, "no module folders (like 01-name/) were found")

    content.prepost = _load_questions(reader, root / "pre-post.yaml")

    content.pledge = _load_one(reader, root / "pledge.yaml", PledgeIn)
    content.glossary = _load_glossary(reader, root / "glossary.yaml")
    content.privacy = _load_one(reader, root / "privacy.yaml", PrivacyIn)
    content.survey = _load_one(reader, root / "survey.yaml", SurveyIn)
    _cross_check(reader, content)
    return content, reader.problems


def _load_one(reader: _Reader, path: Path, model: type[M]) -> M | None:
    """A required file that holds one document (the pledge, the privacy notice)."""
    if not path.exists():
        reader.problem(path, None, "file is missing")
        return None
    data, node = reader.yaml(path)
    return None if data is None else reader.validate(model, data, path, node)


def _cross_check(reader: _Reader, content: Content) -> None:
    """Rules across files: unique slugs, known tags, phases, lesson links."""
    values = {v.slug for v in content.values}
    _unique(
        reader, [(v.slug, reader.root / "values.yaml", None) for v in content.values], "value slug"
    )
    modules = {m.data.slug for m in content.modules}
    _unique(
        reader,
        [(m.data.slug, reader.root.parent / m.folder / "module.yaml", 1) for m in content.modules],
        "module slug",
    )
    quiz_slugs: list[tuple[str, Path, int | None]] = [
        (m.data.quiz.slug, reader.root.parent / m.folder / "module.yaml", None)
        for m in content.modules
    ]
    quiz_slugs += [
        ("pre-test", reader.root / "pre-post.yaml", None),
        ("post-test", reader.root / "pre-post.yaml", None),
    ]
    _unique(reader, quiz_slugs, "quiz slug")
    lessons = content.lessons
    lesson_slugs = {lesson.meta.slug for lesson in lessons}
    _unique(
        reader,
        [(lesson.meta.slug, reader.root.parent / lesson.file, 2) for lesson in lessons],
        "lesson slug",
    )
    all_questions = [q for m in content.modules for q in (*m.checks, *m.quiz)] + content.prepost
    _unique(
        reader,
        [(q.data.slug, reader.root.parent / q.file, q.line) for q in all_questions],
        "question slug",
    )
    for m in content.modules:
        own_lessons = {lesson.meta.slug for lesson in m.lessons}
        for lesson in m.lessons:
            path = reader.root.parent / lesson.file
            if lesson.meta.phase != m.data.phase:
                reader.problem(
                    path,
                    lesson.line_at("phase"),
                    f"phase {lesson.meta.phase!r} differs from its module's phase {m.data.phase!r}",
                )
            for slug in lesson.meta.values:
                if slug not in values:
                    reader.problem(path, lesson.line_at("values"), f"unknown value tag {slug!r}")
            for n, text in enumerate(lesson.body.splitlines()):
                for target in LESSON_LINK.findall(text):
                    if target not in lesson_slugs:
                        reader.problem(
                            path, lesson.body_line + n, f"link to unknown lesson {target!r}"
                        )
        for q in m.checks:
            path = reader.root.parent / q.file
            if q.data.lesson is None:
                reader.problem(path, q.line, f"{q.data.slug}: a lesson check names its lesson")
            elif q.data.lesson not in own_lessons:
                reader.problem(
                    path,
                    q.line_at("lesson"),
                    f"{q.data.slug}: unknown lesson {q.data.lesson!r} in this module",
                )
        for q in m.quiz:
            if q.data.tags.module != m.data.slug:
                reader.problem(
                    reader.root.parent / q.file,
                    q.line_at("tags", "module"),
                    f"{q.data.slug}: tagged with module {q.data.tags.module!r}, "
                    f"but it is in the quiz of {m.data.slug!r}",
                )
    for q in all_questions:
        path = reader.root.parent / q.file
        if q.data.tags.module not in modules:
            reader.problem(
                path,
                q.line_at("tags", "module"),
                f"{q.data.slug}: unknown module tag {q.data.tags.module!r}",
            )
        for slug in q.data.tags.values:
            if slug not in values:
                reader.problem(
                    path, q.line_at("tags", "values"), f"{q.data.slug}: unknown value tag {slug!r}"
                )
    for q in content.prepost:
        if q.data.lesson is not None:
            reader.problem(
                reader.root.parent / q.file,
                q.line_at("lesson"),
                f"{q.data.slug}: a pre/post item belongs to no lesson",
            )


def _unique(reader: _Reader, items: list[tuple[str, Path, int | None]], kind: str) -> None:
    seen: dict[str, tuple[Path, int | None]] = {}
    for slug, path, line in items:
        if slug in seen:
            first, first_line = seen[slug]
            where = f"{reader.rel(first)}" + (f":{first_line}" if first_line else "")
            reader.problem(path, line, f"duplicate {kind} {slug!r} (first in {where})")
        else:
            seen[slug] = (path, line)
