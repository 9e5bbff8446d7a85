"""A worker killed (SIGKILL, pool and all) in the middle of a batch loses nothing and doubles nothing: the broker
delivers the messages it held again, beat's recovery job queues whatever the broker lost, and the batch ends with
one certificate per decision, serial numbers without a gap, a PDF for each and every holder told."""

import hashlib
import re
import time
from collections import Counter

import pytest
from django.utils import timezone

from accounts.models import Role
from certification.certificates import selectors
from certification.certificates import services as certificates
from certification.certificates.serials import serial_format, serial_scope
from certification.certificates.tasks import certificates_requeue_lost_task
from certification.models import Certificate, CertificateBatchItem, SerialCounter, certificate_storage
from tests.factories.accounts import AssessorFactory, CaregiverFactory, InstitutionFactory, UserFactory
from tests.factories.certification import decided_evaluation_for, rule_set, stored_pdfs
from tests.processes import broker_held

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

SIZE = 200
LEVEL = 2
RESTART_BOUND = 120  # seconds from the second worker's start to the whole batch issued and notified
# Seconds a message may stay unacknowledged before the broker delivers it again (900 in production): the second
# worker takes back what the killed one held this long after the killed one took it.
VISIBILITY_TIMEOUT = "10"
# Beat's recovery job, run here every few seconds instead of every minute, queues again what is undone this long.
REQUEUE_AFTER = "30"


def _decisions(count: int) -> list:
    institution = InstitutionFactory()
    assessor = AssessorFactory().user
    rules = rule_set()
    return [
        decided_evaluation_for(
            caregiver=CaregiverFactory(institution=institution, user__phone=f"139{number:08d}"),
            assessor=assessor,
            rule_set=rules,
            level=LEVEL,
        )
        for number in range(count)
    ]


def _wait(condition, *, timeout: float, what: str, worker, state=lambda: "", tick=None):
    deadline = time.monotonic() + timeout
    last_tick = 0.0
    while not condition():
        now = time.monotonic()
        if now > deadline:
            raise AssertionError(
                f"{what}: not reached within {timeout} s {state()}\n--- worker log ---\n{worker.output()[-4000:]}"
            )
        if tick and now - last_tick >= 5:
            tick()
            last_tick = now
        time.sleep(0.1)


def test_a_worker_killed_in_the_middle_of_a_batch_loses_and_doubles_nothing(workers, settings):
    settings.CERTIFICATE_BATCH_CHUNK = 5
    evaluations = _decisions(SIZE)
    administrator = UserFactory(role=Role.ADMINISTRATOR)
    issued = Certificate.objects.issued().filter(evaluation__in=evaluations)
    files_before = stored_pdfs()

    first = workers()
    batch = certificates.certificate_batch_create(actor=administrator, name="中途断电批次")
    _wait(lambda: issued.count() >= 10, timeout=120, what="the first 10 certificates", worker=first)
    first.kill()

    before_kill = issued.count()
    pending_at_kill = Certificate.objects.filter(status=Certificate.Status.PENDING).count()
    held_at_kill = broker_held()
    assert before_kill < SIZE, "the worker finished the batch before it was killed: nothing was tested"
    # It died holding chunks it had not finished: they go round again only because the broker kept them.
    held_items = [item for task, (chunk,) in held_at_kill if task.endswith("batch_items_task") for item in chunk]
    unfinished = CertificateBatchItem.objects.filter(pk__in=held_items, certificate__isnull=True).count()
    assert unfinished >= 1

    second = workers(CELERY_VISIBILITY_TIMEOUT=VISIBILITY_TIMEOUT, CERTIFICATE_REQUEUE_AFTER_SECONDS=REQUEUE_AFTER)
    restarted = time.monotonic()
    unnotified = Certificate.objects.filter(evaluation__in=evaluations, notified_at__isnull=True)
    _wait(
        lambda: selectors.certificate_batch_progress(batch=batch)["done"] and not unnotified.exists(),
        timeout=RESTART_BOUND,
        what="the batch issued and notified after the restart",
        worker=second,
        state=lambda: f"{selectors.certificate_batch_progress(batch=batch)}, {unnotified.count()} not notified",
        # Beat's recovery job, as beat sends it: for a message the broker lost (taken off the queue by the
        # killed worker, not yet recorded as held).
        tick=certificates_requeue_lost_task.delay,
    )
    recovery_seconds = time.monotonic() - restarted

    assert selectors.certificate_batch_progress(batch=batch) == {
        "total": SIZE,
        "issued": SIZE,
        "failed": 0,
        "pending": 0,
        "percent": 100,
        "done": True,
    }
    issued_certificates = list(Certificate.objects.filter(evaluation__in=evaluations))
    assert len(issued_certificates) == SIZE
    assert Counter(c.evaluation_id for c in issued_certificates) == Counter(e.pk for e in evaluations)
    assert {c.status for c in issued_certificates} == {Certificate.Status.VALID}

    # The numbers run 1 … SIZE in the project's pattern: none skipped, none given twice.
    year = timezone.localdate().year
    assert sorted(c.serial_number for c in issued_certificates) == sorted(
        serial_format(year=year, level=LEVEL, sequence=sequence) for sequence in range(1, SIZE + 1)
    )
    assert SerialCounter.objects.get(scope=serial_scope(year=year, level=LEVEL)).last_value == SIZE

    storage = certificate_storage()
    for certificate in issued_certificates:
        with storage.open(certificate.pdf.name, "rb") as handle:
            data = handle.read()
        assert data.startswith(b"%PDF") and hashlib.sha256(data).hexdigest() == certificate.pdf_sha256

    # Each holder is told: the SMS backend of development writes each message to the worker's log. A holder killed
    # between the send and its record would be told twice (a notice is sent at least once, never lost).
    sms = [line for line in (first.output() + second.output()).splitlines() if "SMS to 139" in line]
    notices = Counter(c.serial_number for c in issued_certificates for line in sms if c.serial_number in line)
    assert set(notices) == {c.serial_number for c in issued_certificates}

    stray_files = len(stored_pdfs() - files_before) - SIZE
    requeued = sum(
        int(count)
        for line in second.output().splitlines()
        if "certificate work queued again" in line
        for count in re.findall(r"'(?:pending|issue|batch_items)': (\d+)", line)
    )
    print(
        f"\nbatch kill: {before_kill} issued before the SIGKILL ({pending_at_kill} pending; the killed worker held"
        f" {len(held_at_kill)} messages, {len(held_items)} items, {unfinished} of them unfinished, delivered again),"
        f" {SIZE - before_kill} issued after the restart in {recovery_seconds:.1f} s,"
        f" {len(issued_certificates)} in all; {requeued} items queued again by the recovery job;"
        f" {sum(n - 1 for n in notices.values())} notices sent twice; {stray_files} files left by renders cut short"
    )
