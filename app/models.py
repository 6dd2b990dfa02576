"""Every table of the application, imported in one place for Alembic and the tests."""

from app.accounts.models import AuditLog, AuthSession, LoginFailure, User  # noqa: F401
from app.api.models import ApiToken  # noqa: F401
from app.certificates.models import Certificate  # noqa: F401
from app.cohorts.models import (  # noqa: F401
    ActivationCode,  # noqa: F401
    Attendance,
    Cohort,
    CohortFacilitator,
    Couple,
    Organization,
    Region,
)
from app.curriculum.models import (  # noqa: F401
    Choice,
    ContentVersion,
    IntegrityValue,
    Lesson,
    LessonProgress,
    Module,
    Question,
    QuestionValue,
    Quiz,
)
from app.facilitator.models import Reminder, ReminderText  # noqa: F401
from app.family.models import FamilyReflection, PledgeSignature  # noqa: F401
from app.followup.models import (  # noqa: F401
    ActionPlan,
    CheckinMark,
    Commitment,
    RetentionAttempt,
    RetentionItem,
    SurveyResponse,
    SurveyTaken,
)
from app.privacy.models import ConsentRecord, ErasureRequest, PrivacyNotice  # noqa: F401
from app.quizzes.models import AttemptItem, CheckAnswer, ExtraAttempts, QuizAttempt  # noqa: F401
from app.reports import summary as _summary  # noqa: F401  (its transaction hooks)
from app.reports.models import participant_summary, report_cohort, report_opd  # noqa: F401
