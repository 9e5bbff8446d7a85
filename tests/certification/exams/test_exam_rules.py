"""Exam definitions: random sections, overrides, the waiting period, the window and when results are shown."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from certification.exams import selectors, services
from certification.models import Exam, ExamAttempt, ExamOverride, ExamSection, Question
from tests.factories.certification import (
    attempt_correct_answers,
    bank_question,
    exam_with_questions,
    exam_with_sections,
)
from tests.factories.content import ClauseFactory, ServiceItemFactory

pytestmark = pytest.mark.django_db


def test_sections_draw_the_tagged_questions_without_repeats(caregiver):
    turning = ServiceItemFactory(name="协助翻身")
    for number in range(6):
        bank_question(text=f"翻身题{number}", service_item=turning, difficulty=3)
    for number in range(3):
        bank_question(text=f"翻身易题{number}", service_item=turning, difficulty=1)
    bank_question(text="待审题", service_item=turning, difficulty=3, status=Question.Status.PROPOSED)
    exam = exam_with_sections(sections=[(4, {"service_item": turning, "difficulty": 3}), (2, {})], bank=5)
    attempt = services.attempt_start(caregiver=caregiver, exam=exam)
    drawn = list(attempt.answers.order_by("position").select_related("question"))
    assert len(drawn) == 6 and len({row.question_id for row in drawn}) == 6
    assert all(row.question.text.startswith("翻身题") for row in drawn[:4])
    assert all(row.question.status == Question.Status.ACTIVE for row in drawn)


def test_a_clause_section_includes_its_sub_clauses(caregiver):
    parent = ClauseFactory(number="6")
    child = ClauseFactory(number="6.1", standard=parent.standard)
    other = ClauseFactory(number="7", standard=parent.standard)
    bank_question(text="父条款题", clause=parent)
    bank_question(text="子条款题", clause=child)
    bank_question(text="其他条款题", clause=other)
    exam = exam_with_sections(sections=[(2, {"clause": parent})])
    attempt = services.attempt_start(caregiver=caregiver, exam=exam)
    assert set(attempt.answers.values_list("question__text", flat=True)) == {"父条款题", "子条款题"}


def test_options_are_shuffled_per_attempt_and_kept(caregiver):
    exam = exam_with_sections(sections=[(10, {})], bank=10)
    attempt = services.attempt_start(caregiver=caregiver, exam=exam)
    orders = dict(attempt.answers.values_list("question_id", "choice_order"))
    natural = {q: sorted(ids) for q, ids in orders.items()}
    # Ten questions of four options all in their natural order would be a 1 in 24^10 chance.
    assert orders != natural
    assert all(sorted(order) == natural[q] for q, order in orders.items())
    services.attempt_submit(attempt=attempt)
    again = exam_with_sections(sections=[(10, {})], bank=0, shuffle_options=False)
    unshuffled = services.attempt_start(caregiver=caregiver, exam=again)
    assert all(order == sorted(order) for order in unshuffled.answers.values_list("choice_order", flat=True))


def test_grading_a_random_paper(caregiver):
    exam = exam_with_sections(sections=[(3, {})], bank=6)
    attempt = services.attempt_start(caregiver=caregiver, exam=exam)
    answers = attempt_correct_answers(attempt)
    first = next(iter(answers))
    answers[first] = []
    services.attempt_answers_save(attempt=attempt, answers=answers)
    assert services.attempt_submit(attempt=attempt).score == Decimal("66.7")


def test_a_section_the_bank_cannot_fill_is_refused(caregiver):
    exam = exam_with_sections(sections=[(5, {"difficulty": 3})], bank=0)
    bank_question(text="难题", difficulty=3)
    with pytest.raises(ValidationError, match="needs 5|需要 5"):
        services.attempt_start(caregiver=caregiver, exam=exam)
    assert not ExamAttempt.objects.exists()
    section = ExamSection(exam=exam, title="难题部分", question_count=5, difficulty=3)
    with pytest.raises(ValidationError):
        section.clean()


def test_an_override_gives_extra_time_and_an_extra_attempt(caregiver):
    exam = exam_with_questions(time_limit_minutes=20, max_attempts=1)
    ExamOverride.objects.create(exam=exam, caregiver=caregiver, extra_minutes=10, extra_attempts=1, reason="视力障碍")
    now = timezone.now()
    attempt = services.attempt_start(caregiver=caregiver, exam=exam, now=now)
    assert attempt.deadline == now + datetime.timedelta(minutes=30)
    services.attempt_submit(attempt=attempt, now=now)
    services.attempt_submit(attempt=services.attempt_start(caregiver=caregiver, exam=exam, now=now))
    with pytest.raises(ValidationError):
        services.attempt_start(caregiver=caregiver, exam=exam, now=now)


def test_overrides_are_per_caregiver(caregiver):
    from tests.factories.accounts import CaregiverFactory

    exam = exam_with_questions(time_limit_minutes=20, max_attempts=1)
    ExamOverride.objects.create(exam=exam, caregiver=CaregiverFactory(), extra_minutes=30, reason="他人")
    now = timezone.now()
    assert services.attempt_start(caregiver=caregiver, exam=exam, now=now).deadline == now + datetime.timedelta(
        minutes=20
    )


def test_the_waiting_period_between_attempts(caregiver):
    exam = exam_with_questions(max_attempts=3, retake_wait_hours=24)
    now = timezone.now()
    services.attempt_submit(attempt=services.attempt_start(caregiver=caregiver, exam=exam, now=now), now=now)
    with pytest.raises(ValidationError, match="try again|再次"):
        services.attempt_start(caregiver=caregiver, exam=exam, now=now + datetime.timedelta(hours=23))
    standing = selectors.exam_standing(caregiver=caregiver, exam=exam, now=now + datetime.timedelta(hours=23))
    assert standing.next_start_at == now + datetime.timedelta(hours=24)
    assert services.attempt_start(caregiver=caregiver, exam=exam, now=now + datetime.timedelta(hours=24, seconds=1))


def test_the_exam_window(caregiver):
    now = timezone.now()
    exam = exam_with_questions(
        time_limit_minutes=60, opens_at=now + datetime.timedelta(hours=1), closes_at=now + datetime.timedelta(hours=2)
    )
    with pytest.raises(ValidationError, match="opens at|开放"):
        services.attempt_start(caregiver=caregiver, exam=exam, now=now)
    with pytest.raises(ValidationError, match="closed at|结束"):
        services.attempt_start(caregiver=caregiver, exam=exam, now=now + datetime.timedelta(hours=2))
    # Started 30 minutes before the close, a 60-minute attempt ends when the exam closes.
    attempt = services.attempt_start(caregiver=caregiver, exam=exam, now=now + datetime.timedelta(minutes=90))
    assert attempt.deadline == exam.closes_at
    exam.is_open = False
    exam.save()
    services.attempt_submit(attempt=attempt, now=now + datetime.timedelta(minutes=95))
    with pytest.raises(ValidationError, match="closed|已关闭"):
        services.attempt_start(caregiver=caregiver, exam=exam, now=now + datetime.timedelta(minutes=96))


def test_an_exam_must_close_after_it_opens():
    now = timezone.now()
    with pytest.raises(ValidationError):
        Exam(title="x", opens_at=now, closes_at=now).clean()


@pytest.mark.parametrize(
    ("review", "before_close", "after_close"),
    [
        (Exam.Review.AFTER_SUBMIT, (True, True), (True, True)),
        (Exam.Review.KEY_AFTER_CLOSE, (True, False), (True, True)),
        (Exam.Review.AFTER_CLOSE, (False, False), (True, True)),
    ],
)
def test_results_are_shown_as_configured(client, caregiver, review, before_close, after_close):
    now = timezone.now()
    exam = exam_with_questions(questions=2, review=review, closes_at=now + datetime.timedelta(hours=1))
    exam.exam_questions.first().question.__class__.objects.update(explanation="本题解析")
    attempt = services.attempt_submit(attempt=services.attempt_start(caregiver=caregiver, exam=exam))
    client.force_login(caregiver.user)
    for moment, (show_score, show_key) in ((now, before_close), (exam.closes_at, after_close)):
        review_now = selectors.attempt_review(attempt=attempt, now=moment)
        assert (review_now.show_score, review_now.show_key) == (show_score, show_key)
    page = client.get(f"/exams/attempts/{attempt.pk}/result/").content.decode()
    assert ("本题解析" in page) is before_close[1]
    assert ("未通过" in page) is before_close[0]


def test_the_start_page_explains_why_an_exam_cannot_be_started(client, caregiver):
    exam = exam_with_questions(max_attempts=1)
    services.attempt_submit(attempt=services.attempt_start(caregiver=caregiver, exam=exam))
    client.force_login(caregiver.user)
    page = client.get(f"/exams/{exam.pk}/").content.decode()
    assert "1 / 1" in page or "1 次，共 1 次" in page or "Attempts used: 1 of 1" in page
    assert "<button>" not in page.split("</header>")[1].split("<footer")[0]


def test_the_start_page_costs_a_fixed_number_of_queries(client, caregiver):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    exam = exam_with_questions(max_attempts=10)
    client.force_login(caregiver.user)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(f"/exams/{exam.pk}/").status_code == 200
        return len(captured)

    services.attempt_submit(attempt=services.attempt_start(caregiver=caregiver, exam=exam))
    before = queries()
    for _ in range(4):
        services.attempt_submit(attempt=services.attempt_start(caregiver=caregiver, exam=exam))
    assert queries() == before


def test_administrators_define_exams_and_overrides_in_the_admin(client, caregiver):
    from wagtail.test.utils.form_data import inline_formset, nested_form_data

    from accounts import services as account_services
    from accounts.models import Role

    administrator = account_services.user_create(
        username="bureau", password="pw", name="医保局", role=Role.ADMINISTRATOR
    )
    for number in range(3):
        bank_question(text=f"题 {number}", difficulty=1)
    client.force_login(administrator)
    assert client.get("/admin/exams/new/").status_code == 200
    form = {
        "title": "后台设置的考试",
        "time_limit_minutes": "30",
        "pass_mark": "60",
        "max_attempts": "2",
        "retake_wait_hours": "0",
        "is_open": "on",
        "shuffle_options": "on",
        "review": Exam.Review.AFTER_SUBMIT,
        "exam_questions": inline_formset([]),
    }
    too_many = nested_form_data(
        form
        | {
            "sections": inline_formset(
                [{"title": "易题", "question_count": "5", "points_per_question": "1", "difficulty": "1"}]
            )
        }
    )
    assert client.post("/admin/exams/new/", too_many).status_code == 200
    assert not Exam.objects.filter(title="后台设置的考试").exists()
    enough = nested_form_data(
        form
        | {
            "sections": inline_formset(
                [{"title": "易题", "question_count": "3", "points_per_question": "2", "difficulty": "1"}]
            )
        }
    )
    assert client.post("/admin/exams/new/", enough).status_code == 302
    exam = Exam.objects.get(title="后台设置的考试")
    response = client.post(
        "/admin/exam_overrides/new/",
        {
            "exam": exam.pk,
            "caregiver": caregiver.pk,
            "extra_minutes": "15",
            "extra_attempts": "1",
            "reason": "视力障碍",
        },
    )
    assert response.status_code == 302
    attempt = services.attempt_start(caregiver=caregiver, exam=exam)
    assert attempt.answers.count() == 3 and set(attempt.answers.values_list("points", flat=True)) == {2}
    assert attempt.deadline - attempt.started_at == datetime.timedelta(minutes=45)
