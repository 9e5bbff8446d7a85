"""Certificate serial numbers: a configurable pattern (CERTIFICATE_SERIAL_PATTERN), gapless per fixed part.

Fields: {region} (CERTIFICATE_REGION_CODE), {year} (of issue), {level} (the star level), {issuer}
(CERTIFICATE_ISSUER_CODE) and {sequence}, with Python format specifications, e.g. the default
"{region}-{year}-{sequence:06d}" gives 140500-2026-000001. The sequence counts per fixed part: with {level} in the
pattern, each level has its own run of numbers.

No number is lost or given twice, whatever crashes: a number is taken (services.serial_number_next) in the
transaction that inserts its certificate as pending, so a rollback before that commits returns it, and from the
commit on it is bound to that row. A crash later (render, signature, storage, a killed worker) leaves the row
pending and unseen by the public; the retry, the broker's redelivery or beat's recovery job completes it with the
same number. Every number up to the counter's belongs to exactly one certificate, and a number is missing from
the public register only while its certificate is pending.
"""

import string

from django.conf import settings

FIELDS = {"region", "year", "level", "issuer", "sequence"}
MAX_LENGTH = 32  # Certificate.serial_number
SAMPLE = {"region": "140500", "year": 2026, "level": 5, "issuer": "", "sequence": 999_999}


def pattern_problems(pattern: str) -> list[str]:
    """What is wrong with a pattern, in words; empty when it can number certificates."""
    try:
        fields = [field for _literal, field, _spec, _conversion in string.Formatter().parse(pattern) if field]
    except ValueError as error:
        return [f"the pattern is not a format string: {error}"]
    problems = []
    unknown = set(fields) - FIELDS
    if unknown:
        problems.append(f"unknown fields {sorted(unknown)}; the fields are {sorted(FIELDS)}")
    if fields.count("sequence") != 1:
        problems.append("the pattern must hold {sequence} exactly once")
    if not problems:
        try:
            sample = pattern.format(**{**SAMPLE, "issuer": settings.CERTIFICATE_ISSUER_CODE})
        except (ValueError, TypeError) as error:
            return [f"the pattern cannot be filled in: {error}"]
        if len(sample) > MAX_LENGTH:
            problems.append(f"a number such as {sample} is longer than {MAX_LENGTH} characters")
    return problems


def _values(*, year: int, level: int) -> dict:
    return {
        "region": settings.CERTIFICATE_REGION_CODE,
        "year": year,
        "level": level,
        "issuer": settings.CERTIFICATE_ISSUER_CODE,
    }


def serial_scope(*, year: int, level: int) -> str:
    """The number's fixed part, with # for the sequence: the key of its counter."""
    parts = []
    for literal, field, spec, _conversion in string.Formatter().parse(settings.CERTIFICATE_SERIAL_PATTERN):
        parts.append(literal)
        if field == "sequence":
            parts.append("#")
        elif field:
            parts.append(format(_values(year=year, level=level)[field], spec or ""))
    return "".join(parts)


def serial_format(*, year: int, level: int, sequence: int) -> str:
    return settings.CERTIFICATE_SERIAL_PATTERN.format(**_values(year=year, level=level), sequence=sequence)
