import datetime
from decimal import Decimal

from certification.models import (
    Choice,
    Exam,
    ExamQuestion,
    ExamSection,
    PracticalStep,
    PracticalTemplate,
    Question,
    StarLevelRule,
    StarRuleSet,
)

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


def decided_evaluation_for(*, caregiver, assessor, rule_set, level: int = 2, decided_at=None, **fields):
    """A decided evaluation written directly, without queueing its certificate (tests issue it themselves).

    `decided_at` (default now) dates the decision; its appeal window runs the rule set's days from then.
    `fields` set what a decided row can no longer change afterwards (the database freezes it), such as
    `re_evaluation_due_on` or `round`.
    """
    from django.utils import timezone

    from certification.models import Evaluation

    decided_at = decided_at or timezone.now()
    values = {
        "practical_score": 85,
        "computed_level": level,
        "appeal_until": timezone.localdate(decided_at) + datetime.timedelta(days=rule_set.appeal_window_days),
        **fields,
    }
    return Evaluation.objects.create(
        caregiver=caregiver,
        assessor=assessor,
        rule_set=rule_set,
        level=level,
        status=Evaluation.Status.DECIDED,
        decided_at=decided_at,
        **values,
    )


def evaluation_through_workflow(
    *, caregiver, assessor, reviewer, administrator, level: int, practical_score: int = 85, reason: str = ""
):
    """Apply, assign, propose and confirm: a decision made the way the product makes it."""
    from certification.evaluations import services

    evaluation = services.evaluation_apply(caregiver=caregiver)
    services.evaluation_assign(evaluation=evaluation, assessor=assessor, actor=administrator)
    services.evaluation_propose(
        evaluation=evaluation, assessor=assessor, practical_score=practical_score, level=level, reason=reason
    )
    return services.evaluation_confirm(evaluation=evaluation, reviewer=reviewer)


def stored_pdfs() -> set[str]:
    from pathlib import Path

    from certification.models import certificate_storage

    return {str(path) for path in Path(certificate_storage().location).rglob("*.pdf")}


def bank_question(
    *, text: str, kind: str = Question.Kind.SINGLE, options: int = 4, status: str = Question.Status.ACTIVE, **tags
) -> Question:
    """A bank question whose first option is right (the first two for multiple choice)."""
    question = Question.objects.create(text=text, kind=kind, status=status, **tags)
    count = 2 if kind == Question.Kind.TRUE_FALSE else options
    for position in range(count):
        correct = position == 0 or (kind == Question.Kind.MULTIPLE and position == 1)
        Choice.objects.create(question=question, text=f"{text}·选项{position}", is_correct=correct, sort_order=position)
    return question


def exam_with_sections(*, sections: list[tuple[int, dict]], bank: int = 0, **kwargs) -> Exam:
    """An exam with one random section per (count, tags) entry; `bank` extra untagged questions fill the pool."""
    exam = Exam.objects.create(title=kwargs.pop("title", "抽题考试"), **kwargs)
    for number in range(bank):
        bank_question(text=f"题库题 {number + 1}")
    for order, (count, tags) in enumerate(sections):
        ExamSection.objects.create(
            exam=exam, title=f"第{order + 1}部分", question_count=count, sort_order=order, **tags
        )
    return exam


def attempt_correct_answers(attempt) -> dict[int, list[int]]:
    """The right answers to the questions of one attempt's paper (for tests only: the key never leaves the server)."""
    question_ids = list(attempt.answers.values_list("question_id", flat=True))
    answers: dict[int, list[int]] = {question_id: [] for question_id in question_ids}
    for question_id, choice_id in Choice.objects.filter(question_id__in=question_ids, is_correct=True).values_list(
        "question_id", "id"
    ):
        answers[question_id].append(choice_id)
    return answers


def practical_template(*, service_item=None, steps=((20, False), (30, True), (50, False)), pass_mark: int = 60):
    from tests.factories.content import ServiceItemFactory

    template = PracticalTemplate.objects.create(
        service_item=service_item or ServiceItemFactory(), title="协助翻身实操", pass_mark=pass_mark
    )
    for order, (points, critical) in enumerate(steps):
        PracticalStep.objects.create(
            template=template, text=f"步骤{order + 1}", points=points, is_critical=critical, sort_order=order
        )
    return template


def option_values(attempt, choice_ids) -> list[str]:
    """What the candidate's page sends for these options of this attempt."""
    from certification.exams.options import option_values as values

    return values(attempt_id=attempt.pk, choice_ids=choice_ids)


def attempt_correct_options(attempt) -> dict[int, list[str]]:
    """attempt_correct_answers, as the page's option values."""
    return {
        question_id: option_values(attempt, choice_ids)
        for question_id, choice_ids in attempt_correct_answers(attempt).items()
    }
