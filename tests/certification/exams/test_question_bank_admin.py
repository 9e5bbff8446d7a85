"""The question bank in the admin: administrators own it, training bodies propose, item analysis per question."""

import json
import math

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from wagtail.models import ModelLogEntry
from wagtail.test.utils.form_data import inline_formset, nested_form_data

from accounts import services as account_services
from accounts.models import Role
from certification.exams import selectors, services
from certification.models import Question
from tests.factories.accounts import CaregiverFactory
from tests.factories.certification import bank_question, correct_answers, exam_with_questions
from tests.factories.training import training_body_with_index

pytestmark = pytest.mark.django_db


@pytest.fixture
def administrator(db):
    return account_services.user_create(username="bureau", password="pw", name="医保局", role=Role.ADMINISTRATOR)


@pytest.fixture
def trainer(db):
    body, _index = training_body_with_index()
    return account_services.user_create(
        username="trainer", password="pw", name="培训", role=Role.TRAINING_BODY, training_body=body
    )


def denied(response) -> bool:
    # Wagtail's admin answers a PermissionDenied with a redirect to its dashboard and a message.
    return response.status_code == 403 or (response.status_code == 302 and response["Location"] == "/admin/")


def question_form(text: str, correct=(True, False)) -> dict:
    return nested_form_data(
        {
            "text": text,
            "kind": "single",
            "difficulty": "2",
            "explanation": "",
            "choices": inline_formset(
                [{"text": f"选项{n}", "is_correct": "on" if right else ""} for n, right in enumerate(correct)]
            ),
        }
    )


def test_an_administrator_adds_straight_into_the_bank(client, administrator):
    client.force_login(administrator)
    response = client.post("/admin/questions/new/", question_form("管理员出题"))
    assert response.status_code == 302, response.content.decode()[:2000]
    question = Question.objects.get(text="管理员出题")
    assert question.status == Question.Status.ACTIVE and question.proposed_by is None
    assert question.choices.filter(is_correct=True).count() == 1


def test_options_must_fit_the_kind(client, administrator):
    client.force_login(administrator)
    response = client.post("/admin/questions/new/", question_form("两个正确", correct=(True, True)))
    assert response.status_code == 200
    assert "请恰好勾选一个正确选项" in response.content.decode()
    assert not Question.objects.exists()


def test_a_training_body_proposes_and_an_administrator_accepts(client, trainer, administrator):
    client.force_login(trainer)
    assert client.post("/admin/questions/new/", question_form("培训机构提议")).status_code == 302
    proposal = Question.objects.get(text="培训机构提议")
    assert (proposal.status, proposal.proposed_by) == (Question.Status.PROPOSED, trainer)
    # A proposal is never drawn into an exam.
    assert proposal.pk not in Question.objects.filter(status=Question.Status.ACTIVE).values_list("pk", flat=True)
    # The training body may not accept its own proposal.
    assert denied(client.post(f"/admin/questions/{proposal.pk}/review/", {"status": "active"}))
    assert Question.objects.get(pk=proposal.pk).status == Question.Status.PROPOSED
    client.force_login(administrator)
    listing = client.get("/admin/questions/").content.decode()
    assert f"/admin/questions/{proposal.pk}/review/" in listing
    client.post(f"/admin/questions/{proposal.pk}/review/", {"status": "active"})
    proposal.refresh_from_db()
    assert (proposal.status, proposal.reviewed_by) == (Question.Status.ACTIVE, administrator)
    assert ModelLogEntry.objects.filter(action="carestar.question.accept", object_id=str(proposal.pk)).exists()
    # Once reviewed, the training body can no longer change it.
    client.force_login(trainer)
    assert denied(client.get(f"/admin/questions/edit/{proposal.pk}/"))


def test_a_training_body_sees_only_its_own_proposals(client, trainer):
    bank_question(text="题库里的题")
    own = bank_question(text="自己的提议", status=Question.Status.PROPOSED, proposed_by=trainer)
    client.force_login(trainer)
    listing = client.get("/admin/questions/").content.decode()
    assert "自己的提议" in listing and "题库里的题" not in listing
    others = Question.objects.get(text="题库里的题")
    for view in ("edit", "history", "usage", "inspect"):
        response = client.get(f"/admin/questions/{view}/{others.pk}/")
        assert denied(response) and "题库里的题" not in response.content.decode(), view
    assert denied(client.post(f"/admin/questions/delete/{others.pk}/"))
    assert Question.objects.filter(pk=others.pk).exists()
    for view in ("edit", "history", "usage"):
        assert client.get(f"/admin/questions/{view}/{own.pk}/").status_code == 200, view


def sit(exam, right_questions: set[int]):
    caregiver = CaregiverFactory()
    attempt = services.attempt_start(caregiver=caregiver, exam=exam)
    answers = {q: (c if q in right_questions else []) for q, c in correct_answers(exam).items()}
    services.attempt_answers_save(attempt=attempt, answers=answers)
    return services.attempt_submit(attempt=attempt)


def test_item_analysis_facility_and_discrimination(client, administrator):
    exam = exam_with_questions(questions=4)
    question_ids = list(exam.exam_questions.order_by("sort_order").values_list("question_id", flat=True))
    for right in range(1, 5):  # scores 25, 50, 75, 100
        sit(exam, set(question_ids[:right]))
    analysed = {q.pk: q for q in selectors.questions_with_item_analysis()}
    first, second = analysed[question_ids[0]], analysed[question_ids[1]]
    assert (first.responses, first.facility) == (4, 1.0)
    assert second.facility == pytest.approx(0.75)

    def discrimination(question):
        return selectors.point_biserial(
            responses=question.responses,
            facility=question.facility,
            score_sum=question.score_sum,
            score_square_sum=question.score_square_sum,
            score_right_sum=question.score_right_sum,
        )

    assert discrimination(first) is None  # everyone right: it tells no one apart
    # Right for the scores 50, 75, 100, wrong for 25: (75 − 62.5) / √781.25 · √(0.75 / 0.25)
    assert discrimination(second) == pytest.approx(12.5 / math.sqrt(781.25) * math.sqrt(3))
    client.force_login(administrator)
    listing = client.get("/admin/questions/").content.decode()
    assert "75%" in listing and f"{discrimination(second):.2f}" in listing
    inspect = client.get(f"/admin/questions/inspect/{question_ids[1]}/").content.decode()
    assert "75%" in inspect


def listing_queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def test_admin_listings_cost_a_fixed_number_of_queries(client, administrator):
    from certification.models import PracticalAssessment
    from tests.factories.accounts import AssessorFactory
    from tests.factories.certification import practical_template

    client.force_login(administrator)
    template = practical_template()
    assessor = AssessorFactory().user

    def grow():
        exam = exam_with_questions(questions=3)
        for _ in range(2):
            sit(exam, set())
        for _ in range(2):
            PracticalAssessment.objects.create(template=template, caregiver=CaregiverFactory(), assessor=assessor)

    grow()
    urls = ["/admin/questions/", "/admin/exam_attempts/", "/admin/practical_assessments/", "/admin/exams/"]
    before = {url: listing_queries(client, url) for url in urls}
    grow()
    grow()
    assert {url: listing_queries(client, url) for url in urls} == before


def test_choosers_of_caregivers_and_questions_are_for_administrators(client, trainer, administrator):
    caregiver = CaregiverFactory(user__name="隐私护理员")
    bank_question(text="保密的题目")
    question = Question.objects.get(text="保密的题目")
    client.force_login(trainer)
    assert denied(client.get("/admin/caregiver_chooser/"))
    assert denied(client.get("/admin/question_chooser/"))
    # Nor by id: the views that answer with a chosen row give no name or text away.
    for url in (
        f"/admin/caregiver_chooser/chosen/{caregiver.pk}/",
        f"/admin/caregiver_chooser/chosen-multiple/?id={caregiver.pk}",
        f"/admin/question_chooser/chosen/{question.pk}/",
    ):
        response = client.get(url)
        assert denied(response), url
        text = response.content.decode()
        if response.get("Content-Type", "").startswith("application/json"):
            text = json.dumps(response.json(), ensure_ascii=False)
        assert caregiver.name not in text and "保密的题目" not in text
    client.force_login(administrator)
    chosen = client.get(f"/admin/caregiver_chooser/chosen/{caregiver.pk}/").json()
    assert chosen["result"]["title"] == caregiver.name
    assert caregiver.name in client.get("/admin/caregiver_chooser/", {"q": "隐私"}).json()["html"]
    assert caregiver.name not in client.get("/admin/caregiver_chooser/", {"q": "无此人"}).json()["html"]
    assert "保密的题目" in client.get("/admin/question_chooser/").json()["html"]


def test_an_administrator_retires_a_question_and_it_is_drawn_no_more(client, administrator, caregiver):
    from certification.models import ExamAttempt
    from tests.factories.certification import exam_with_sections

    exam = exam_with_sections(sections=[(2, {})], bank=2)
    retired = Question.objects.first()
    client.force_login(administrator)
    assert "已入库" in client.get(f"/admin/questions/{retired.pk}/review/").content.decode()
    client.post(f"/admin/questions/{retired.pk}/review/", {"status": "retired"})
    assert Question.objects.get(pk=retired.pk).status == Question.Status.RETIRED
    assert ModelLogEntry.objects.filter(action="carestar.question.retire", object_id=str(retired.pk)).exists()
    # A rejected-only move is refused with a message, and nothing changes.
    client.post(f"/admin/questions/{retired.pk}/review/", {"status": "rejected"})
    assert Question.objects.get(pk=retired.pk).status == Question.Status.RETIRED
    with pytest.raises(Exception, match="needs 2|需要 2"):
        services.attempt_start(caregiver=caregiver, exam=exam)
    assert not ExamAttempt.objects.exists()
