"""Reads about people: a user's second-factor devices; everything held about one caregiver, for their own-data
download (PIPL Art. 45)."""

from collections import defaultdict

from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.contrib.contenttypes.models import ContentType
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from wagtail.log_actions import registry as log_registry
from wagtail.models import ModelLogEntry, PageLogEntry
from wagtail.users.models import UserProfile

from .models import CaregiverProfile
from .personal_data import (
    PersonalData,
    PersonalDataPart,
    PersonalDataSection,
    archive_name,
    personal_data_record,
    personal_data_sections,
    personal_data_value,
)


def two_factor_device_confirmed(*, user) -> TOTPDevice | None:
    """The authenticator app the user has confirmed, if any (the newest, should there be more)."""
    return TOTPDevice.objects.filter(user=user, confirmed=True).order_by("-pk").first()


def recovery_device(*, user) -> StaticDevice | None:
    return StaticDevice.objects.filter(user=user, confirmed=True).order_by("-pk").first()


def recovery_codes_remaining(*, user) -> int:
    return StaticToken.objects.filter(device__user=user, device__confirmed=True).count()


def _account(caregiver: CaregiverProfile) -> PersonalDataPart:
    user = caregiver.user
    preferences = UserProfile.objects.filter(user=user).first()
    record = personal_data_record(
        user,
        "username",
        "name",
        "phone",
        "email",
        "role",
        "is_active",
        "date_joined",
        "last_login",
        groups=list(user.groups.order_by("name").values_list("name", flat=True)),
    )
    if preferences is not None:
        record["preferences"] = personal_data_record(preferences, "preferred_language", "current_time_zone")
    return PersonalDataPart(records=[record], about=[user])


def _profile(caregiver: CaregiverProfile) -> PersonalDataPart:
    files = []
    if caregiver.photo:
        extension = caregiver.photo.name.rsplit(".", 1)[-1].lower() if "." in caregiver.photo.name else "jpg"
        files.append((archive_name(f"photo.{extension}"), caregiver.photo))
    institution = caregiver.institution
    record = personal_data_record(
        caregiver,
        "national_id",
        "gender",
        "employed_since",
        "practitioner_level",
        "credential_subject",
        "photo_consent_at",
        institution={
            "name": institution.name,
            "code": institution.code,
            "kind": institution.get_kind_display(),
            "county": institution.county.name,
        },
        photo=files[0][0] if files else None,
        photo_consent_recorded_by=caregiver.photo_consent_by,
    )
    return PersonalDataPart(records=[record], about=[caregiver], files=files)


def _sign_ins(caregiver: CaregiverProfile) -> PersonalDataPart:
    # django-axes keeps sign-ins and failed sign-ins by the user name typed, not by account.
    username = caregiver.user.username
    records = []
    for kind, model in (
        (gettext_lazy("Signed in"), AccessLog),
        (gettext_lazy("Failed sign-ins counted towards a lockout"), AccessAttempt),
        (gettext_lazy("Failed sign-in"), AccessFailureLog),
    ):
        for row in model.objects.filter(username=username).order_by("attempt_time", "pk"):
            record = personal_data_record(row, "attempt_time", "ip_address", "user_agent", "path_info", kind=kind)
            if model is AccessLog:
                record["logout_time"] = personal_data_value(row.logout_time)
            if model is AccessAttempt:
                record["failures"] = row.failures_since_start
            records.append(record)
    return PersonalDataPart(records=records)


def _second_factor(caregiver: CaregiverProfile) -> PersonalDataPart:
    # What is set up and when it was used; never the app's key or the recovery codes themselves.
    user = caregiver.user_id
    records = [
        personal_data_record(device, "name", "confirmed", "created_at", "last_used_at", kind=_("Authenticator app"))
        for device in TOTPDevice.objects.filter(user=user).order_by("pk")
    ]
    records += [
        personal_data_record(
            device,
            "name",
            "confirmed",
            "created_at",
            "last_used_at",
            kind=_("Recovery codes"),
            unused_codes=device.unused_codes,
        )
        for device in StaticDevice.objects.filter(user=user).annotate(unused_codes=Count("token_set")).order_by("pk")
    ]
    return PersonalDataPart(records=records)


ACCOUNT = PersonalDataSection(
    key="account",
    title=gettext_lazy("Account"),
    covers=("wagtailusers.UserProfile.user",),
    collect=_account,
)
PROFILE = PersonalDataSection(
    key="caregiver_profile",
    title=gettext_lazy("Caregiver profile"),
    covers=("accounts.CaregiverProfile.user",),
    collect=_profile,
)
SECOND_FACTOR = PersonalDataSection(
    key="second_factor",
    title=gettext_lazy("Two-step verification"),
    covers=("otp_totp.TOTPDevice.user", "otp_static.StaticDevice.user"),
    collect=_second_factor,
)
SIGN_INS = PersonalDataSection(
    key="sign_ins",
    title=gettext_lazy("Sign-ins to your account"),
    covers=(),
    collect=_sign_ins,
)


def _audit_record(entry, *, caregiver: CaregiverProfile) -> dict:
    if entry.user_id == caregiver.user_id:
        actor = _("You")
    else:
        actor = entry.user_display_name
    return {
        "timestamp": personal_data_value(entry.timestamp),
        "action": str(log_registry.get_action_label(entry.action)),
        "action_code": entry.action,
        "record": f"{entry.object_verbose_name}: {entry.label}",
        "by": str(actor),
        "details": personal_data_value(entry.data),
    }


def _audit(caregiver: CaregiverProfile, about: list) -> PersonalDataPart:
    """The log entries of every row the other sections hold, and every entry of the caregiver's own actions."""
    ids_by_model = defaultdict(set)
    for row in about:
        ids_by_model[type(row)].add(str(row.pk))
    content_types = ContentType.objects.get_for_models(*ids_by_model, for_concrete_models=False)
    condition = Q(user=caregiver.user_id)
    for model, ids in ids_by_model.items():
        condition |= Q(content_type=content_types[model], object_id__in=sorted(ids))
    entries = [
        *ModelLogEntry.objects.filter(condition).select_related("user", "content_type"),
        *PageLogEntry.objects.filter(user=caregiver.user_id).select_related("user", "content_type"),
    ]
    entries.sort(key=lambda entry: (entry.timestamp, entry.pk))
    return PersonalDataPart(records=[_audit_record(entry, caregiver=caregiver) for entry in entries])


AUDIT = PersonalDataSection(
    key="audit_log",
    title=gettext_lazy("Audit log: what was done with your records, and by whom"),
    covers=("wagtailcore.ModelLogEntry.user", "wagtailcore.PageLogEntry.user"),
    collect=_audit,  # called last, with the rows every other section found
)


def personal_data_sections_all() -> list[PersonalDataSection]:
    """Every section of the download, in the order it is written."""
    return [ACCOUNT, PROFILE, *personal_data_sections(), SECOND_FACTOR, SIGN_INS, AUDIT]


def caregiver_personal_data(*, caregiver: CaregiverProfile) -> PersonalData:
    """Everything held about the caregiver, section by section, in a fixed number of queries."""
    caregiver = CaregiverProfile.objects.select_related("user", "institution__county", "photo_consent_by").get(
        pk=caregiver.pk
    )
    parts = []
    about = []
    for section in personal_data_sections_all():
        part = section.collect(caregiver, about) if section is AUDIT else section.collect(caregiver)
        about.extend(part.about)
        parts.append((section, part))
    return PersonalData(caregiver=caregiver, generated_at=timezone.now(), sections=parts)
