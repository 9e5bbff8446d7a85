"""The exam on a phone, in Debian's Chromium driven by Playwright: start, answer, lose the connection, reload,
resume, submit, see the result."""

import re

import pytest
from playwright.sync_api import expect

from certification.models import AttemptAnswer, ExamAttempt
from tests.browser import PHONE
from tests.factories.accounts import CaregiverFactory
from tests.factories.certification import exam_with_questions, option_values

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def option(page, attempt, question_id: int, choice_id: int):
    (value,) = option_values(attempt, [choice_id])
    return page.locator(f'input[name="q{question_id}"][value="{value}"]')


def test_a_caregiver_sits_the_exam_on_a_phone(live_server, page):
    exam = exam_with_questions(questions=3, time_limit_minutes=30)
    caregiver = CaregiverFactory(user__username="phone")
    caregiver.user.set_password("phone-pw")
    caregiver.user.save()
    questions = [
        (row.question_id, [c.id for c in row.question.choices.all() if c.is_correct])
        for row in exam.exam_questions.select_related("question").prefetch_related("question__choices")
    ]

    page.goto(f"{live_server.url}/accounts/login/?next=/exams/{exam.pk}/")
    page.fill("#id_username", "phone")
    page.fill("#id_password", "phone-pw")
    page.click("main button")
    page.get_by_role("button", name="开始考试").click()
    expect(page.locator("#countdown-value")).to_have_text(re.compile(r"^(29|30):\d\d$"))
    attempt = ExamAttempt.objects.get(caregiver=caregiver)

    # Answer the first question: the page says it is saved, and the server has it.
    first_id, first_choices = questions[0]
    option(page, attempt, first_id, first_choices[0]).check()
    expect(page.locator(f"#question-{first_id} [data-state]")).to_have_text("✓ 已保存")
    assert AttemptAnswer.objects.get(attempt=attempt, question_id=first_id).choice_ids == first_choices

    # The connection drops while the second question is answered: the page says so and keeps the answer.
    second_id, second_choices = questions[1]
    page.context.set_offline(True)
    option(page, attempt, second_id, second_choices[0]).check()
    expect(page.locator(f"#question-{second_id} [data-state]")).to_have_text("尚未保存：将自动重新发送")
    expect(page.locator("#connection-state")).to_be_visible()
    assert AttemptAnswer.objects.get(attempt=attempt, question_id=second_id).choice_ids == []
    page.context.set_offline(False)
    page.evaluate("window.dispatchEvent(new Event('online'))")
    expect(page.locator(f"#question-{second_id} [data-state]")).to_have_text("✓ 已保存")
    assert AttemptAnswer.objects.get(attempt=attempt, question_id=second_id).choice_ids == second_choices

    # Reload mid-exam: the paper comes back with both answers, the clock still running from the server.
    page.reload()
    expect(option(page, attempt, first_id, first_choices[0])).to_be_checked()
    expect(option(page, attempt, second_id, second_choices[0])).to_be_checked()
    expect(page.locator("#answered-count")).to_have_text("2")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]

    # Resume from the start page, answer the last (multiple-choice) question, submit.
    page.goto(f"{live_server.url}/exams/{exam.pk}/")
    page.get_by_role("button", name="继续考试").click()
    third_id, third_choices = questions[2]
    for choice in third_choices:
        option(page, attempt, third_id, choice).check()
    expect(page.locator(f"#question-{third_id} [data-state]")).to_have_text("✓ 已保存")
    page.locator("#submit-button").click()
    expect(page.locator("#result")).to_contain_text("100")
    expect(page.locator("#result")).to_contain_text("通过")
    assert ExamAttempt.objects.get(pk=attempt.pk).score == 100
