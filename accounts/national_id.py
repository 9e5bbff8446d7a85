"""Resident identity card numbers (公民身份号码) as GB 11643-1999 defines them."""

import datetime

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK_CHARACTERS = "10X98765432"


# A Chinese input method in full-width mode types １４０５…Ｘ; the number is the same.
_FULL_WIDTH = str.maketrans("０１２３４５６７８９Ｘｘ", "0123456789XX")


def national_id_normalize(value: str) -> str:
    return (value or "").strip().translate(_FULL_WIDTH).upper()


def national_id_check_character(first_17: str) -> str:
    total = sum(int(digit) * weight for digit, weight in zip(first_17, _WEIGHTS, strict=True))
    return _CHECK_CHARACTERS[total % 11]


def national_id_birth_date(value: str) -> datetime.date:
    return datetime.date(int(value[6:10]), int(value[10:12]), int(value[12:14]))


def validate_national_id(value: str) -> None:
    value = national_id_normalize(value)
    if len(value) != 18:
        raise ValidationError(_("An identity card number has 18 characters."), code="length")
    # ASCII digits only: "²".isdigit() and "２".isdigit() are true as well, and int("²") fails.
    if not (value[:17].isascii() and value[:17].isdigit()) or value[17] not in "0123456789X":
        raise ValidationError(_("An identity card number is 17 digits followed by a digit or X."), code="characters")
    if value[:6] == "000000":
        raise ValidationError(_("The identity card number has no valid region code."), code="region")
    try:
        birth_date = national_id_birth_date(value)
    except ValueError:
        raise ValidationError(_("The birth date inside the identity card number does not exist."), code="birth")
    if birth_date.year < 1900 or birth_date > datetime.date.today():
        raise ValidationError(_("The birth date inside the identity card number is not plausible."), code="birth")
    if national_id_check_character(value[:17]) != value[17]:
        raise ValidationError(_("The check digit of the identity card number is wrong."), code="checksum")


def national_id_mask(value: str) -> str:
    """The first 6 and last 4 characters, the rest hidden: what everyone but administrators sees."""
    if not value:
        return ""
    return f"{value[:6]}{'*' * (len(value) - 10)}{value[-4:]}"
