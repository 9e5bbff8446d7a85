import datetime
from decimal import Decimal
from pathlib import Path

import hypothesis
import pytest
from django.conf import settings
from django.test import Client
from django.utils import translation
from hypothesis.configuration import set_hypothesis_home_dir

from certification.certificates import services as certification_certificates
from certification.exams import services as certification_services
from training.models import TrainingHoursEntry

from .factories.accounts import AssessorFactory, CaregiverFactory, TOTPDeviceFactory
from .factories.certification import rule_set

_force_login = Client.force_login


def _force_login_verified(self, user, backend=None):
    """force_login, and for a user who needs a second factor, a session that has passed it, as django_otp.login
    leaves one: tests of other things sign staff in as they work, verified."""
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from accounts.two_factor import two_factor_required

    _force_login(self, user, backend)
    if two_factor_required(user):
        device = TOTPDevice.objects.filter(user=user, confirmed=True).first() or TOTPDeviceFactory(user=user)
        session = self.session
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
        session.save()


@pytest.fixture(autouse=True)
def _verified_sign_in(request, monkeypatch):
    """Every test's force_login passes the second factor, but in tests marked `unverified` (two-step verification's
    own), where the person still has to set it up or enter a code."""
    if request.node.get_closest_marker("unverified") is None:
        monkeypatch.setattr(Client, "force_login", _force_login_verified)


# The property-based tests (tests/**/*_fuzz.py) draw the same examples on every run and every machine, so a failure
# in CI is the failure on a laptop, and keep nothing between runs. `pytest --hypothesis-profile=thorough` draws
# twenty times as many, new ones each run; Hypothesis's own cache goes under VAR_DIR, never into the checkout.
set_hypothesis_home_dir(Path(settings.VAR_DIR) / "hypothesis")
hypothesis.settings.register_profile("ci", max_examples=60, deadline=None, derandomize=True, database=None)
hypothesis.settings.register_profile("thorough", max_examples=1200, deadline=None, database=None)
hypothesis.settings.load_profile("ci")


@pytest.fixture(scope="session")
def broker():
    """The embedded broker for the tests that run a real worker (CI's second run names its own Redis)."""
    from config.embedded_broker import embedded_broker

    with embedded_broker():
        yield settings.CELERY_BROKER_URL


@pytest.fixture
def workers(broker, tmp_path):
    """Starts `make run`'s Celery worker in processes of its own (tests.processes.Worker), on this test's database
    and the configured broker; call it with environment overrides. Every worker it started is stopped at the end.
    The test's own tasks go to the broker meanwhile instead of running in-process."""
    from certification.certificates.openbadges import signing_key
    from certification.certificates.signing import signing_identity
    from config.celery import app

    from .processes import Worker, broker_reset

    # The keys are made here, once: the pool's processes would otherwise race to create them.
    signing_identity()
    signing_key()
    started = []

    def start(**env: str) -> Worker:
        worker = Worker(tmp_path / f"worker-{len(started) + 1}.log", **env)
        started.append(worker)
        return worker.start()

    app.conf.task_always_eager = False
    broker_reset()
    try:
        yield start
    finally:
        for worker in started:
            worker.stop()
        broker_reset()
        app.conf.task_always_eager = True


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture(autouse=True)
def _site_language():
    # A request in English (the language switcher) leaves English active in the thread; every test starts
    # in the site's language, as a service called from a worker would.
    with translation.override(settings.LANGUAGE_CODE):
        yield


@pytest.fixture
def caregiver(db):
    return CaregiverFactory(user__name="王秀英")


@pytest.fixture
def assessor(db):
    return AssessorFactory(user__name="周考评").user


@pytest.fixture
def rules(db):
    return rule_set()


@pytest.fixture
def qualified_caregiver(caregiver):
    """A caregiver whose record meets level 2 of the test rules once they pass an exam."""
    TrainingHoursEntry.objects.create(
        caregiver=caregiver,
        hours=Decimal("35"),
        source=TrainingHoursEntry.Source.ADJUSTMENT,
        earned_on=datetime.date(2024, 1, 1),
    )
    return caregiver


@pytest.fixture
def passed_exam(qualified_caregiver):
    from .factories.certification import correct_answers, exam_with_questions

    exam = exam_with_questions()
    attempt = certification_services.attempt_start(caregiver=qualified_caregiver, exam=exam)
    certification_services.attempt_answers_save(attempt=attempt, answers=correct_answers(exam))
    return certification_services.attempt_submit(attempt=attempt)


@pytest.fixture
def reviewer(db):
    return AssessorFactory(user__name="吴复核").user


@pytest.fixture
def decided_evaluation(
    qualified_caregiver, passed_exam, assessor, reviewer, administrator, rules, django_capture_on_commit_callbacks
):
    from .factories.certification import evaluation_through_workflow

    with django_capture_on_commit_callbacks(execute=False):
        return evaluation_through_workflow(
            caregiver=qualified_caregiver, assessor=assessor, reviewer=reviewer, administrator=administrator, level=2
        )


@pytest.fixture
def second_decided_evaluation(assessor, rules):
    from .factories.certification import decided_evaluation_for

    return decided_evaluation_for(caregiver=CaregiverFactory(user__name="李桂兰"), assessor=assessor, rule_set=rules)


@pytest.fixture
def race_evaluation(django_db_serialized_rollback, transactional_db):
    from .factories.certification import decided_evaluation_for

    return decided_evaluation_for(
        caregiver=CaregiverFactory(user__name="赵淑珍"), assessor=AssessorFactory().user, rule_set=rule_set()
    )


@pytest.fixture
def certificate(decided_evaluation):
    return certification_certificates.certificate_issue(evaluation_id=decided_evaluation.pk)


@pytest.fixture
def administrator(db):
    from accounts.models import Role

    from .factories.accounts import UserFactory

    return UserFactory(role=Role.ADMINISTRATOR, name="医保局管理员")
