import datetime

import pytest
from django.core import mail

from accounts.models import Role
from certification.certificates import services as certificates
from certification.models import CertificateReminder
from tests.factories.accounts import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def holder_with_contacts(certificate):
    user = certificate.caregiver.user
    user.email = "holder@example.com"
    user.phone = "13900000000"
    user.save()
    UserFactory(role=Role.MANAGER, institution=certificate.caregiver.institution, email="manager@example.com")
    mail.outbox.clear()
    return certificate


def test_reminders_at_60_then_30_days_each_once(holder_with_contacts, caplog):
    certificate = holder_with_contacts
    sixty_before = certificate.valid_until - datetime.timedelta(days=60)
    assert certificates.certificates_remind_expiring(today=sixty_before - datetime.timedelta(days=1)) == 0
    assert certificates.certificates_remind_expiring(today=sixty_before) == 1
    assert certificates.certificates_remind_expiring(today=sixty_before) == 0  # the daily job never repeats itself
    assert sorted(message.to[0] for message in mail.outbox) == ["holder@example.com", "manager@example.com"]
    assert "13900000000" in caplog.text  # the default SMS backend writes to the log

    thirty_before = certificate.valid_until - datetime.timedelta(days=30)
    assert certificates.certificates_remind_expiring(today=thirty_before) == 1
    assert sorted(CertificateReminder.objects.values_list("days_before", flat=True)) == [30, 60]


def test_a_late_starter_gets_only_the_nearest_reminder(holder_with_contacts):
    certificate = holder_with_contacts
    assert certificates.certificates_remind_expiring(today=certificate.valid_until - datetime.timedelta(days=10)) == 1
    assert list(CertificateReminder.objects.values_list("days_before", flat=True)) == [30]


def test_the_holder_is_notified_of_the_issue_once(decided_evaluation, django_capture_on_commit_callbacks):
    user = decided_evaluation.caregiver.user
    user.email = "holder@example.com"
    user.save()
    with django_capture_on_commit_callbacks(execute=True):
        certificate = certificates.certificate_issue(evaluation_id=decided_evaluation.pk)
    assert len(mail.outbox) == 1 and certificate.serial_number in mail.outbox[0].subject
    assert certificates.certificate_notify(certificate_id=certificate.pk) is False
    assert len(mail.outbox) == 1
