import datetime

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from certification import services
from certification.models import ExamAttempt
from tests.factories.accounts import CaregiverFactory
from tests.factories.certification import correct_answers, exam_with_questions

pytestmark = pytest.mark.django_db


@pytest.fixture
def exam(db):
    return exam_with_questions(questions=4, time_limit_minutes=20, max_attempts=2)


def test_full_marks_pass(caregiver, exam):
    attempt = services.attempt_start(caregiver=caregiver, exam=exam)
    services.attempt_answers_save(attempt=attempt, answers=correct_answers(exam))
    attempt = services.attempt_submit(attempt=attempt)
    assert attempt.score == 100
    assert attempt.passed is True


def test_a_multiple_choice_answer_must_be_complete(caregiver, exam):
    answers = correct_answers(exam)
    multiple = exam.exam_questions.get(question__kind="multiple").question_id
    answers[multiple] = answers[multiple][:1]
    attempt = services.attempt_start(caregiver=caregiver, exam=exam)
    services.attempt_answers_save(attempt=attempt, answers=answers)
    assert services.attempt_submit(attempt=attempt).score == 75


def test_submitting_twice_grades_once(caregiver, exam):
    attempt = services.attempt_start(caregiver=caregiver, exam=exam)
    services.attempt_answers_save(attempt=attempt, answers=correct_answers(exam))
    first = services.attempt_submit(attempt=attempt)
    second = services.attempt_submit(attempt=attempt)
    assert second.submitted_at == first.submitted_at
    assert ExamAttempt.objects.count() == 1


def test_starting_again_resumes_the_open_attempt(caregiver, exam):
    first = services.attempt_start(caregiver=caregiver, exam=exam)
    assert services.attempt_start(caregiver=caregiver, exam=exam).pk == first.pk


def test_answers_after_the_deadline_are_refused(caregiver, exam):
    start = timezone.now()
    attempt = services.attempt_start(caregiver=caregiver, exam=exam, now=start)
    late = start + datetime.timedelta(minutes=21)
    with pytest.raises(ValidationError):
        services.attempt_answers_save(attempt=attempt, answers=correct_answers(exam), now=late)
    assert not attempt.answers.exists()


def test_overdue_attempts_are_closed_by_the_beat_job(caregiver, exam):
    start = timezone.now() - datetime.timedelta(minutes=30)
    attempt = services.attempt_start(caregiver=caregiver, exam=exam, now=start)
    assert services.attempts_close_overdue() == 1
    attempt.refresh_from_db()
    assert attempt.submitted_at is not None and attempt.passed is False


def test_attempts_are_limited(caregiver, exam):
    for _ in range(2):
        services.attempt_submit(attempt=services.attempt_start(caregiver=caregiver, exam=exam))
    with pytest.raises(ValidationError):
        services.attempt_start(caregiver=caregiver, exam=exam)


def test_an_answer_must_belong_to_its_question(caregiver, exam):
    attempt = services.attempt_start(caregiver=caregiver, exam=exam)
    other = exam_with_questions(questions=1)
    with pytest.raises(ValidationError):
        services.attempt_answers_save(attempt=attempt, answers=correct_answers(other))
    question_id, choices = next(iter(correct_answers(exam).items()))
    foreign_choice = next(iter(correct_answers(other).values()))
    with pytest.raises(ValidationError):
        services.attempt_answers_save(attempt=attempt, answers={question_id: foreign_choice})
    assert not attempt.answers.exists()


def test_the_key_never_reaches_the_page_before_grading(client, caregiver, exam):
    client.force_login(caregiver.user)
    response = client.post(f"/exams/{exam.pk}/")
    attempt = ExamAttempt.objects.get()
    assert response["Location"] == f"/exams/attempts/{attempt.pk}/"
    html = client.get(response["Location"]).content.decode()
    assert "correct" not in html
    assert "第 1 题" in html
    # The result page is not reachable while the attempt is open.
    assert client.get(f"/exams/attempts/{attempt.pk}/result/")["Location"] == f"/exams/attempts/{attempt.pk}/"


def test_exam_over_http_save_then_submit(client, caregiver, exam):
    client.force_login(caregiver.user)
    attempt_url = client.post(f"/exams/{exam.pk}/")["Location"]
    form = {f"q{question_id}": choice_ids for question_id, choice_ids in correct_answers(exam).items()}
    client.post(attempt_url, {**form, "save": "1"})
    # A reload shows the saved answers ticked.
    assert client.get(attempt_url).content.decode().count(" checked") == 5
    result = client.post(attempt_url, {**form, "submit": "1"}, follow=True)
    assert result.context["attempt"].score == 100
    assert "correct" in result.content.decode()


def test_someone_elses_attempt_is_not_found(client, caregiver, exam):
    attempt = services.attempt_start(caregiver=caregiver, exam=exam)
    client.force_login(CaregiverFactory().user)
    assert client.get(f"/exams/attempts/{attempt.pk}/").status_code == 404


def test_an_exam_tied_to_a_course_needs_the_course_completed(caregiver):
    from tests.factories.training import course_with_lessons, training_body_with_index

    _, index = training_body_with_index()
    exam = exam_with_questions(course=course_with_lessons(index))
    with pytest.raises(ValidationError):
        services.attempt_start(caregiver=caregiver, exam=exam)
