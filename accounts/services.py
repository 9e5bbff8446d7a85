"""Accounts, role groups and training bodies (group permissions are what Wagtail enforces in its admin); a caregiver's
own-data download; how long the audit log is kept."""

import datetime
import logging

from django.conf import settings
from django.contrib.auth.models import Group, Permission
from django.core.exceptions import ImproperlyConfigured, PermissionDenied
from django.db import models, transaction
from django.db.models.functions import Cast
from django.utils import timezone
from django.utils.translation import gettext
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from wagtail.log_actions import log
from wagtail.models import (
    Collection,
    GroupApprovalTask,
    GroupCollectionPermission,
    GroupPagePermission,
    ModelLogEntry,
    Page,
    PageLogEntry,
)

from .checks import AUDIT_LOG_RETENTION_MINIMUM_DAYS
from .models import AssessorProfile, CaregiverProfile, Institution, Role, TrainingBody, User
from .national_id_crypto import national_id_digest, national_id_token_is_current
from .personal_data import PersonalData, personal_data_archive
from .selectors import caregiver_personal_data
from .two_factor import RECOVERY_CODE_COUNT

logger = logging.getLogger(__name__)

ADMINISTRATORS_GROUP = "医保局管理员"
MANAGERS_GROUP = "定点机构管理员"

# Models administrators own in the admin (app_label, model names).
ADMINISTRATOR_MODELS = {
    "accounts": ["county", "institution", "trainingbody", "caregiverprofile", "assessorprofile", "user"],
    "content": ["standard", "clause", "serviceitem", "importjob"],
    # Sign-in lockouts (django-axes): administrators see them and lift one by deleting it.
    "axes": ["accessattempt"],
    "training": ["trainingbatch", "trainingsettings"],
    "certification": [
        "question",
        "exam",
        "examoverride",
        "examattempt",
        "practicaltemplate",
        "practicalassessment",
        "starruleset",
        "evaluation",
        "appeal",
        "certificate",
        "certificatetemplate",
        "certificatebatch",
    ],
    "wagtailimages": ["image"],
    "wagtaildocs": ["document"],
}
ADMINISTRATOR_PAGE_PERMISSIONS = [
    "add_page",
    "change_page",
    "publish_page",
    "bulk_delete_page",
    "lock_page",
    "unlock_page",
]
# A training body drafts and submits for moderation; it never publishes.
TRAINING_BODY_PAGE_PERMISSIONS = ["add_page", "change_page"]
# Batches: the admin lets a training body reach only its own (training.admin_views.TrainingBatchPermissionPolicy).
TRAINING_BODY_MODEL_PERMISSIONS = [
    ("training", "add_trainingbatch"),
    ("training", "change_trainingbatch"),
    ("training", "delete_trainingbatch"),
    ("training", "view_trainingbatch"),
]
TRAINING_BODY_COLLECTION_PERMISSIONS = [
    ("wagtailimages", "add_image"),
    ("wagtailimages", "change_image"),
    ("wagtailimages", "choose_image"),
    ("wagtaildocs", "add_document"),
    ("wagtaildocs", "change_document"),
    ("wagtaildocs", "choose_document"),
]


def _permission(app_label: str, codename: str) -> Permission:
    return Permission.objects.get(content_type__app_label=app_label, codename=codename)


def _admin_access() -> Permission:
    return _permission("wagtailadmin", "access_admin")


@transaction.atomic
def role_groups_ensure() -> dict[str, Group]:
    """Create or refresh the groups behind the staff roles. Safe to run again."""
    administrators, _created = Group.objects.get_or_create(name=ADMINISTRATORS_GROUP)
    model_permissions = Permission.objects.none()
    for app_label, model_names in ADMINISTRATOR_MODELS.items():
        model_permissions |= Permission.objects.filter(
            content_type__app_label=app_label, content_type__model__in=model_names
        )
    administrators.permissions.add(_admin_access(), *model_permissions)
    root = Page.get_first_root_node()
    for codename in ADMINISTRATOR_PAGE_PERMISSIONS:
        GroupPagePermission.objects.get_or_create(
            group=administrators, page=root, permission=_permission("wagtailcore", codename)
        )
    root_collection = Collection.get_first_root_node()
    for app_label, model in (("wagtailimages", "image"), ("wagtaildocs", "document")):
        for action in ("add", "change", "choose", "delete"):
            GroupCollectionPermission.objects.get_or_create(
                group=administrators,
                collection=root_collection,
                permission=_permission(app_label, f"{action}_{model}"),
            )
    # Course approval: Wagtail's default workflow asks the moderators; here the bureau's administrators decide.
    for task in GroupApprovalTask.objects.all():
        task.groups.set([administrators])

    managers, _created = Group.objects.get_or_create(name=MANAGERS_GROUP)
    managers.permissions.add(_admin_access())
    for body in TrainingBody.objects.select_related("group"):
        _training_body_model_permissions_grant(body.group)
    return {Role.ADMINISTRATOR: administrators, Role.MANAGER: managers}


def _training_body_model_permissions_grant(group: Group) -> None:
    group.permissions.add(
        _admin_access(), *(_permission(app_label, codename) for app_label, codename in TRAINING_BODY_MODEL_PERMISSIONS)
    )


@transaction.atomic
def training_body_create(*, code: str, name: str, contact_phone: str = "") -> TrainingBody:
    """A training body with its own permission group and image/document collection."""
    group, _created = Group.objects.get_or_create(name=f"培训机构·{name}")
    _training_body_model_permissions_grant(group)
    body, _created = TrainingBody.objects.get_or_create(
        code=code, defaults={"name": name, "contact_phone": contact_phone, "group": group}
    )
    root_collection = Collection.get_first_root_node()
    collection = root_collection.get_children().filter(name=name).first() or root_collection.add_child(name=name)
    for app_label, codename in TRAINING_BODY_COLLECTION_PERMISSIONS:
        GroupCollectionPermission.objects.get_or_create(
            group=group, collection=collection, permission=_permission(app_label, codename)
        )
    return body


@transaction.atomic
def training_body_grant_subtree(*, training_body: TrainingBody, page: Page) -> None:
    """Let the training body's group draft pages below `page` (its course index) and nowhere else."""
    for codename in TRAINING_BODY_PAGE_PERMISSIONS:
        GroupPagePermission.objects.get_or_create(
            group=training_body.group, page=page, permission=_permission("wagtailcore", codename)
        )


@transaction.atomic
def user_create(
    *,
    username: str,
    password: str,
    name: str,
    role: Role,
    phone: str = "",
    email: str = "",
    institution: Institution | None = None,
    training_body: TrainingBody | None = None,
) -> User:
    user = User.objects.create_user(
        username=username,
        password=password,
        email=email,
        name=name,
        role=role,
        phone=phone,
        institution=institution,
        training_body=training_body,
    )
    if role in (Role.ADMINISTRATOR, Role.MANAGER):
        user.groups.add(role_groups_ensure()[role])
    if training_body is not None:
        user.groups.add(training_body.group)
    return user


@transaction.atomic
def caregiver_create(
    *,
    username: str,
    password: str,
    name: str,
    gender: str,
    national_id: str,
    institution: Institution,
    employed_since,
    phone: str = "",
    practitioner_level: int = 0,
) -> CaregiverProfile:
    user = user_create(username=username, password=password, name=name, role=Role.CAREGIVER, phone=phone)
    profile = CaregiverProfile(
        user=user,
        gender=gender,
        national_id=national_id,
        institution=institution,
        employed_since=employed_since,
        practitioner_level=practitioner_level,
    )
    profile.full_clean()
    profile.save()
    return profile


@transaction.atomic
def assessor_create(
    *, username: str, password: str, name: str, institution: Institution | None, qualifications: str = ""
) -> AssessorProfile:
    user = user_create(username=username, password=password, name=name, role=Role.ASSESSOR)
    return AssessorProfile.objects.create(user=user, institution=institution, qualifications=qualifications)


def caregiver_photo_set(*, caregiver, photo, recorded_by) -> None:
    """Store a caregiver's photo (already normalised, accounts.photos) with who recorded their consent, and when."""
    from django.utils import timezone

    previous = caregiver.photo.name if caregiver.photo else ""
    caregiver.photo.save(photo.name, photo, save=False)
    caregiver.photo_consent_at = timezone.now()
    caregiver.photo_consent_by = recorded_by
    caregiver.save(update_fields=["photo", "photo_consent_at", "photo_consent_by"])
    if previous:
        caregiver.photo.storage.delete(previous)  # certificates keep their own copy


@transaction.atomic
def caregiver_national_id_reveal(*, caregiver: CaregiverProfile, actor: User) -> str:
    """The caregiver's whole identity number, for an administrator, with an entry in the audit trail saying who
    saw it and when (never the number itself)."""
    if not actor.is_administrator:
        raise PermissionDenied
    log(caregiver, "carestar.national_id.reveal", user=actor)
    return caregiver.national_id


def national_ids_reencrypt(*, chunk_size: int = 1000, dry_run: bool = False) -> dict[str, int]:
    """Every caregiver's identity number under the first of NATIONAL_ID_KEYS, and its digest under
    NATIONAL_ID_HASH_KEY: the middle step of a key rotation (README). Rows already so are left alone. Chunk by chunk,
    each in a transaction of its own, so it may be interrupted and run again; `dry_run` only counts."""
    checked = outdated = 0
    last = 0
    while True:
        with transaction.atomic():
            rows = list(
                CaregiverProfile.objects.select_for_update()
                .filter(pk__gt=last)
                .order_by("pk")
                .only("pk", "national_id", "national_id_digest")
                # The column as stored: the token, to tell which key it is under.
                .annotate(token=Cast("national_id", output_field=models.TextField()))[:chunk_size]
            )
            if not rows:
                return {"checked": checked, "outdated": outdated, "reencrypted": 0 if dry_run else outdated}
            stale = []
            for row in rows:
                digest = national_id_digest(row.national_id)
                if not national_id_token_is_current(row.token) or row.national_id_digest != digest:
                    row.national_id_digest = digest
                    stale.append(row)
            if stale and not dry_run:
                # Saving the number encrypts it afresh, under the first key.
                CaregiverProfile.objects.bulk_update(stale, ["national_id", "national_id_digest"])
            checked += len(rows)
            outdated += len(stale)
            last = rows[-1].pk


# --- Second factor (django-otp) -------------------------------------------------------------------------------


def two_factor_device_pending(*, user: User) -> TOTPDevice:
    """The authenticator app being set up: the user's unconfirmed TOTP device, made on first call."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("-pk").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=gettext("Authenticator app"), confirmed=False)
    return device


@transaction.atomic
def two_factor_device_confirm(*, device: TOTPDevice) -> list[str]:
    """Confirm an authenticator app whose first code was right: it replaces any other of the user's, and the user
    gets a fresh set of recovery codes, returned to be shown once."""
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    TOTPDevice.objects.filter(user=device.user).exclude(pk=device.pk).delete()
    log(device.user, "carestar.two_factor.enrol", user=device.user, title=str(device.user))
    return _recovery_codes_replace(user=device.user)


@transaction.atomic
def two_factor_recovery_codes_regenerate(*, user: User) -> list[str]:
    """New recovery codes for the user; the ones they had stop working. Returned to be shown once."""
    codes = _recovery_codes_replace(user=user)
    log(user, "carestar.two_factor.recovery_codes", user=user, title=str(user))
    return codes


@transaction.atomic
def two_factor_reset(*, user: User, actor: User) -> None:
    """Remove the user's second factor (a lost phone): their authenticator app and recovery codes. Sessions they
    verified with them are no longer verified, and their next request asks them to set up a new app."""
    TOTPDevice.objects.filter(user=user).delete()
    StaticDevice.objects.filter(user=user).delete()
    log(user, "carestar.two_factor.reset", user=actor, title=str(user))


def _recovery_codes_replace(*, user: User) -> list[str]:
    StaticDevice.objects.filter(user=user).delete()
    device = StaticDevice.objects.create(user=user, name=gettext("Recovery codes"), confirmed=True)
    codes = [StaticToken.random_token() for _ in range(RECOVERY_CODE_COUNT)]
    StaticToken.objects.bulk_create(StaticToken(device=device, token=code) for code in codes)
    return codes


PERSONAL_DATA_DOWNLOAD = "carestar.personal_data.download"


def caregiver_personal_data_export(*, caregiver: CaregiverProfile, user: User, output) -> PersonalData:
    """Write the caregiver's own-data download (a ZIP) to `output`, and record in the audit log that they took it."""
    personal_data = caregiver_personal_data(caregiver=caregiver)
    missing = personal_data_archive(personal_data, output=output)
    if missing:
        logger.error("Personal data download of caregiver %s: stored files not readable: %s", caregiver.pk, missing)
    log(
        personal_data.caregiver,
        PERSONAL_DATA_DOWNLOAD,
        user=user,
        data={
            "records": personal_data.counts(),
            "files": len(personal_data.files) - len(missing),
            "files_not_available": missing,
        },
    )
    return personal_data


AUDIT_LOG_PURGE_BATCH = 5000


def audit_log_purge(*, now: datetime.datetime | None = None) -> int:
    """Delete the audit log's entries older than AUDIT_LOG_RETENTION_DAYS; nothing at all below six months.

    Oldest first, a batch per statement, so that a first run over years of entries holds no long lock.
    """
    days = settings.AUDIT_LOG_RETENTION_DAYS
    if not isinstance(days, int) or days < AUDIT_LOG_RETENTION_MINIMUM_DAYS:
        # The start-up check refuses this already; a worker started without checks must not purge either.
        raise ImproperlyConfigured(
            f"AUDIT_LOG_RETENTION_DAYS is {days!r}; the audit log is kept at least "
            f"{AUDIT_LOG_RETENTION_MINIMUM_DAYS} days."
        )
    cutoff = (now or timezone.now()) - datetime.timedelta(days=days)
    purged = 0
    for model in (ModelLogEntry, PageLogEntry):
        while True:
            batch = list(
                model.objects.filter(timestamp__lt=cutoff)
                .order_by("timestamp", "pk")
                .values_list("pk", flat=True)[:AUDIT_LOG_PURGE_BATCH]
            )
            if not batch:
                break
            deleted, _detail = model.objects.filter(pk__in=batch).delete()
            purged += deleted
    if purged:
        logger.info("Audit log: %s entries older than %s days (before %s) deleted", purged, days, cutoff.isoformat())
    return purged
