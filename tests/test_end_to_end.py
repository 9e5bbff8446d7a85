"""One certificate end to end: over HTTP against a live server, with a real Celery worker on the configured
broker (the embedded Redis by default, CI's Redis server in its second run)."""

import base64
import datetime
import hashlib
import re
import time
from decimal import Decimal

import pytest
import requests
from django.db.models import F
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import services as account_services
from accounts.models import Role
from certification.evaluations import services as evaluation_services
from certification.evaluations.models import Evaluation
from certification.models import Certificate, ExamAttempt
from tests.factories.accounts import CaregiverFactory, InstitutionFactory, UserFactory, valid_national_id
from tests.factories.certification import correct_answers, exam_with_questions, option_values, rule_set
from tests.factories.training import course_with_lessons, training_body_with_index
from training.models import LessonVisit, TrainingHoursEntry

# serialized_rollback: another transactional test may have flushed the rows the migrations create (root page,
# root collection) before this one runs.
pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


@pytest.fixture
def celery_worker(broker, django_db_serialized_rollback, transactional_db):
    from celery.contrib.testing.worker import start_worker

    from config.celery import app

    app.conf.task_always_eager = False
    app.control.purge()
    try:
        with start_worker(
            app, pool="solo", perform_ping_check=False, loglevel="WARNING", shutdown_timeout=30
        ) as worker:
            yield worker
    finally:
        app.conf.task_always_eager = True


class Browser:
    """A requests session that speaks Django's CSRF protocol, as a browser would."""

    def __init__(self, base_url: str):
        self.base_url = base_url
        self.session = requests.Session()

    def get(self, path: str, **kwargs) -> requests.Response:
        response = self.session.get(self.base_url + path, timeout=30, **kwargs)
        response.raise_for_status()
        return response

    def post(self, path: str, data=None) -> requests.Response:
        if "csrftoken" not in self.session.cookies:
            self.get("/accounts/login/")
        payload = dict(data or {})
        payload["csrfmiddlewaretoken"] = self.session.cookies["csrftoken"]
        response = self.session.post(
            self.base_url + path, data=payload, timeout=60, headers={"Referer": self.base_url + path}
        )
        response.raise_for_status()
        return response

    def login(self, username: str, password: str) -> requests.Response:
        response = self.post("/accounts/login/", {"username": username, "password": password})
        assert "sessionid" in self.session.cookies, response.text[:500]
        return response

    def set_up_second_factor(self, signed_in: requests.Response) -> bytes:
        """An assessor's first sign-in: add the key the page shows to an authenticator app (computed here as the
        app would, django_otp.oath.totp), confirm with its code, keep the recovery codes. Returns the key."""
        assert "/accounts/two-factor/setup/" in signed_in.url, signed_in.url
        secret = re.search(r'<code class="secret">([A-Z2-7 ]+)</code>', signed_in.text).group(1).replace(" ", "")
        key = base64.b32decode(secret + "=" * (-len(secret) % 8))
        codes = self.post(signed_in.url.removeprefix(self.base_url), {"otp_token": f"{totp(key):06d}"})
        assert "/accounts/two-factor/recovery-codes/" in codes.url
        assert len(re.findall(r"<li><code>[a-z2-7]{4} [a-z2-7]{4}</code></li>", codes.text)) == 10
        return key


def test_a_caregiver_earns_a_verifiable_certificate(live_server, celery_worker):
    _body, index = training_body_with_index()
    course = course_with_lessons(index, lessons=2)
    exam = exam_with_questions(course=course)
    rule_set()
    caregiver = CaregiverFactory(user__username="learner", user__name="郑𠀾华", national_id=valid_national_id(7))
    caregiver.user.set_password("learner-pw")
    caregiver.user.save()
    TrainingHoursEntry.objects.create(
        caregiver=caregiver, hours=Decimal("35"), source="adjustment", earned_on=datetime.date(2024, 1, 1)
    )
    examiner_user = account_services.assessor_create(
        username="examiner", password="examiner-pw", name="周考评", institution=InstitutionFactory()
    )
    account_services.assessor_create(
        username="reviewer", password="reviewer-pw", name="吴复核", institution=InstitutionFactory()
    )
    administrator = UserFactory(role=Role.ADMINISTRATOR)

    learner = Browser(live_server.url)
    learner.login("learner", "learner-pw")
    assert "/me/" in learner.get("/accounts/home/").url
    learner.post(f"/training/courses/{course.pk}/enrol/")
    for lesson in course.lessons():
        assert "内容" in learner.get(lesson.url).text
        # The learner studies for the minimum time before marking the lesson as studied.
        LessonVisit.objects.filter(lesson=lesson).update(opened_at=F("opened_at") - datetime.timedelta(hours=1))
        learner.post(f"/training/lessons/{lesson.pk}/complete/")
    my_learning = learner.get("/me/").text
    assert f"/exams/{exam.pk}/" in my_learning
    assert "/me/star/" in my_learning

    attempt_page = learner.post(f"/exams/{exam.pk}/")
    attempt = ExamAttempt.objects.get(caregiver=caregiver, exam=exam)
    answers = {f"q{question}": option_values(attempt, choices) for question, choices in correct_answers(exam).items()}
    result = learner.post(attempt_page.url.removeprefix(live_server.url), {**answers, "submit": "1"})
    assert "/result/" in result.url
    assert "100" in result.text

    # The caregiver applies for a star evaluation on their star page; an administrator assigns the assessor.
    assert "申请星级评定" in learner.get("/me/star/").text
    applied = learner.post("/me/star/apply/", {"note": "工作日下午可参加实操考核"})
    assert "待分配考评员" in applied.text
    evaluation = Evaluation.objects.get(caregiver=caregiver, status=Evaluation.Status.APPLIED)
    assert evaluation.source == Evaluation.Source.APPLICATION
    assert evaluation.request_note == "工作日下午可参加实操考核"
    evaluation_services.evaluation_assign(evaluation=evaluation, assessor=examiner_user.user, actor=administrator)
    assert "考评中" in learner.get("/me/star/").text

    examiner = Browser(live_server.url)
    examiner_key = examiner.set_up_second_factor(examiner.login("examiner", "examiner-pw"))
    assert TOTPDevice.objects.get(user=examiner_user.user, confirmed=True).bin_key == examiner_key
    assert f"/assess/evaluations/{evaluation.pk}/" in examiner.get("/assess/").text
    form = examiner.get(f"/assess/evaluations/{evaluation.pk}/", params={"practical_score": 85}).text
    assert re.search(r"<strong>2</strong>", form), "the engine should compute two stars"
    examiner.post(f"/assess/evaluations/{evaluation.pk}/", {"practical_score": 85, "level": 2})

    reviewer = Browser(live_server.url)
    reviewer.set_up_second_factor(reviewer.login("reviewer", "reviewer-pw"))
    assert f"/assess/evaluations/{evaluation.pk}/review/" in reviewer.get("/assess/").text
    reviewer.post(f"/assess/evaluations/{evaluation.pk}/review/", {"action": "confirm", "note": ""})

    certificate = None
    deadline = time.monotonic() + 90
    while certificate is None and time.monotonic() < deadline:
        certificate = Certificate.objects.issued().filter(caregiver=caregiver).first()
        if certificate is None:
            time.sleep(0.2)
    assert certificate is not None, "the worker did not issue the certificate"
    assert certificate.star_level == 2
    assert certificate.holder_name == "郑𠀾华"

    public = Browser(live_server.url)
    verification = public.get(f"/verify/{certificate.verification_code}/").text
    assert "status-valid" in verification
    assert "郑𠀾华" in verification
    assert caregiver.national_id not in verification

    star_page = learner.get("/me/star/").text
    assert "2 星级护理员" in star_page
    assert certificate.serial_number in star_page
    assert f"/verify/{certificate.verification_code}/" in star_page
    assert f"/me/certificates/{certificate.pk}/pdf/" in star_page

    pdf = learner.get(f"/me/certificates/{certificate.pk}/pdf/").content
    assert hashlib.sha256(pdf).hexdigest() == certificate.pdf_sha256
    assert Role.CAREGIVER == caregiver.user.role
