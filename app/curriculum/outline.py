"""The curriculum as the pages use it: modules, lessons, quizzes and lesson checks of the
current content version, loaded once (``curriculum.service.CurriculumCache``). Plain data, no
I/O: the learning rules compute from it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class LessonInfo:
    id: int
    slug: str
    title: dict[str, str]
    minutes: int
    phase: str
    module_id: int
    position: int
    html: dict[str, str] = field(default_factory=dict, repr=False)
    sources: list[Any] = field(default_factory=list)
    discussion: list[Any] = field(default_factory=list)


@dataclass
class ModuleInfo:
    id: int
    slug: str
    title: dict[str, str]
    summary: dict[str, str]
    phase: str
    position: int
    lessons: list[LessonInfo] = field(default_factory=list)
    discussion: list[Any] = field(default_factory=list)


@dataclass
class QuizInfo:
    id: int
    slug: str
    kind: str  # module | pre | post
    module_id: int | None
    title: dict[str, str]
    pass_mark: int
    max_attempts: int


@dataclass
class CheckQuestion:
    """A lesson-check question (current version) with its choices in authored order."""

    id: int
    slug: str
    type: str
    text: dict[str, str]
    explanation: dict[str, str]
    source: str
    choices: list[dict[str, Any]]  # id, text, feedback, correct


@dataclass
class Curriculum:
    """Everything about the content a page needs, loaded once per content version."""

    version: int
    modules: list[ModuleInfo]
    quizzes: dict[str, QuizInfo]
    checks: dict[int, list[CheckQuestion]]  # by lesson id
    # quiz questions' content by id, kept as attempts show them (``app.quizzes.service``):
    # any revision, since a question's row never changes (a new revision is a new row)
    questions: dict[int, tuple[Any, ...]] = field(default_factory=dict, repr=False, compare=False)
    # each module's quiz (the first), by module id: asked for every module of every person on
    # the facilitator's pages
    _module_quizzes: dict[int, QuizInfo] = field(init=False, repr=False, compare=False)
    # what the learning rules derive from the curriculum alone, computed once per content
    # version (``app.learning.rules``)
    derived: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        self._module_quizzes = {}
        for quiz in self.quizzes.values():
            if quiz.module_id is not None:
                self._module_quizzes.setdefault(quiz.module_id, quiz)

    def find(self, slug: str) -> tuple[ModuleInfo, LessonInfo] | None:
        for module in self.modules:
            for lesson in module.lessons:
                if lesson.slug == slug:
                    return module, lesson
        return None

    def neighbours(self, lesson: LessonInfo) -> tuple[LessonInfo | None, LessonInfo | None]:
        flat = [item for module in self.modules for item in module.lessons]
        i = next(n for n, item in enumerate(flat) if item.id == lesson.id)
        return (flat[i - 1] if i > 0 else None), (flat[i + 1] if i + 1 < len(flat) else None)

    def module_quiz(self, module_id: int) -> QuizInfo | None:
        return self._module_quizzes.get(module_id)
