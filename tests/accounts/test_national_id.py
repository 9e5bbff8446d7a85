import pytest
from django.core.exceptions import ValidationError

from accounts.national_id import (
    national_id_check_character,
    national_id_mask,
    national_id_normalize,
    validate_national_id,
)

# A number published in GB 11643-1999's own worked example.
STANDARD_EXAMPLE = "11010519491231002X"


def test_the_standards_example_is_valid():
    validate_national_id(STANDARD_EXAMPLE)
    assert national_id_check_character(STANDARD_EXAMPLE[:17]) == "X"


def test_lower_case_x_is_accepted_and_stored_upper_case():
    validate_national_id(STANDARD_EXAMPLE.lower())
    assert national_id_normalize(STANDARD_EXAMPLE.lower()) == STANDARD_EXAMPLE


def test_full_width_digits_are_read_as_the_same_number():
    full_width = "１１０１０５１９４９１２３１００２ｘ"
    validate_national_id(full_width)
    assert national_id_normalize(full_width) == STANDARD_EXAMPLE


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("1101051949123100", "length"),
        ("11010519491231002XX", "length"),
        ("1101051949123100AX", "characters"),
        ("1101051949123100²X", "characters"),  # "²".isdigit() is true, int("²") fails
        ("11010519491231002²", "characters"),
        ("000000194912310028", "region"),
        ("110105194902300025", "birth"),  # 30 February
        ("110105299912310026", "birth"),  # born in the future
        ("110105194912310021", "checksum"),
    ],
)
def test_invalid_numbers_are_refused_with_the_reason(value, code):
    with pytest.raises(ValidationError) as error:
        validate_national_id(value)
    assert error.value.code == code


def test_mask_shows_first_six_and_last_four():
    assert national_id_mask(STANDARD_EXAMPLE) == "110105********002X"
    assert national_id_mask("") == ""
