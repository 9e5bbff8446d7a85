from .certificates.models import (  # noqa: F401
    Certificate,
    CertificateBatch,
    CertificateBatchItem,
    CertificateReminder,
    CertificateTemplate,
    SerialCounter,
    certificate_storage,
)
from .evaluations.models import Appeal, Evaluation, EvaluationRound  # noqa: F401

# Exams, practical assessments, evaluations and service data live in their own modules, importable from here.
from .exams.models import (  # noqa: F401
    AttemptAnswer,
    Choice,
    Difficulty,
    Exam,
    ExamAttempt,
    ExamOverride,
    ExamQuestion,
    ExamSection,
    Question,
)
from .practicals.models import (  # noqa: F401
    PracticalAssessment,
    PracticalStep,
    PracticalStepScore,
    PracticalTemplate,
)
from .rules.models import StarLevelRule, StarRuleSet  # noqa: F401
from .servicedata.models import ServiceDataClient, ServiceDataImport, ServiceIncident, ServiceMonth  # noqa: F401
