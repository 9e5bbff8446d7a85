import datetime

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from certification.exams import services
from certification.exams import services as exam_services
from certification.models import AttemptAnswer, ExamAttempt
from tests.factories.accounts import CaregiverFactory
from tests.factories.certification import correct_answers, exam_with_questions, option_values

pytestmark = pytest.mark.django_db


@pytest.fixture
def exam(db):
    return exam_with_questions(questions=4, time_limit_minutes=20, max_attempts=2)


def answered(attempt) -> int:
    return AttemptAnswer.objects.filter(attempt=attempt, answered_at__isnull=False).count()


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


def test_a_single_choice_question_takes_one_answer(caregiver, exam):
    single = exam.exam_questions.filter(question__kind="single").first().question
    attempt = services.attempt_start(caregiver=caregiver, exam=exam)
    with pytest.raises(ValidationError, match="single answer|一个答案"):
        services.attempt_answer_save(
            attempt=attempt, question_id=single.pk, choice_ids=list(single.choices.values_list("id", flat=True))
        )
    assert answered(attempt) == 0


def test_submitting_twice_grades_once(caregiver, exam):
    attempt = services.attempt_start(caregiver=caregiver, exam=exam)
    services.attempt_answers_save(attempt=attempt, answers=correct_answers(exam))
    first = services.attempt_submit(attempt=attempt)
    # An answer arriving after the first submit is refused and changes nothing.
    question_id = next(iter(correct_answers(exam)))
    with pytest.raises(ValidationError):
        services.attempt_answer_save(attempt=attempt, question_id=question_id, choice_ids=[])
    second = services.attempt_submit(attempt=attempt)
    assert (second.submitted_at, second.score) == (first.submitted_at, first.score) == (first.submitted_at, 100)
    assert ExamAttempt.objects.count() == 1


def test_starting_again_resumes_the_open_attempt_with_the_same_paper(caregiver, exam):
    first = services.attempt_start(caregiver=caregiver, exam=exam)
    paper = list(first.answers.values_list("question_id", "choice_order"))
    again = services.attempt_start(caregiver=caregiver, exam=exam)
    assert again.pk == first.pk
    assert list(again.answers.values_list("question_id", "choice_order")) == paper


def test_answers_after_the_deadline_are_refused(caregiver, exam):
    start = timezone.now()
    attempt = services.attempt_start(caregiver=caregiver, exam=exam, now=start)
    late = start + datetime.timedelta(minutes=20, seconds=11)
    with pytest.raises(ValidationError, match="Time is up|时间已到"):
        services.attempt_answers_save(attempt=attempt, answers=correct_answers(exam), now=late)
    question_id, choices = next(iter(correct_answers(exam).items()))
    with pytest.raises(ValidationError):
        services.attempt_answer_save(attempt=attempt, question_id=question_id, choice_ids=choices, now=late)
    assert answered(attempt) == 0


def test_an_answer_in_flight_at_the_deadline_still_counts(caregiver, exam):
    start = timezone.now()
    attempt = services.attempt_start(caregiver=caregiver, exam=exam, now=start)
    question_id, choices = next(iter(correct_answers(exam).items()))
    services.attempt_answer_save(
        attempt=attempt,
        question_id=question_id,
        choice_ids=choices,
        now=start + datetime.timedelta(minutes=20, seconds=5),
    )
    assert answered(attempt) == 1


def test_overdue_attempts_are_closed_by_the_beat_job(caregiver, exam):
    start = timezone.now() - datetime.timedelta(minutes=30)
    attempt = services.attempt_start(caregiver=caregiver, exam=exam, now=start)
    services.attempt_answers_save(attempt=attempt, answers=correct_answers(exam), now=start)
    assert services.attempts_close_overdue() == 1
    attempt.refresh_from_db()
    assert attempt.submitted_at == attempt.deadline + exam_services.DEADLINE_GRACE
    assert attempt.auto_submitted is True and attempt.score == 100
    # Idempotent: a second run finds nothing to do.
    assert services.attempts_close_overdue() == 0


def test_the_beat_task_closes_overdue_attempts(caregiver, exam):
    from certification.exams.tasks import attempts_close_overdue_task

    services.attempt_start(caregiver=caregiver, exam=exam, now=timezone.now() - datetime.timedelta(hours=1))
    assert attempts_close_overdue_task.delay().get() == 1
    assert not ExamAttempt.objects.filter(submitted_at__isnull=True).exists()


def test_attempts_are_limited(caregiver, exam):
    for _ in range(2):
        services.attempt_submit(attempt=services.attempt_start(caregiver=caregiver, exam=exam))
    with pytest.raises(ValidationError, match="all your attempts|次数"):
        services.attempt_start(caregiver=caregiver, exam=exam)


def test_an_answer_must_belong_to_its_question(caregiver, exam):
    attempt = services.attempt_start(caregiver=caregiver, exam=exam)
    other = exam_with_questions(questions=1)
    with pytest.raises(ValidationError):
        services.attempt_answers_save(attempt=attempt, answers=correct_answers(other))
    question_id, _choices = next(iter(correct_answers(exam).items()))
    foreign_choice = next(iter(correct_answers(other).values()))
    with pytest.raises(ValidationError):
        services.attempt_answers_save(attempt=attempt, answers={question_id: foreign_choice})
    assert answered(attempt) == 0


def test_an_older_revision_never_overwrites_a_newer_answer(caregiver, exam):
    attempt = services.attempt_start(caregiver=caregiver, exam=exam)
    question = exam.exam_questions.first().question
    first, second = question.choices.values_list("id", flat=True)[:2]
    services.attempt_answer_save(attempt=attempt, question_id=question.pk, choice_ids=[second], revision=200)
    # The retry of an earlier answer arrives late: the newer one stays.
    row = services.attempt_answer_save(attempt=attempt, question_id=question.pk, choice_ids=[first], revision=100)
    assert row.choice_ids == [second]
    # The same answer sent twice is harmless.
    services.attempt_answer_save(attempt=attempt, question_id=question.pk, choice_ids=[second], revision=200)
    assert AttemptAnswer.objects.get(attempt=attempt, question=question).choice_ids == [second]


def test_two_devices_starting_at_once_share_one_attempt(caregiver, exam):
    first = services.attempt_start(caregiver=caregiver, exam=exam)
    # The second device's request arrives while the first is open: the constraint admits one open attempt.
    second = services.attempt_start(caregiver=caregiver, exam=exam)
    assert first.pk == second.pk
    assert ExamAttempt.objects.filter(submitted_at__isnull=True).count() == 1


def test_exam_over_http_save_then_submit(client, caregiver, exam):
    client.force_login(caregiver.user)
    attempt_url = client.post(f"/exams/{exam.pk}/")["Location"]
    attempt = ExamAttempt.objects.get(caregiver=caregiver)
    form = {
        f"q{question_id}": option_values(attempt, choice_ids)
        for question_id, choice_ids in correct_answers(exam).items()
    }
    shown = list(correct_answers(exam))
    client.post(attempt_url, {**form, "shown": shown, "save": "1"})
    # A reload shows the saved answers ticked and marked as saved.
    page = client.get(attempt_url).content.decode()
    assert page.count(" checked") == 5
    assert page.count('class="save-state saved"') == 4
    # Clearing a question without JavaScript saves it as unanswered.
    cleared = shown[0]
    client.post(attempt_url, {**{k: v for k, v in form.items() if k != f"q{cleared}"}, "shown": shown, "save": "1"})
    assert AttemptAnswer.objects.get(question_id=cleared).choice_ids == []
    result = client.post(attempt_url, {**form, "shown": shown, "submit": "1"}, follow=True)
    assert result.context["attempt"].score == 100
    assert "correct" in result.content.decode()


def test_someone_elses_attempt_is_not_found(client, caregiver, exam):
    attempt = services.attempt_start(caregiver=caregiver, exam=exam)
    client.force_login(CaregiverFactory().user)
    assert client.get(f"/exams/attempts/{attempt.pk}/").status_code == 404
    assert client.get(f"/exams/attempts/{attempt.pk}/result/").status_code == 404
    assert client.get(f"/exams/attempts/{attempt.pk}/state/").status_code == 404
    assert (
        client.post(f"/exams/attempts/{attempt.pk}/answer/", "{}", content_type="application/json").status_code == 404
    )


def test_an_exam_tied_to_a_course_needs_the_course_completed(caregiver):
    from tests.factories.training import course_with_lessons, training_body_with_index

    _, index = training_body_with_index()
    exam = exam_with_questions(course=course_with_lessons(index))
    with pytest.raises(ValidationError, match="Complete the course|完成"):
        services.attempt_start(caregiver=caregiver, exam=exam)
