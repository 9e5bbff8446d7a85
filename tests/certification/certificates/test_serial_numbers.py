"""Serial numbers follow CERTIFICATE_SERIAL_PATTERN, without gaps, per fixed part of the number."""

import pytest
from django.utils import timezone

from certification.certificates import checks, serials
from certification.certificates import services as certificates
from tests.factories.accounts import CaregiverFactory
from tests.factories.certification import decided_evaluation_for

pytestmark = pytest.mark.django_db


def issue(assessor, rules, name: str, level: int):
    evaluation = decided_evaluation_for(
        caregiver=CaregiverFactory(user__name=name), assessor=assessor, rule_set=rules, level=level
    )
    return certificates.certificate_issue(evaluation_id=evaluation.pk)


def test_the_default_pattern_is_region_year_sequence(assessor, rules):
    year = timezone.localdate().year
    numbers = [issue(assessor, rules, name, 2).serial_number for name in ("刘淑珍", "陈玉梅")]
    assert numbers == [f"140500-{year}-000001", f"140500-{year}-000002"]


def test_a_pattern_with_the_level_and_an_issuer_code_counts_per_level(assessor, rules, settings):
    settings.CERTIFICATE_SERIAL_PATTERN = "JC{issuer}-{year}{level}-{sequence:04d}"
    settings.CERTIFICATE_ISSUER_CODE = "YB"
    year = timezone.localdate().year
    numbers = [
        issue(assessor, rules, name, level).serial_number
        for name, level in (("刘淑珍", 2), ("陈玉梅", 3), ("杨春燕", 2))
    ]
    assert numbers == [f"JCYB-{year}2-0001", f"JCYB-{year}3-0001", f"JCYB-{year}2-0002"]


@pytest.mark.parametrize(
    ("pattern", "words"),
    [
        ("{region}-{year}", "exactly once"),
        ("{region}-{sequence}-{sequence}", "exactly once"),
        ("{county}-{sequence}", "unknown fields"),
        ("{region}-{sequence:x<40}", "longer than 32"),
        ("{region}-{sequence", "not a format string"),
        ("{region:d}-{sequence}", "cannot be filled in"),
    ],
)
def test_a_broken_pattern_stops_start_up_and_says_why(settings, pattern, words):
    settings.CERTIFICATE_SERIAL_PATTERN = pattern
    (error,) = checks.serial_pattern_check()
    assert error.id == "carestar.E005" and words in error.msg


def test_the_default_pattern_passes_the_check():
    assert serials.pattern_problems("{region}-{year}-{sequence:06d}") == []
