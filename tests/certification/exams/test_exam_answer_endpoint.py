"""The per-answer JSON endpoint the exam page calls, and what the browser may see while an attempt is open."""

import datetime
import json
import re

import pytest
from django.test import Client
from django.utils import timezone

from certification.exams import services
from certification.models import AttemptAnswer, Choice, ExamAttempt
from tests.factories.certification import (
    attempt_correct_answers,
    attempt_correct_options,
    exam_with_questions,
    exam_with_sections,
    option_values,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def exam(db):
    return exam_with_questions(questions=4, time_limit_minutes=20)


@pytest.fixture
def started(client, caregiver, exam):
    client.force_login(caregiver.user)
    client.post(f"/exams/{exam.pk}/")
    return ExamAttempt.objects.get(caregiver=caregiver)


def post_answer(client, attempt, question_id, choices, revision=None):
    payload = {"question": question_id, "choices": choices}
    if revision is not None:
        payload["revision"] = revision
    return client.post(f"/exams/attempts/{attempt.pk}/answer/", json.dumps(payload), content_type="application/json")


def test_each_answer_is_saved_as_it_is_given(client, started):
    question_id, choices = next(iter(attempt_correct_answers(started).items()))
    values = option_values(started, choices)
    response = post_answer(client, started, question_id, values, revision=1)
    assert response.status_code == 200
    body = response.json()
    assert body["ok"] is True and body["choices"] == option_values(started, sorted(choices))
    assert 0 < body["remaining_seconds"] <= 20 * 60
    # Sent again (a retry after a lost reply): same state, same answer.
    assert post_answer(client, started, question_id, values, revision=1).json()["choices"] == body["choices"]
    assert AttemptAnswer.objects.get(attempt=started, question_id=question_id).choice_ids == sorted(choices)


def test_option_values_say_nothing_of_the_options_ids_and_differ_per_attempt(client, caregiver, started):
    row = started.answers.first()
    values = option_values(started, row.choice_order)
    assert all(str(choice_id) not in values for choice_id in row.choice_order)
    assert len(set(values)) == len(values)
    page = client.get(f"/exams/attempts/{started.pk}/").content.decode()
    shown = re.findall(rf'name="q{row.question_id}" value="([^"]+)"', page)
    assert shown == values
    # Another attempt at the same options gets other values.
    from certification.exams.options import option_value

    assert option_value(attempt_id=started.pk + 1, choice_id=row.choice_order[0]) != values[0]


def test_the_endpoint_is_csrf_protected(caregiver, started):
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(caregiver.user)
    question_id, choices = next(iter(attempt_correct_options(started).items()))
    response = post_answer(strict, started, question_id, choices)
    assert response.status_code == 403
    assert not AttemptAnswer.objects.filter(attempt=started, answered_at__isnull=False).exists()
    # With the token the page carries, the same request goes through.
    page = strict.get(f"/exams/attempts/{started.pk}/").content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    response = strict.post(
        f"/exams/attempts/{started.pk}/answer/",
        json.dumps({"question": question_id, "choices": choices}),
        content_type="application/json",
        headers={"X-CSRFToken": token},
    )
    assert response.status_code == 200


def test_bad_input_gets_a_clear_error_in_chinese(client, started):
    response = client.post(f"/exams/attempts/{started.pk}/answer/", "not json", content_type="application/json")
    assert response.status_code == 400 and "重新加载" in response.json()["error"]
    foreign = Choice.objects.exclude(question__attempt_answers__attempt=started).first()
    question_id = started.answers.first().question_id
    # An option of another question, by its id or by the value it would have here: neither is an option here.
    for value in (str(foreign.pk if foreign else 999999), *option_values(started, [foreign.pk] if foreign else [])):
        response = post_answer(client, started, question_id, [value])
        assert response.status_code == 400 and "重新加载" in response.json()["error"]
    assert post_answer(client, started, question_id, [7]).status_code == 400  # not even text


def test_after_the_deadline_the_endpoint_refuses_and_the_attempt_is_submitted(client, started):
    question_id, choices = next(iter(attempt_correct_answers(started).items()))
    post_answer(client, started, question_id, option_values(started, choices))
    ExamAttempt.objects.filter(pk=started.pk).update(
        started_at=timezone.now() - datetime.timedelta(minutes=30),
        deadline=timezone.now() - datetime.timedelta(minutes=10),
    )
    response = post_answer(client, started, question_id, [])
    assert response.status_code == 409
    assert response.json()["redirect"] == f"/exams/attempts/{started.pk}/result/"
    started.refresh_from_db()
    # The next request submitted it, with the answer saved before the deadline.
    assert started.submitted_at is not None and started.auto_submitted is True
    assert AttemptAnswer.objects.get(attempt=started, question_id=question_id).choice_ids == sorted(choices)


def test_the_next_page_request_submits_an_overdue_attempt(client, started):
    ExamAttempt.objects.filter(pk=started.pk).update(deadline=timezone.now() - datetime.timedelta(minutes=1))
    response = client.get(f"/exams/attempts/{started.pk}/", follow=True)
    assert response.redirect_chain[-1][0] == f"/exams/attempts/{started.pk}/result/"
    assert "时间已到" in response.content.decode()
    assert ExamAttempt.objects.get(pk=started.pk).auto_submitted is True


def test_a_second_device_sees_the_saved_answers(client, caregiver, started):
    question_id, choices = next(iter(attempt_correct_options(started).items()))
    post_answer(client, started, question_id, choices)
    phone = Client()
    phone.force_login(caregiver.user)
    state = phone.get(f"/exams/attempts/{started.pk}/state/").json()
    assert sorted(state["answers"][str(question_id)]) == sorted(choices)
    page = phone.get(f"/exams/attempts/{started.pk}/").content.decode()
    assert all(f'value="{choice}" checked' in page for choice in choices)


def _without_csrf(html: str) -> str:
    return re.sub(r'value="[A-Za-z0-9]{64}"', 'value=""', html)


def test_the_answer_key_never_reaches_the_browser_before_grading(client, started):
    """Scan every page and JSON reply of an open attempt; then swap the key and check that nothing changes."""
    question_id, choices = next(iter(attempt_correct_options(started).items()))
    save = post_answer(client, started, question_id, choices, revision=5).content.decode()
    html = client.get(f"/exams/attempts/{started.pk}/").content.decode()
    state = client.get(f"/exams/attempts/{started.pk}/state/").content.decode()
    result = client.get(f"/exams/attempts/{started.pk}/result/")
    assert result.status_code == 302 and result["Location"] == f"/exams/attempts/{started.pk}/"
    for text in (html, state, save):
        assert "correct" not in text.lower()
        assert "is_correct" not in text
    # Explanations are part of the key.
    assert "Shown with the result" not in html
    # Make every wrong option right and every right one wrong: an honest page cannot tell the difference.
    question_ids = list(started.answers.values_list("question_id", flat=True))
    for choice in Choice.objects.filter(question_id__in=question_ids):
        Choice.objects.filter(pk=choice.pk).update(is_correct=not choice.is_correct)
    assert _without_csrf(client.get(f"/exams/attempts/{started.pk}/").content.decode()) == _without_csrf(html)
    assert client.get(f"/exams/attempts/{started.pk}/state/").content.decode() == state
    assert (
        post_answer(client, started, question_id, choices, revision=5)
        .content.decode()
        .replace('"remaining_seconds": ', "")[:40]
        == save.replace('"remaining_seconds": ', "")[:40]
    )


def test_explanations_and_key_appear_only_after_submission(client, caregiver):
    exam = exam_with_questions(questions=2)
    exam.exam_questions.first().question.__class__.objects.update(explanation="解析：见条款 6.1")
    client.force_login(caregiver.user)
    attempt_url = client.post(f"/exams/{exam.pk}/")["Location"]
    assert "解析：见条款" not in client.get(attempt_url).content.decode()
    client.post(attempt_url, {"submit": "1"})
    assert "解析：见条款" in client.get(attempt_url + "result/").content.decode()


def test_a_random_paper_shows_options_in_the_stored_order(client, caregiver):
    exam = exam_with_sections(sections=[(5, {})], bank=8)
    client.force_login(caregiver.user)
    attempt_url = client.post(f"/exams/{exam.pk}/")["Location"]
    attempt = ExamAttempt.objects.get(caregiver=caregiver)
    html = client.get(attempt_url).content.decode()
    for row in attempt.answers.all():
        shown = re.findall(rf'name="q{row.question_id}" value="([^"]+)"', html)
        assert shown == option_values(attempt, row.choice_order)
    # A reload shows the same paper.
    assert _without_csrf(client.get(attempt_url).content.decode()) == _without_csrf(html)
    services.attempt_submit(attempt=attempt)


def test_an_absurd_revision_is_refused(client, started):
    question_id, choices = next(iter(attempt_correct_options(started).items()))
    for revision in (-1, 2**63):
        assert post_answer(client, started, question_id, choices, revision=revision).status_code == 400
    assert not AttemptAnswer.objects.filter(attempt=started, answered_at__isnull=False).exists()


def test_the_start_page_closes_an_overdue_attempt_instead_of_offering_to_resume_it(client, started):
    ExamAttempt.objects.filter(pk=started.pk).update(deadline=timezone.now() - datetime.timedelta(minutes=5))
    page = client.get(f"/exams/{started.exam_id}/").content.decode()
    assert "继续考试" not in page
    assert ExamAttempt.objects.get(pk=started.pk).submitted_at is not None


@pytest.mark.parametrize(
    "body",
    [
        '{"question": 1e5000, "choices": []}',
        '{"question": %s, "choices": []}' % (2**70),
        '{"question": 1, "choices": [%s]}' % (2**70),
        '{"question": "²", "choices": []}',
        '{"question": 1, "choices": ' + "[" * 100_000 + "]" * 100_000 + "}",
    ],
    ids=["infinity", "id beyond 64 bits", "choice beyond 64 bits", "superscript", "nested 100000 deep"],
)
def test_an_answer_no_one_can_give_gets_a_clear_error_and_changes_nothing(client, started, body):
    response = client.post(f"/exams/attempts/{started.pk}/answer/", body, content_type="application/json")
    assert response.status_code == 400 and "重新加载" in response.json()["error"]
    assert not AttemptAnswer.objects.filter(attempt=started, answered_at__isnull=False).exists()
