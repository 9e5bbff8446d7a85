"""A task still running when the broker's visibility timeout runs out is delivered a second time, to a second
process, while the first is still at it: the two end with one certificate, one file and one notice."""

import re
import time

import pytest
from django.db import transaction

from certification.certificates.tasks import certificate_issue_task
from certification.evaluations.models import Evaluation
from certification.models import Certificate
from tests.factories.accounts import AssessorFactory, CaregiverFactory
from tests.factories.certification import decided_evaluation_for, rule_set, stored_pdfs

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def test_a_task_delivered_again_after_the_visibility_timeout_issues_one_certificate(workers):
    evaluation = decided_evaluation_for(
        caregiver=CaregiverFactory(user__name="孙桂兰", user__phone="13900000002"),
        assessor=AssessorFactory().user,
        rule_set=rule_set(),
    )
    files_before = stored_pdfs()
    # Two seconds unacknowledged and the broker hands the message out again (the worker looks every ten).
    worker = workers(CELERY_VISIBILITY_TIMEOUT="2")

    # The decision's row is held here, so the first delivery waits inside its task, as a slow one would, until the
    # broker has given the same message to the worker's second process.
    with transaction.atomic():
        Evaluation.objects.select_for_update().get(pk=evaluation.pk)
        task_id = certificate_issue_task.delay(evaluation.pk).id
        received = rf"certificate_issue_task\[{task_id}\] received"
        deadline = time.monotonic() + 40
        while len(re.findall(received, worker.output())) < 2:
            assert time.monotonic() < deadline, f"the message was not delivered twice in 40 s:\n{worker.output()}"
            time.sleep(0.1)

    assert f"certificate_issue_task[{task_id}] retry" not in worker.output()  # a redelivery, not a retry
    succeeded = rf"certificate_issue_task\[{task_id}\] succeeded"
    deadline = time.monotonic() + 60
    while len(re.findall(succeeded, worker.output())) < 2 or not Certificate.objects.filter(
        evaluation=evaluation, notified_at__isnull=False
    ):
        assert time.monotonic() < deadline, f"the two deliveries did not both finish in 60 s:\n{worker.output()}"
        time.sleep(0.1)

    certificate = Certificate.objects.get(evaluation=evaluation)
    assert certificate.status == Certificate.Status.VALID
    # Both deliveries answered with the same certificate; only one of them rendered and stored it.
    assert re.findall(rf"{succeeded} in [\d.]+s: '([^']+)'", worker.output()) == [certificate.serial_number] * 2
    assert stored_pdfs() - files_before == {certificate.pdf.path}
    time.sleep(1)  # a second notice, if one were queued, would be sent by now
    sms = [line for line in worker.output().splitlines() if "SMS to 13900000002" in line]
    assert len(sms) == 1 and certificate.serial_number in sms[0]
