import datetime
from decimal import Decimal

from certification.models import Choice, Exam, ExamQuestion, Question, StarLevelRule, StarRuleSet

RULES = [(1, "10", 60, 60, 0, 0), (2, "30", 70, 70, 1, 0), (3, "60", 80, 80, 3, 5)]


def rule_set(*, name: str = "测试规则", version: str = "1", rules=RULES, effective_from=None) -> StarRuleSet:
    rules_set = StarRuleSet.objects.create(
        name=name, version=version, effective_from=effective_from or datetime.date(2020, 1, 1)
    )
    for level, hours, theory, practical, years, practitioner in rules:
        StarLevelRule.objects.create(
            rule_set=rules_set,
            level=level,
            min_training_hours=Decimal(hours),
            min_theory_score=theory,
            min_practical_score=practical,
            min_years_of_service=years,
            min_practitioner_level=practitioner,
        )
    return rules_set


def exam_with_questions(*, course=None, questions: int = 4, pass_mark: int = 60, **kwargs) -> Exam:
    """Each question's first option is the right one, except multiple-choice ones (first two)."""
    exam = Exam.objects.create(title="理论考试", course=course, pass_mark=pass_mark, **kwargs)
    for number in range(questions):
        kind = Question.Kind.MULTIPLE if number % 4 == 3 else Question.Kind.SINGLE
        question = Question.objects.create(text=f"第 {number + 1} 题", kind=kind)
        for position in range(4):
            correct = position == 0 or (kind == Question.Kind.MULTIPLE and position == 1)
            Choice.objects.create(question=question, text=f"选项 {position}", is_correct=correct, sort_order=position)
        ExamQuestion.objects.create(exam=exam, question=question, sort_order=number)
    return exam


def correct_answers(exam: Exam) -> dict[int, list[int]]:
    return {
        exam_question.question_id: [c.id for c in exam_question.question.choices.all() if c.is_correct]
        for exam_question in exam.exam_questions.all()
    }


def decided_evaluation_for(*, caregiver, assessor, rule_set, level: int = 2):
    """A decided evaluation written directly, without queueing its certificate (tests issue it themselves)."""
    from django.utils import timezone

    from certification.models import Evaluation

    return Evaluation.objects.create(
        caregiver=caregiver,
        assessor=assessor,
        rule_set=rule_set,
        practical_score=85,
        computed_level=level,
        level=level,
        status=Evaluation.Status.DECIDED,
        decided_at=timezone.now(),
    )


def stored_pdfs() -> set[str]:
    from pathlib import Path

    from certification.models import certificate_storage

    return {str(path) for path in Path(certificate_storage().location).rglob("*.pdf")}
