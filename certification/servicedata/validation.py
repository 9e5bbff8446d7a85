"""Service data row checking: every row of a batch (spreadsheet or API) is read and checked against the bounds and
the database before anything is written, and each problem is reported with its row and field."""

import datetime
import hashlib
import json
import math
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accounts.models import CaregiverProfile
from accounts.national_id import national_id_normalize, validate_national_id
from accounts.national_id_crypto import national_id_digest

from .models import ServiceDataImport, ServiceIncident, ServiceMonth

# Bounds that catch a wrong column or a typo rather than real service: a month has at most 31 × 24 hours.
MAX_SERVICE_HOURS = Decimal("744")
MAX_SURVEYS = 1000
EARLIEST_DAY = datetime.date(2000, 1, 1)
# Lookups by many identity numbers or references are split so no query outgrows a database's parameter limit.
LOOKUP_CHUNK = 900

# A figure longer than this, or further from 1 than 10 to the ±MAX_NUMBER_EXPONENT, is a slip of the keyboard or
# an attack, never a count of hours or surveys; it is refused as not a number rather than computed with.
MAX_NUMBER_CHARS = 40
MAX_NUMBER_EXPONENT = 40
# Digits as int() and Decimal() read them: "\d" is a decimal digit (２ too), never a superscript such as ².
NUMBER_RE = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d{1,4})?")

MONTH_RE = re.compile(r"^(\d{4})-(\d{2})$")
DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
TRUE_WORDS = {"true", "yes", "y", "1", "是", "已查实", "查实"}
FALSE_WORDS = {"false", "no", "n", "0", "否", "未查实"}


@dataclass(frozen=True)
class ServiceDataError:
    """One problem: `section` is "months" or "incidents" (None for the batch as a whole), `index` the 0-based
    position of the row in its section, `field` the key of the value at fault."""

    section: str | None
    index: int | None
    field: str
    message: str

    def as_dict(self) -> dict:
        return {"section": self.section, "index": self.index, "field": self.field, "message": self.message}


class ServiceDataRejected(ValidationError):
    """The batch has problems; nothing was written."""

    def __init__(self, problems: list[ServiceDataError]):
        super().__init__([problem.message for problem in problems])
        self.problems = problems


class ServiceDataConflict(ValidationError):
    """The batch key was used before for different content; nothing was written."""

    def __init__(self, earlier: ServiceDataImport):
        super().__init__(
            _("Batch “%(batch)s” was already imported on %(when)s with different content; give a new batch its own id.")
            % {"batch": earlier.batch_key, "when": timezone.localtime(earlier.created_at).strftime("%Y-%m-%d %H:%M")}
        )
        self.earlier = earlier


def incident_kind_lookup() -> dict[str, str]:
    """Kinds by code and by their Chinese and English names, lower-cased."""
    lookup = {}
    for value, label in ServiceIncident.Kind.choices:
        lookup[value] = value
        for language in ("zh-hans", "en"):
            with translation.override(language):
                lookup[str(label).lower()] = value
    return lookup


# --- Reading values: the API sends JSON types, spreadsheets text; both pass through the same checks ---------


def _text(value) -> str | None:
    if value is None:
        return ""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return None


def _decimal(value) -> Decimal | None:
    """A finite number of sensible size, from JSON or a cell's text; None for anything else.

    Refuses what Decimal or float would take but no figure is: infinity and NaN (JSON's 1e5000 arrives as inf),
    and numbers of thousands of digits, which could not even be printed in the message that refuses them.
    """
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, float):
        if not math.isfinite(value):
            return None
        value = repr(value)
    elif isinstance(value, int):
        if value.bit_length() > 4 * MAX_NUMBER_CHARS:
            return None
        value = str(value)
    if not isinstance(value, str):
        return None
    text = value.strip()
    if len(text) > MAX_NUMBER_CHARS or not NUMBER_RE.fullmatch(text):
        return None
    try:
        number = Decimal(text)
    except InvalidOperation:
        return None
    if number and not -MAX_NUMBER_EXPONENT <= number.adjusted() <= MAX_NUMBER_EXPONENT:
        return None
    return number


def _whole_number(value) -> int | None:
    number = _decimal(value)
    if number is None or number != number.to_integral_value():
        return None
    return int(number)


def _boolean(value) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        word = value.strip().lower()
        if word in TRUE_WORDS:
            return True
        if word in FALSE_WORDS:
            return False
    return None


def _month(value) -> tuple[datetime.date | None, str | None]:
    text = _text(value)
    match = MONTH_RE.match(text or "")
    if not match or not 1 <= int(match.group(2)) <= 12:
        return None, _("“%(value)s” is not a month written as YYYY-MM, e.g. 2026-10.") % {"value": text or ""}
    # Compared before the date is made: there is no year 0 (0000-01 would fail datetime.date).
    if int(match.group(1)) < EARLIEST_DAY.year:
        return None, _("The month %(month)s is implausibly long ago.") % {"month": text}
    month = datetime.date(int(match.group(1)), int(match.group(2)), 1)
    if month > timezone.localdate().replace(day=1):
        return None, _("The month %(month)s has not begun yet.") % {"month": text}
    return month, None


def _day(value) -> tuple[datetime.date | None, str | None]:
    text = _text(value) or ""
    try:
        day = datetime.date.fromisoformat(text) if DATE_RE.match(text) else None
    except ValueError:
        day = None
    if day is None:
        return None, _("“%(value)s” is not a date written as YYYY-MM-DD, e.g. 2026-10-03.") % {"value": text}
    if day > timezone.localdate():
        return None, _("The date %(date)s is in the future.") % {"date": text}
    if day < EARLIEST_DAY:
        return None, _("The date %(date)s is implausibly long ago.") % {"date": text}
    return day, None


@dataclass
class MonthRow:
    national_id: str
    month: datetime.date
    service_hours: Decimal
    surveys: int
    satisfied: int


@dataclass
class IncidentRow:
    reference: str
    national_id: str
    kind: str
    occurred_on: datetime.date
    substantiated: bool
    summary: str


class _Checker:
    """Collects every problem of a batch while turning its rows into typed values."""

    def __init__(self):
        self.problems: list[ServiceDataError] = []

    def add(self, section, index, field, message) -> None:
        self.problems.append(ServiceDataError(section, index, field, str(message)))

    def national_id(self, section, index, row) -> str | None:
        raw = _text(row.get("national_id"))
        if not raw:
            self.add(section, index, "national_id", _("The identity card number is empty."))
            return None
        value = national_id_normalize(raw)
        try:
            validate_national_id(value)
        except ValidationError as error:
            self.add(section, index, "national_id", f"{value}：{' '.join(error.messages)}")
            return None
        return value

    def month_row(self, index: int, row) -> MonthRow | None:
        section = "months"
        if not isinstance(row, dict):
            self.add(section, index, "", _("Each monthly figure must be an object."))
            return None
        before = len(self.problems)
        national_id = self.national_id(section, index, row)
        month, problem = _month(row.get("month"))
        if problem:
            self.add(section, index, "month", problem)
        hours = _decimal(row.get("service_hours"))
        if hours is None:
            self.add(section, index, "service_hours", _("The service hours must be a number, e.g. 86.5."))
        elif hours < 0:
            self.add(section, index, "service_hours", _("The service hours cannot be negative."))
        elif hours > MAX_SERVICE_HOURS:
            self.add(
                section,
                index,
                "service_hours",
                _("%(hours)s service hours in one month is more than the month has (at most %(max)s).")
                % {"hours": hours, "max": MAX_SERVICE_HOURS},
            )
        elif hours != hours.quantize(Decimal("0.1")):
            self.add(section, index, "service_hours", _("Give the service hours with at most one decimal place."))
        counts = {}
        for field, label in (("surveys", _("surveys returned")), ("satisfied", _("satisfied surveys"))):
            count = _whole_number(row.get(field, 0) if row.get(field) not in ("", None) else 0)
            if count is None:
                self.add(section, index, field, _("The number of %(what)s must be a whole number.") % {"what": label})
            elif count < 0:
                self.add(section, index, field, _("The number of %(what)s cannot be negative.") % {"what": label})
            elif count > MAX_SURVEYS:
                self.add(
                    section,
                    index,
                    field,
                    _("%(count)s %(what)s in one month is implausible (at most %(max)s).")
                    % {"count": count, "what": label, "max": MAX_SURVEYS},
                )
            else:
                counts[field] = count
        if len(counts) == 2 and counts["satisfied"] > counts["surveys"]:
            self.add(
                section,
                index,
                "satisfied",
                _("%(satisfied)s satisfied surveys is more than the %(surveys)s returned.")
                % {"satisfied": counts["satisfied"], "surveys": counts["surveys"]},
            )
        if len(self.problems) > before:
            return None
        return MonthRow(national_id, month, hours, counts["surveys"], counts["satisfied"])

    def incident_row(self, index: int, row, kinds: dict[str, str]) -> IncidentRow | None:
        section = "incidents"
        if not isinstance(row, dict):
            self.add(section, index, "", _("Each incident must be an object."))
            return None
        before = len(self.problems)
        reference = _text(row.get("reference"))
        if not reference:
            self.add(section, index, "reference", _("The incident reference is empty."))
        elif len(reference) > 64:
            self.add(section, index, "reference", _("The incident reference is longer than 64 characters."))
        national_id = self.national_id(section, index, row)
        kind_text = _text(row.get("kind"))
        kind = kinds.get((kind_text or "").lower())
        if kind is None:
            self.add(
                section,
                index,
                "kind",
                _("“%(kind)s” is not a kind of incident; use 投诉, 责任事故 or 违反职业道德.")
                % {"kind": kind_text or ""},
            )
        occurred_on, problem = _day(row.get("occurred_on"))
        if problem:
            self.add(section, index, "occurred_on", problem)
        substantiated = _boolean(row.get("substantiated"))
        if substantiated is None:
            self.add(
                section,
                index,
                "substantiated",
                _("Say whether the incident is substantiated: 是 or 否 (true or false)."),
            )
        summary = _text(row.get("summary"))
        if summary is None:
            self.add(section, index, "summary", _("The summary must be text."))
        elif len(summary) > 500:
            self.add(section, index, "summary", _("The summary is longer than 500 characters."))
        if len(self.problems) > before:
            return None
        return IncidentRow(reference, national_id, kind, occurred_on, substantiated, summary)


def lookup_chunks(values: list, size: int = LOOKUP_CHUNK):
    for start in range(0, len(values), size):
        yield values[start : start + size]


def _caregiver_ids(national_ids: set[str]) -> dict[str, int]:
    # Found by their keyed hashes: nothing is decrypted to match a batch.
    found = {}
    for chunk in lookup_chunks(sorted(national_ids)):
        numbers = {national_id_digest(number): number for number in chunk}
        found.update(
            (numbers[digest], pk)
            for digest, pk in CaregiverProfile.objects.with_national_ids(chunk).values_list("national_id_digest", "pk")
        )
    return found


def _incidents_by_reference(references: set[str]) -> dict[str, ServiceIncident]:
    found = {}
    for chunk in lookup_chunks(sorted(references)):
        found.update(
            (incident.reference, incident)
            for incident in ServiceIncident.objects.filter(reference__in=chunk).only(
                "pk", "reference", "caregiver_id", "kind", "substantiated"
            )
        )
    return found


@dataclass
class BatchPlan:
    """A checked batch: typed rows, the caregivers' ids by identity number, the incidents already on record."""

    months: list[MonthRow]
    incidents: list[IncidentRow]
    caregivers: dict[str, int]
    existing_incidents: dict[str, ServiceIncident]


def batch_check(*, months, incidents, batch_key: str, row_numbers: dict[str, list[int]] | None) -> BatchPlan:
    """Every problem of the batch, raised together as ServiceDataRejected; otherwise the plan to write."""

    def row_label(section: str, index: int) -> int:
        return row_numbers[section][index] if row_numbers else index + 1

    checker = _Checker()
    if not batch_key or len(batch_key) > 100:
        checker.add(None, None, "batch_id", _("The batch id must be 1 to 100 characters."))
    if not isinstance(months, list) or not isinstance(incidents, list):
        checker.add(None, None, "", _("Monthly figures and incidents must each be a list."))
        raise ServiceDataRejected(checker.problems)
    if not months and not incidents:
        checker.add(None, None, "", _("The batch holds no monthly figures and no incidents."))

    month_rows: dict[int, MonthRow] = {}
    seen_months: dict[tuple[str, datetime.date], int] = {}
    for index, row in enumerate(months):
        parsed = checker.month_row(index, row)
        if parsed is None:
            continue
        key = (parsed.national_id, parsed.month)
        if key in seen_months:
            checker.add(
                "months",
                index,
                "month",
                _("The figures of %(national_id)s for %(month)s are already given in row %(row)s.")
                % {
                    "national_id": parsed.national_id,
                    "month": f"{parsed.month:%Y-%m}",
                    "row": row_label("months", seen_months[key]),
                },
            )
            continue
        seen_months[key] = index
        month_rows[index] = parsed

    kinds = incident_kind_lookup()
    incident_rows: dict[int, IncidentRow] = {}
    seen_references: dict[str, int] = {}
    for index, row in enumerate(incidents):
        parsed = checker.incident_row(index, row, kinds)
        if parsed is None:
            continue
        if parsed.reference in seen_references:
            checker.add(
                "incidents",
                index,
                "reference",
                _("The incident %(reference)s is already given in row %(row)s.")
                % {"reference": parsed.reference, "row": row_label("incidents", seen_references[parsed.reference])},
            )
            continue
        seen_references[parsed.reference] = index
        incident_rows[index] = parsed

    # What the database must confirm is read once for the whole batch, never row by row.
    caregivers = _caregiver_ids(
        {row.national_id for row in month_rows.values()} | {row.national_id for row in incident_rows.values()}
    )
    existing_incidents = _incidents_by_reference(set(seen_references))
    for section, rows in (("months", month_rows), ("incidents", incident_rows)):
        for index, row in rows.items():
            if row.national_id not in caregivers:
                checker.add(
                    section,
                    index,
                    "national_id",
                    _("No caregiver has the identity card number %(national_id)s.") % {"national_id": row.national_id},
                )
    for index, row in incident_rows.items():
        existing = existing_incidents.get(row.reference)
        caregiver_id = caregivers.get(row.national_id)
        if existing is not None and caregiver_id is not None and existing.caregiver_id != caregiver_id:
            checker.add(
                "incidents",
                index,
                "reference",
                _("The incident %(reference)s is already recorded for another caregiver.")
                % {"reference": row.reference},
            )
    if checker.problems:
        checker.problems.sort(key=lambda p: ({None: 0, "months": 1, "incidents": 2}[p.section], p.index or 0))
        raise ServiceDataRejected(checker.problems)
    return BatchPlan(list(month_rows.values()), list(incident_rows.values()), caregivers, existing_incidents)


def payload_digest(*, months: list, incidents: list) -> str:
    """The SHA-256 of a batch's content, the same however its JSON was spaced or its keys ordered."""
    canonical = json.dumps(
        {"months": months, "incidents": incidents}, sort_keys=True, ensure_ascii=False, separators=(",", ":")
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def months_existing(pairs: set[tuple[int, datetime.date]]) -> set[tuple[int, datetime.date]]:
    """Which (caregiver, month) pairs already have figures: the batch's caregivers over its span of months."""
    if not pairs:
        return set()
    months = [month for _caregiver_id, month in pairs]
    found = set()
    for chunk in lookup_chunks(sorted({caregiver_id for caregiver_id, _month in pairs})):
        found.update(
            ServiceMonth.objects.filter(
                caregiver_id__in=chunk, month__gte=min(months), month__lte=max(months)
            ).values_list("caregiver_id", "month")
        )
    return found & pairs
