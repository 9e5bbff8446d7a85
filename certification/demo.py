"""Demonstration data for certification (the exam, practical checklists, a rule set, service data, evaluations at every
step and the certificate template), modelled on Jincheng's pilot; every record is marked as demo data and running it
again changes nothing. `manage.py seed_demo` calls each app's part in turn."""

import datetime
import random
from decimal import Decimal

from django.utils import timezone

from accounts.models import CaregiverProfile, User
from certification.evaluations import selectors as evaluation_selectors
from certification.evaluations import services as evaluation_services
from certification.exams import services as exam_services
from certification.models import (
    CertificateTemplate,
    Choice,
    Evaluation,
    Exam,
    ExamQuestion,
    PracticalAssessment,
    PracticalStep,
    PracticalTemplate,
    Question,
    ServiceDataImport,
    ServiceIncident,
    ServiceMonth,
    StarLevelRule,
    StarRuleSet,
)
from certification.practicals.services import practical_assign
from training.models import (
    CoursePage,
    Enrollment,
    TrainingHoursEntry,
)

QUESTIONS = [
    ("卧床服务对象至少每几小时翻身一次？", Question.Kind.SINGLE, ["1 小时", "2 小时", "4 小时", "6 小时"], {1}, "6.1"),
    (
        "为服务对象洗脸时，适宜的水温是：",
        Question.Kind.SINGLE,
        ["20℃～25℃", "38℃～40℃", "50℃～55℃", "越热越好"],
        {1},
        "5.1",
    ),
    (
        "协助进食前，服务对象宜取的体位是：",
        Question.Kind.SINGLE,
        ["平卧位", "坐位或半坐卧位", "俯卧位", "侧卧位"],
        {1},
        "5.2",
    ),
    (
        "以下哪些属于压疮预防措施？（多选）",
        Question.Kind.MULTIPLE,
        ["定时翻身减压", "保持皮肤清洁干燥", "用力按摩发红部位", "保持床单平整"],
        {0, 1, 3},
        "6.2",
    ),
    ("翻身时可以拖、拉、推服务对象。", Question.Kind.TRUE_FALSE, ["正确", "错误"], {1}, "6.1"),
    ("护理员应经培训考核合格后上岗。", Question.Kind.TRUE_FALSE, ["正确", "错误"], {0}, "4.1"),
    (
        "发现服务对象皮肤异常时，护理员应：",
        Question.Kind.SINGLE,
        ["自行处理不必报告", "及时报告并记录", "等下次服务再说", "告诉家属即可"],
        {1},
        "6.2",
    ),
    (
        "护理服务应尊重服务对象的哪些方面？（多选）",
        Question.Kind.MULTIPLE,
        ["人格尊严", "生活习惯", "个人隐私", "护理员个人喜好"],
        {0, 1, 2},
        "4",
    ),
]


PRACTICALS = [
    (
        "BN-01",
        "协助翻身实操考核（演示）",
        70,
        [
            ("核对服务对象，解释操作目的，取得配合", 10, False),
            ("评估体位、皮肤及管路情况", 15, False),
            ("两人配合平移，避免拖、拉、推", 25, True),
            ("翻身后垫软枕，保持功能体位", 20, False),
            ("检查受压部位皮肤，整理床单位", 15, False),
            ("记录翻身时间与皮肤情况", 15, False),
        ],
    ),
    (
        "SC-02",
        "协助进食实操考核（演示）",
        70,
        [
            ("协助取坐位或半坐卧位", 20, True),
            ("检查食物温度与性状", 20, False),
            ("小口慢喂，观察吞咽，防止呛咳", 40, True),
            ("进食后清洁口腔并保持体位 30 分钟", 20, False),
        ],
    ),
]


RULES = [
    # level, hours, theory, practical, years, practitioner level, satisfaction %, complaints allowed
    (1, "20", 60, 60, 0, 0, "0", None),
    (2, "40", 70, 70, 1, 0, "80", 2),
    (3, "60", 75, 75, 2, 5, "85", 1),
    (4, "90", 80, 80, 3, 4, "90", 0),
    (5, "120", 90, 90, 5, 3, "95", 0),
]


def exam(course: CoursePage, clauses) -> Exam:
    exam = Exam.objects.filter(course=course).first()
    if exam is not None:
        return exam
    exam = Exam.objects.create(
        title="基础照护理论考试", course=course, time_limit_minutes=20, pass_mark=60, max_attempts=3
    )
    for order, (text, kind, options, correct, clause_number) in enumerate(QUESTIONS):
        question = Question.objects.create(text=text, kind=kind, clause=clauses[clause_number])
        for position, option in enumerate(options):
            Choice.objects.create(question=question, text=option, is_correct=position in correct, sort_order=position)
        ExamQuestion.objects.create(exam=exam, question=question, sort_order=order)
    return exam


def rule_set(required_course: CoursePage) -> StarRuleSet:
    rule_set, created = StarRuleSet.objects.get_or_create(
        name="晋城市护理员星级评定规则（示例）",
        version="2022.1",
        defaults={
            "effective_from": datetime.date(2022, 7, 1),
            "is_illustrative": True,
            "notes": "示例数值，仅用于演示，并非地方标准的正式条件。",
        },
    )
    if created:
        for level, hours, theory, practical, years, practitioner, satisfaction, complaints in RULES:
            rule = StarLevelRule.objects.create(
                rule_set=rule_set,
                level=level,
                min_training_hours=Decimal(hours),
                min_theory_score=theory,
                min_practical_score=practical,
                min_years_of_service=years,
                min_practitioner_level=practitioner,
                min_satisfaction_rate=Decimal(satisfaction),
                max_substantiated_complaints=complaints,
            )
            if level >= 3:
                rule.required_courses.add(required_course)
                rule.save()
    return rule_set


def service_data(rng: random.Random) -> None:
    """Six months of service figures per caregiver, and a few complaints, as the LTCI system would send."""
    if ServiceDataImport.objects.filter(batch_key="demo-service-data").exists():
        return
    batch = ServiceDataImport.objects.create(
        source=ServiceDataImport.Source.SPREADSHEET, batch_key="demo-service-data", payload_sha256="0" * 64
    )
    this_month = timezone.localdate().replace(day=1)
    months = []
    for caregiver in CaregiverProfile.objects.filter(user__username__startswith="caregiver"):
        for back in range(1, 7):
            month = (this_month - datetime.timedelta(days=28 * back)).replace(day=1)
            surveys = rng.randrange(4, 12)
            months.append(
                ServiceMonth(
                    caregiver=caregiver,
                    month=month,
                    service_hours=Decimal(rng.randrange(60, 160)),
                    surveys=surveys,
                    satisfied=surveys - rng.choice([0, 0, 0, 1]),
                    imported_in=batch,
                )
            )
    ServiceMonth.objects.bulk_create(months, ignore_conflicts=True)
    for number, (username, substantiated) in enumerate((("caregiver07", True), ("caregiver11", False)), start=1):
        caregiver = CaregiverProfile.objects.filter(user__username=username).first()
        if caregiver:
            ServiceIncident.objects.create(
                caregiver=caregiver,
                reference=f"DEMO-TS-{number:04d}",
                kind=ServiceIncident.Kind.COMPLAINT,
                occurred_on=this_month - datetime.timedelta(days=40),
                substantiated=substantiated,
                summary="服务对象家属反映上门时间不准时（演示数据）",
                imported_in=batch,
            )


def evaluations(exam: Exam) -> None:
    """Star evaluations at every step, for the walk-through: applied, with assessor1, waiting for
    assessor2's review, and decided (its certificate is issued by the worker)."""
    if Evaluation.objects.exists():
        return
    admin = User.objects.get(username="admin")
    assessor1 = User.objects.get(username="assessor1")
    assessor2 = User.objects.get(username="assessor2")
    candidates = {
        username: CaregiverProfile.objects.filter(user__username=username).first()
        for username in ("caregiver02", "caregiver03", "caregiver05", "caregiver06")
    }
    if not all(candidates.values()):
        return
    for caregiver in candidates.values():
        # A record that supports two stars: enough hours and a passed theory exam.
        TrainingHoursEntry.objects.create(
            caregiver=caregiver,
            hours=Decimal("45"),
            source=TrainingHoursEntry.Source.ADJUSTMENT,
            note="往期线下集中培训学时（演示数据）",
            earned_on=timezone.localdate() - datetime.timedelta(days=200),
        )
        Enrollment.objects.update_or_create(
            caregiver=caregiver, course=exam.course, defaults={"completed_at": timezone.now()}
        )
        attempt = exam_services.attempt_start(caregiver=caregiver, exam=exam)
        exam_services.attempt_answers_save(
            attempt=attempt,
            answers={
                link.question_id: [choice.pk for choice in link.question.choices.all() if choice.is_correct]
                for link in exam.exam_questions.select_related("question").prefetch_related("question__choices")
            },
        )
        exam_services.attempt_submit(attempt=attempt)
    evaluation_services.evaluation_apply(caregiver=candidates["caregiver02"], note="申请参加本年度星级评定")
    assigned = evaluation_services.evaluation_apply(caregiver=candidates["caregiver03"])
    evaluation_services.evaluation_assign(evaluation=assigned, assessor=assessor1, actor=admin)
    for username in ("caregiver05", "caregiver06"):
        evaluation = evaluation_services.evaluation_apply(caregiver=candidates[username])
        evaluation_services.evaluation_assign(evaluation=evaluation, assessor=assessor1, actor=admin)
        eligibility = evaluation_selectors.evaluation_eligibility(evaluation=evaluation, practical_score=86)
        evaluation_services.evaluation_propose(
            evaluation=evaluation,
            assessor=assessor1,
            practical_score=86,
            level=eligibility.computed_level,
            observations="协助翻身、压疮预防操作规范（演示数据）",
        )
        if username == "caregiver06":
            evaluation_services.evaluation_confirm(evaluation=evaluation, reviewer=assessor2, note="同意")


def certificate_template() -> CertificateTemplate:
    template, _created = CertificateTemplate.objects.get_or_create(
        name="晋城市护理员星级证书（演示模板）",
        defaults={"is_active": not CertificateTemplate.objects.filter(is_active=True).exists()},
    )
    return template


def practicals(items) -> None:
    for code, title, pass_mark, steps in PRACTICALS:
        if PracticalTemplate.objects.filter(title=title).exists():
            continue
        template = PracticalTemplate.objects.create(service_item=items[code], title=title, pass_mark=pass_mark)
        for order, (text, points, critical) in enumerate(steps):
            PracticalStep.objects.create(
                template=template, text=text, points=points, is_critical=critical, sort_order=order
            )
    # One candidate waiting for assessor1 (who works at another institution), for the walk-through.
    candidate = CaregiverProfile.objects.filter(user__username="caregiver01").first()
    assessor = User.objects.filter(username="assessor1").first()
    if candidate and assessor and not PracticalAssessment.objects.filter(caregiver=candidate).exists():
        practical_assign(
            template=PracticalTemplate.objects.get(title=PRACTICALS[0][1]),
            caregiver=candidate,
            assessor=assessor,
            assigned_by=User.objects.get(username="admin"),
        )
