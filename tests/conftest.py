import datetime
from decimal import Decimal

import pytest
from django.conf import settings
from django.utils import translation

from certification import services as certification_services
from training.models import TrainingHoursEntry

from .factories.accounts import AssessorFactory, CaregiverFactory
from .factories.certification import rule_set


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
def decided_evaluation(qualified_caregiver, passed_exam, assessor, rules, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        return certification_services.evaluation_record(
            assessor=assessor, caregiver=qualified_caregiver, rule_set=rules, practical_score=85, level=2
        )
