import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError

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


def test_a_duplicate_is_a_validation_error_on_the_number_not_an_integrity_error():
    first = CaregiverFactory()
    second = CaregiverFactory.build(national_id=first.national_id.lower(), user=UserFactory())
    with pytest.raises(ValidationError) as error:
        second.full_clean()
    assert error.value.message_dict["national_id"] == ["该身份证号已登记。"]
    first.full_clean()  # its own number is no duplicate of itself


def test_everyone_sees_the_number_masked():
    caregiver = CaregiverFactory(national_id="14050219700101002X")
    assert caregiver.national_id_masked == "140502********002X"
    assert not hasattr(caregiver, "national_id_for")
