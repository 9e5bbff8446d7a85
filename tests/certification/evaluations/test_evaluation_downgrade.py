"""Downgrade: a substantiated complaint or a disqualifier lowers a level the record no longer supports."""

import pytest
from wagtail.models import ModelLogEntry

from certification.certificates import services as certificates
from certification.evaluations import selectors, services
from certification.models import Certificate, Evaluation, ServiceIncident, StarLevelRule
from tests.factories.servicedata import incident

pytestmark = pytest.mark.django_db


def test_a_level_the_record_still_supports_stands(decided_evaluation, qualified_caregiver):
    incident(qualified_caregiver, substantiated=False, kind=ServiceIncident.Kind.LIABILITY_ACCIDENT)
    assert services.downgrade_check(caregiver=qualified_caregiver, cause="未查实") is None
    assert selectors.decision_current(caregiver=qualified_caregiver) == decided_evaluation


def test_a_substantiated_complaint_lowers_the_level(
    decided_evaluation, qualified_caregiver, rules, django_capture_on_commit_callbacks
):
    StarLevelRule.objects.filter(rule_set=rules, level=2).update(max_substantiated_complaints=0)
    StarLevelRule.objects.filter(rule_set=rules, level=3).update(max_substantiated_complaints=0)
    before = certificates.certificate_issue(evaluation_id=decided_evaluation.pk)
    incident(qualified_caregiver)
    with django_capture_on_commit_callbacks(execute=True):
        downgrade = services.downgrade_check(caregiver=qualified_caregiver, cause="投诉 INC-1 查实")
    assert (downgrade.source, downgrade.level, downgrade.revises) == (
        Evaluation.Source.DOWNGRADE,
        1,
        decided_evaluation,
    )
    assert downgrade.status == Evaluation.Status.DECIDED and downgrade.appeal_until
    entry = ModelLogEntry.objects.for_instance(downgrade).get(action="carestar.evaluation.downgrade")
    assert entry.data["before"]["level"] == 2 and entry.data["after"]["level"] == 1
    before.refresh_from_db()
    assert before.status == Certificate.Status.SUPERSEDED
    assert before.successor.star_level == 1
    # Checked again, nothing more happens.
    assert services.downgrade_check(caregiver=qualified_caregiver, cause="重复") is None


def test_a_disqualifier_withdraws_the_level_and_revokes_the_certificate(
    decided_evaluation, qualified_caregiver, django_capture_on_commit_callbacks
):
    certificate = certificates.certificate_issue(evaluation_id=decided_evaluation.pk)
    incident(qualified_caregiver, kind=ServiceIncident.Kind.LIABILITY_ACCIDENT)
    with django_capture_on_commit_callbacks(execute=True):
        downgrade = services.downgrade_check(caregiver=qualified_caregiver, cause="责任事故 INC-2")
    assert downgrade.level == 0 and downgrade.re_evaluation_due_on is None
    certificate.refresh_from_db()
    assert certificate.status == Certificate.Status.REVOKED
    assert "撤销" in certificate.status_reason
    assert not Certificate.objects.filter(evaluation=downgrade).exists()
