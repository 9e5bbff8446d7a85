import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError

from accounts.models import Role
from tests.factories.accounts import CaregiverFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_identity_number_is_unique():
    first = CaregiverFactory()
    with pytest.raises(IntegrityError):
        CaregiverFactory(national_id=first.national_id)


def test_full_clean_refuses_a_bad_identity_number():
    caregiver = CaregiverFactory.build(national_id="110105194912310021", user=UserFactory())
    with pytest.raises(ValidationError) as error:
        caregiver.full_clean()
    assert "national_id" in error.value.message_dict


def test_only_administrators_see_the_whole_number():
    caregiver = CaregiverFactory()
    administrator = UserFactory(role=Role.ADMINISTRATOR)
    manager = UserFactory(role=Role.MANAGER)
    assert caregiver.national_id_for(administrator) == caregiver.national_id
    assert caregiver.national_id_for(manager) == caregiver.national_id_masked
    assert "*" in caregiver.national_id_masked
    assert caregiver.national_id_for(caregiver.user) == caregiver.national_id_masked
