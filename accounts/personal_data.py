"""What a caregiver's own-data download (PIPL Art. 45) holds, and the file it is handed out as.

Each app registers the sections it holds about a caregiver (`personal_data_register`, called when its
`personal_data` module is imported from its `ready()`), so that this app, at the bottom of the stack, collects
everything without importing the apps above it. A section names the relations to the user or the caregiver
profile whose rows it carries; a relation that only staff can be on (an assessor's, an uploader's) is registered
as such with the reason. `tests/accounts/test_personal_data_download.py` fails on any relation to either model
that is in neither list, so a new model with such a relation has to say where its rows go.
"""

import datetime
import decimal
import json
import re
import uuid
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from django.db import models
from django.db.models.fields.files import FieldFile
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from .models import CaregiverProfile


@dataclass
class PersonalDataPart:
    """What one section found: its records, the rows whose audit entries belong in the download, its files."""

    records: list[dict]
    about: list[models.Model] = field(default_factory=list)
    # (name inside the archive, stored file)
    files: list[tuple[str, FieldFile]] = field(default_factory=list)


@dataclass(frozen=True)
class PersonalDataSection:
    """One part of the download: `key` names it in data.json, `title` on the page and in the file."""

    key: str
    title: Promise | str
    # Relations ("app_label.Model.field") to the user or the caregiver profile whose rows this section carries.
    covers: tuple[str, ...]
    # Called with the caregiver; it reads what this section holds, in a fixed number of queries.
    collect: Callable[..., PersonalDataPart]


_sections: list[PersonalDataSection] = []
# Wagtail's own records of people are all written in its admin, which caregivers never enter (their role group
# has no admin access, tested); accounts' own staff relations are named here too.
_ADMIN_ONLY = _("Written in the management console, which caregivers cannot enter.")
_staff_only: dict[str, str] = {
    "accounts.AssessorProfile.user": _("An assessor's profile: an account has one role, never two."),
    "accounts.CaregiverProfile.photo_consent_by": _(
        "Who recorded a photo consent: an administrator or manager. The caregiver's own consent is in the profile."
    ),
    **{
        relation: _ADMIN_ONLY
        for relation in (
            "wagtailcore.Page.owner",
            "wagtailcore.Page.locked_by",
            "wagtailcore.Revision.user",
            "wagtailcore.WorkflowState.requested_by",
            "wagtailcore.TaskState.finished_by",
            "wagtailcore.Comment.user",
            "wagtailcore.Comment.resolved_by",
            "wagtailcore.CommentReply.user",
            "wagtailcore.PageSubscription.user",
            "wagtailcore.UploadedFile.uploaded_by_user",
            "wagtailcore.APIToken.user",
            "wagtaildocs.Document.uploaded_by_user",
            "wagtailimages.Image.uploaded_by_user",
            "wagtailadmin.EditingSession.user",
            "wagtailadmin.FormState.user",
        )
    },
}


def personal_data_register(*, sections: Iterable[PersonalDataSection] = (), staff_only: dict | None = None) -> None:
    """Add sections to the download, and name the relations only staff can be on (relation → why)."""
    for section in sections:
        if any(existing.key == section.key for existing in _sections):
            raise ValueError(f"Two sections of the personal data download are named {section.key!r}.")
        _sections.append(section)
    _staff_only.update(staff_only or {})


def personal_data_sections() -> list[PersonalDataSection]:
    return list(_sections)


def personal_data_staff_only() -> dict[str, str]:
    return dict(_staff_only)


def personal_data_value(value):
    """A stored value as JSON shows it: moments in local time, decimals as written, related rows by name."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, datetime.datetime):
        if timezone.is_aware(value):
            value = timezone.localtime(value)
        return value.isoformat(timespec="seconds")
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, decimal.Decimal | uuid.UUID | Promise):
        return str(value)
    if isinstance(value, dict):
        return {str(key): personal_data_value(item) for key, item in value.items()}
    if isinstance(value, list | tuple | set):
        return [personal_data_value(item) for item in value]
    if isinstance(value, FieldFile):
        return value.name or None
    return str(value)


def personal_data_record(instance: models.Model, *names: str, **extra) -> dict:
    """The named fields of one row: a choice by its label, a related row by its name (select it with the row)."""
    record = {}
    for name in names:
        model_field = instance._meta.get_field(name)
        value = getattr(instance, name)
        if model_field.choices and value is not None:
            value = getattr(instance, f"get_{name}_display")()
        record[name] = personal_data_value(value)
    record.update({key: personal_data_value(value) for key, value in extra.items()})
    return record


@dataclass
class PersonalData:
    """Everything held about one caregiver, as the download writes it."""

    caregiver: CaregiverProfile
    generated_at: datetime.datetime
    sections: list[tuple[PersonalDataSection, PersonalDataPart]]

    @property
    def files(self) -> list[tuple[str, FieldFile]]:
        return [item for _section, part in self.sections for item in part.files]

    def counts(self) -> dict[str, int]:
        return {section.key: len(part.records) for section, part in self.sections}

    def as_json(self) -> dict:
        return {
            "title": gettext(
                "A copy of the personal information CareStar holds about you, under Article 45 of the Personal "
                "Information Protection Law of the People's Republic of China"
            ),
            "name": self.caregiver.name,
            "generated_at": personal_data_value(self.generated_at),
            "sections": {
                section.key: {"title": str(section.title), "records": part.records} for section, part in self.sections
            },
            "files": [name for name, _file in self.files],
        }


def archive_name(text: str) -> str:
    """A name safe in any unzip program: ASCII letters, digits and . _ - only."""
    return re.sub(r"[^A-Za-z0-9._-]", "_", text) or "file"


def personal_data_archive(personal_data: PersonalData, *, output) -> list[str]:
    """Write the ZIP (data.json and each file) to `output`. A stored file that cannot be read is left out and
    named in data.json, so a lost file never costs the caregiver the rest of the download; its name is returned."""
    missing = []
    with zipfile.ZipFile(output, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, stored in personal_data.files:
            try:
                with stored.open("rb") as source:
                    content = source.read()  # photos and certificates: tens of kilobytes each
            except OSError:
                missing.append(name)
                continue
            archive.writestr(name, content)
        document = personal_data.as_json()
        if missing:
            document["files"] = [name for name in document["files"] if name not in missing]
            document["files_not_available"] = missing
        archive.writestr("data.json", json.dumps(document, ensure_ascii=False, indent=2))
    return missing
