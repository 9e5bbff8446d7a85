"""The database itself refuses to change a decided evaluation, whatever code tries (migration 0007's trigger)."""

import pytest
from django.db import DatabaseError, transaction

from certification.evaluations import services
from certification.models import Evaluation

pytestmark = pytest.mark.django_db


def test_updating_a_decided_evaluation_row_is_refused(decided_evaluation):
    with pytest.raises(DatabaseError), transaction.atomic():
        Evaluation.objects.filter(pk=decided_evaluation.pk).update(level=1)
    with pytest.raises(DatabaseError), transaction.atomic():
        Evaluation.objects.filter(pk=decided_evaluation.pk).update(status=Evaluation.Status.WITHDRAWN)
    decided_evaluation.refresh_from_db()
    assert (decided_evaluation.level, decided_evaluation.status) == (2, Evaluation.Status.DECIDED)


def test_an_evaluation_still_in_progress_can_change(caregiver):
    application = services.evaluation_apply(caregiver=caregiver)
    assert Evaluation.objects.filter(pk=application.pk).update(request_note="补充材料") == 1
    application.refresh_from_db()
    assert application.request_note == "补充材料"
