"""A substantiated incident arriving as service data lowers a star level the record no longer supports."""

import datetime
import json

import pytest
from django.utils import timezone

from certification.certificates import services as certificates
from certification.models import Certificate, Evaluation
from certification.servicedata import clients, services

pytestmark = pytest.mark.django_db

URL = "/api/service-data/"


@pytest.fixture
def token(administrator):
    _client, token = clients.service_data_client_create(name="晋城市长护险信息系统", actor=administrator)
    return token


@pytest.fixture
def certificate_held(decided_evaluation):
    certificate = certificates.certificate_issue(evaluation_id=decided_evaluation.pk)
    assert certificate.status == Certificate.Status.VALID and certificate.star_level == 2
    return certificate


def send(client, token, *, batch_id, incidents):
    return client.post(
        URL,
        data=json.dumps({"batch_id": batch_id, "incidents": incidents}),
        content_type="application/json",
        headers={"Authorization": f"Bearer {token}"},
    )


def incident(caregiver, *, reference="SG-2026-0007", kind="liability_accident", substantiated=True) -> dict:
    return {
        "reference": reference,
        "national_id": caregiver.national_id,
        "kind": kind,
        "occurred_on": (timezone.localdate() - datetime.timedelta(days=5)).isoformat(),
        "substantiated": substantiated,
        "summary": "协助转移时服务对象跌倒",
    }


def downgrades(caregiver):
    return Evaluation.objects.filter(caregiver=caregiver, source=Evaluation.Source.DOWNGRADE)


def test_a_substantiated_liability_accident_downgrades_to_no_star_and_revokes_the_certificate(
    client, token, decided_evaluation, certificate_held, django_capture_on_commit_callbacks
):
    caregiver = decided_evaluation.caregiver
    with django_capture_on_commit_callbacks(execute=True):
        response = send(client, token, batch_id="b-1", incidents=[incident(caregiver)])
    assert response.status_code == 201

    downgrade = downgrades(caregiver).get()
    assert downgrade.status == Evaluation.Status.DECIDED
    assert (downgrade.level, downgrade.computed_level, downgrade.revises) == (0, 0, decided_evaluation)
    assert "SG-2026-0007" in downgrade.reason and "责任事故" in downgrade.reason
    certificate_held.refresh_from_db()
    assert certificate_held.status == Certificate.Status.REVOKED


def test_a_complaint_still_under_investigation_changes_nothing_until_it_is_substantiated(
    client, token, decided_evaluation, certificate_held, django_capture_on_commit_callbacks
):
    caregiver = decided_evaluation.caregiver
    with django_capture_on_commit_callbacks(execute=True):
        send(client, token, batch_id="b-1", incidents=[incident(caregiver, kind="ethics_breach", substantiated=False)])
    assert not downgrades(caregiver).exists()
    certificate_held.refresh_from_db()
    assert certificate_held.status == Certificate.Status.VALID

    with django_capture_on_commit_callbacks(execute=True):
        send(client, token, batch_id="b-2", incidents=[incident(caregiver, kind="ethics_breach")])
    assert downgrades(caregiver).get().level == 0
    certificate_held.refresh_from_db()
    assert certificate_held.status == Certificate.Status.REVOKED


def test_a_resent_batch_makes_no_second_downgrade(
    client, token, decided_evaluation, certificate_held, django_capture_on_commit_callbacks
):
    caregiver = decided_evaluation.caregiver
    for _attempt in range(2):
        with django_capture_on_commit_callbacks(execute=True):
            send(client, token, batch_id="b-1", incidents=[incident(caregiver)])
    assert downgrades(caregiver).count() == 1


def test_the_check_run_twice_downgrades_once(decided_evaluation):
    from certification.evaluations.tasks import service_data_downgrade_check_task

    caregiver = decided_evaluation.caregiver
    services.service_data_import(
        months=[],
        incidents=[incident(caregiver)],
        source="api",
        batch_key="b-1",
        payload_sha256="x" * 64,
    )
    first = service_data_downgrade_check_task.apply(args=[caregiver.pk, "责任事故 SG-2026-0007"]).get()
    second = service_data_downgrade_check_task.apply(args=[caregiver.pk, "责任事故 SG-2026-0007"]).get()
    assert first == downgrades(caregiver).get().pk and second is None


def test_a_complaint_the_rules_tolerate_leaves_the_level_standing(
    client, token, decided_evaluation, certificate_held, django_capture_on_commit_callbacks
):
    # The test rules set no complaint limit: one substantiated complaint is checked, and the level stands.
    caregiver = decided_evaluation.caregiver
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        send(client, token, batch_id="b-1", incidents=[incident(caregiver, kind="complaint")])
    assert len(callbacks) >= 1
    assert not downgrades(caregiver).exists()
    certificate_held.refresh_from_db()
    assert certificate_held.status == Certificate.Status.VALID
