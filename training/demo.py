"""Demonstration data for training (training bodies, courses and lessons, training settings and batches), modelled on
Jincheng's pilot; every record is marked as demo data and running it again changes nothing. `manage.py seed_demo`
calls each app's part in turn."""

import datetime
from decimal import Decimal

from django.utils import timezone

from accounts import services as account_services
from accounts.models import CaregiverProfile, TrainingBody, User
from content.demo import paragraph
from content.models import HomePage
from training import services as training_services
from training.models import (
    BatchSession,
    CourseIndexPage,
    CoursePage,
    LessonPage,
    TrainingBatch,
    TrainingHoursEntry,
    TrainingSettings,
)


def training_bodies(home: HomePage) -> list[TrainingBody]:
    bodies = []
    for code, name in (
        ("DEMO-T1", "晋城市护理职业培训学校（演示）"),
        ("DEMO-T2", "泽州县康养技能培训中心（演示）"),
    ):
        body = account_services.training_body_create(code=code, name=name)
        index = CourseIndexPage.objects.filter(training_body=body).first()
        if index is None:
            index = home.add_child(
                instance=CourseIndexPage(
                    title=f"{name}课程",
                    slug=code.lower(),
                    training_body=body,
                    intro=f"<p>{name}开设的培训课程。</p>",
                )
            )
        account_services.training_body_grant_subtree(training_body=body, page=index)
        bodies.append(body)
    return bodies


def first_course(body: TrainingBody, clauses, items) -> CoursePage:
    index = body.course_index
    course = CoursePage.objects.child_of(index).filter(slug="basic-care").first()
    if course is not None:
        return course
    course = index.add_child(
        instance=CoursePage(
            title="长护险护理员星级培训：基础照护",
            slug="basic-care",
            summary="依据晋城市长期护理保险护理服务规范，学习生活照料与基础护理的核心操作。",
            objectives="<ul><li>理解长护险护理服务的基本要求</li><li>掌握头面部清洁与协助进食</li>"
            "<li>掌握协助翻身与压疮预防</li></ul>",
            hours=Decimal("4.0"),
        )
    )
    course.service_items.set([items["SC-01"], items["SC-02"], items["BN-01"], items["BN-02"]])
    course.save_revision().publish()
    lessons = [
        (
            "长护险护理服务的基本要求",
            45,
            [
                {"type": "heading", "value": {"text": "以服务对象为中心", "level": "h2"}},
                paragraph(
                    "<p>长期护理保险为失能人员提供基本生活照料和与之密切相关的医疗护理。护理员是服务质量的关键。</p>"
                ),
                {
                    "type": "clause_citation",
                    "value": {"clause": clauses["4"].pk, "comment": "这是全部护理服务的出发点。"},
                },
                {"type": "clause_citation", "value": {"clause": clauses["4.1"].pk, "comment": ""}},
                {
                    "type": "key_points",
                    "value": {"title": "要点", "points": ["尊重人格尊严", "保护个人隐私", "持证上岗"]},
                },
            ],
        ),
        (
            "头面部清洁与协助进食",
            90,
            [
                {"type": "heading", "value": {"text": "头面部清洁", "level": "h2"}},
                {"type": "clause_citation", "value": {"clause": clauses["5.1"].pk, "comment": "水温过高易烫伤。"}},
                {"type": "heading", "value": {"text": "协助进食", "level": "h2"}},
                {
                    "type": "clause_citation",
                    "value": {"clause": clauses["5.2"].pk, "comment": "误吸是最需警惕的风险。"},
                },
                {
                    "type": "key_points",
                    "value": {"title": "要点", "points": ["水温 38℃～40℃", "坐位或半坐卧位进食", "小口慢喂"]},
                },
            ],
        ),
        (
            "协助翻身与压疮预防",
            45,
            [
                {"type": "heading", "value": {"text": "协助翻身", "level": "h2"}},
                {"type": "clause_citation", "value": {"clause": clauses["6.1"].pk, "comment": ""}},
                {"type": "heading", "value": {"text": "压疮预防", "level": "h2"}},
                {"type": "clause_citation", "value": {"clause": clauses["6.2"].pk, "comment": "早发现、早报告。"}},
                {
                    "type": "key_points",
                    "value": {"title": "要点", "points": ["至少每 2 小时翻身", "避免拖拉推", "保持皮肤清洁干燥"]},
                },
            ],
        ),
    ]
    for number, (title, minutes, body_blocks) in enumerate(lessons, start=1):
        lesson = course.add_child(
            instance=LessonPage(title=title, slug=f"lesson-{number}", minutes=minutes, body=body_blocks)
        )
        lesson.save_revision().publish()
    return course


def second_course(body: TrainingBody, clauses, items) -> CoursePage:
    index = body.course_index
    course = CoursePage.objects.child_of(index).filter(slug="turning-and-pressure-care").first()
    if course is not None:
        return course
    course = index.add_child(
        instance=CoursePage(
            title="卧床照护实操：协助翻身与压疮预防",
            slug="turning-and-pressure-care",
            summary="面向二星级及以上护理员的实操课程：按护理服务项目清单的操作步骤练习协助翻身、压疮预防和生命体征测量。",
            objectives="<ul><li>按规范步骤完成协助翻身</li><li>识别压疮高危部位并采取预防措施</li>"
            "<li>正确测量并记录生命体征</li></ul>",
            hours=Decimal("3.0"),
            star_level_min=2,
            star_level_max=4,
        )
    )
    course.service_items.set([items["BN-01"], items["BN-02"], items["MN-01"]])
    course.save_revision().publish()
    lessons = [
        (
            "协助翻身的操作步骤",
            45,
            [
                {"type": "heading", "value": {"text": "为什么要定时翻身", "level": "h2"}},
                paragraph("<p>长期卧床的服务对象局部皮肤持续受压，容易发生压疮。定时翻身是最基本的预防措施。</p>"),
                {
                    "type": "clause_citation",
                    "value": {"clause": clauses["6.1"].pk, "comment": "至少每 2 小时一次。"},
                },
                {"type": "procedure", "value": {"service_item": items["BN-01"].pk, "note": "两人配合，动作轻稳。"}},
                {
                    "type": "self_check",
                    "value": {
                        "question": "协助翻身时，下列做法正确的是：",
                        "options": [
                            {"text": "拖拉服务对象以节省力气", "correct": False},
                            {"text": "两人配合平移后再翻身", "correct": True},
                            {"text": "翻身后不必记录时间", "correct": False},
                        ],
                        "explanation": "规范要求翻身时避免拖、拉、推，并记录翻身时间。",
                    },
                },
            ],
        ),
        (
            "压疮预防与生命体征观察",
            90,
            [
                {"type": "heading", "value": {"text": "压疮预防", "level": "h2"}},
                {"type": "clause_citation", "value": {"clause": clauses["6.2"].pk, "comment": "早发现、早报告。"}},
                {"type": "procedure", "value": {"service_item": items["BN-02"].pk, "note": ""}},
                {"type": "heading", "value": {"text": "生命体征测量", "level": "h2"}},
                {"type": "clause_citation", "value": {"clause": clauses["6"].pk, "comment": ""}},
                {
                    "type": "procedure",
                    "value": {"service_item": items["MN-01"].pk, "note": "测量结果异常时及时报告。"},
                },
                {
                    "type": "key_points",
                    "value": {"title": "要点", "points": ["骨隆突处重点观察", "床单位平整干燥", "异常及时报告"]},
                },
                {
                    "type": "self_check",
                    "value": {
                        "question": "以下哪些属于压疮预防措施？（多选）",
                        "options": [
                            {"text": "定时翻身减压", "correct": True},
                            {"text": "保持皮肤清洁干燥", "correct": True},
                            {"text": "用力按摩发红部位", "correct": False},
                        ],
                        "explanation": "发红部位不宜用力按摩，以免加重损伤。",
                    },
                },
            ],
        ),
    ]
    for number, (title, minutes, body_blocks) in enumerate(lessons, start=1):
        lesson = course.add_child(
            instance=LessonPage(title=title, slug=f"lesson-{number}", minutes=minutes, body=body_blocks)
        )
        lesson.save_revision().publish()
    return course


def training_settings(required_course: CoursePage) -> None:
    settings = TrainingSettings.load()
    if settings.required_courses.exists():
        return
    settings.required_courses.set([required_course])
    # A short minimum so that a walk through the demo takes seconds per lesson, not half its study time.
    settings.lesson_minimum_percent = 2
    settings.save()


def batches(course: CoursePage, second_course: CoursePage) -> None:
    if TrainingBatch.objects.exists():
        return
    now = timezone.localtime()
    today = now.date()

    def at(days: int, hour: int) -> datetime.datetime:
        return (now + datetime.timedelta(days=days)).replace(hour=hour, minute=0, second=0, microsecond=0)

    def caregivers_numbered(numbers) -> list[CaregiverProfile]:
        usernames = [f"caregiver{number:02d}" for number in numbers]
        return list(CaregiverProfile.objects.filter(user__username__in=usernames).select_related("user"))

    # A batch of the required course that has finished: its roster attended, so coverage is not zero.
    trainer1 = User.objects.get(username="trainer1")
    finished = TrainingBatch.objects.create(
        training_body=course.get_parent().specific.training_body,
        course=course,
        name="基础照护 2026 年第 1 期（城区，演示）",
        starts_on=today - datetime.timedelta(days=30),
        ends_on=today - datetime.timedelta(days=29),
        place="晋城市护理职业培训学校 201 教室（演示）",
        capacity=40,
    )
    sessions = [
        BatchSession.objects.create(
            batch=finished, topic="护理服务基本要求与生活照料", starts_at=at(-30, 9), ends_at=at(-30, 12), hours=4
        ),
        BatchSession.objects.create(
            batch=finished, topic="协助翻身与压疮预防", starts_at=at(-29, 9), ends_at=at(-29, 12), hours=4
        ),
    ]
    members = caregivers_numbered(range(5, 17))
    training_services.batch_roster_add(batch=finished, caregivers=members, user=trainer1)
    for position, session in enumerate(sessions):
        # One learner missed the second day and has not completed the course.
        present = [c.pk for c in members if not (position == 1 and c.user.username == "caregiver16")]
        training_services.session_attendance_record(session=session, caregiver_ids=present, user=trainer1)

    # A batch of the second course that starts next week: caregiver02 sees it under "what's next".
    trainer2 = User.objects.get(username="trainer2")
    upcoming = TrainingBatch.objects.create(
        training_body=second_course.get_parent().specific.training_body,
        course=second_course,
        name="卧床照护实操 2026 年第 1 期（泽州县，演示）",
        starts_on=today + datetime.timedelta(days=7),
        ends_on=today + datetime.timedelta(days=8),
        place="泽州县康养技能培训中心实训室（演示）",
        capacity=30,
    )
    BatchSession.objects.create(batch=upcoming, topic="协助翻身实操", starts_at=at(7, 9), ends_at=at(7, 12), hours=4)
    BatchSession.objects.create(
        batch=upcoming, topic="压疮预防与生命体征测量", starts_at=at(8, 9), ends_at=at(8, 12), hours=4
    )
    training_services.batch_roster_add(
        batch=upcoming, caregivers=caregivers_numbered([2, *range(17, 25)]), user=trainer2
    )


def prior_training_hours(caregivers: list[tuple]) -> None:
    """Hours the demo caregivers earned in classes before the platform: (caregiver, hours, earned on)."""
    for caregiver, hours, earned_on in caregivers:
        TrainingHoursEntry.objects.create(
            caregiver=caregiver,
            hours=hours,
            source=TrainingHoursEntry.Source.ADJUSTMENT,
            note="往期线下集中培训学时（演示数据）",
            earned_on=earned_on,
        )
