"""Roster import for a training batch: the same all-or-nothing rules as the standards library's imports."""

from django.core.exceptions import PermissionDenied, ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import CaregiverProfile
from accounts.national_id import national_id_normalize, validate_national_id
from content.imports import Importer, RowError, importer_register
from content.models import ImportJob
from content.spreadsheets import Column, text_only_errors

from .models import BatchMember, TrainingBatch
from .selectors import batch_user_can_manage, prerequisites_missing


class RosterImporter(Importer):
    kind = ImportJob.Kind.BATCH_ROSTER
    template_name = "培训名单导入模板"
    columns = [
        Column(
            "national_id",
            gettext_lazy("Identity card number"),
            required=True,
            text_only=True,
            help=gettext_lazy("18 characters; the caregiver must already be registered on the platform."),
        ),
        Column(
            "name",
            gettext_lazy("Full name"),
            required=True,
            help=gettext_lazy("Checked against the registered name, to catch a mistyped number."),
        ),
        Column("institution", gettext_lazy("Institution"), help=gettext_lazy("For your reference; not checked.")),
    ]

    def examples(self) -> list[list[str]]:
        return [["140502198001010011", "王秀英", "城区康乐养老院"]]

    def check(self, *, job, rows, progress):
        errors: list[RowError] = []
        batch = TrainingBatch.objects.select_related("course").filter(pk=job.target_id).first()
        if batch is None:
            return [RowError(None, _("The training batch no longer exists."))], None
        if not batch_user_can_manage(user=job.created_by, batch=batch):
            return [RowError(None, _("Only the batch's own training body may change it."))], None

        normalised: dict[int, str] = {}
        for row in rows:
            normalised[row.number] = national_id_normalize(row.values["national_id"])
        caregivers = {
            caregiver.national_id: caregiver
            for caregiver in CaregiverProfile.objects.with_national_ids(
                {number for number in normalised.values() if number}
            ).select_related("user")
        }
        on_roster = set(
            BatchMember.objects.filter(batch=batch, caregiver__in=caregivers.values()).values_list(
                "caregiver_id", flat=True
            )
        )
        missing = prerequisites_missing(
            caregiver_ids=[c.pk for c in caregivers.values() if c.pk not in on_roster], course=batch.course
        )

        seen: dict[str, int] = {}
        plan: list[CaregiverProfile] = []
        for done, row in enumerate(rows, start=1):
            row_errors = text_only_errors(row, self.columns)
            national_id = normalised[row.number]
            name = row.values["name"].strip()
            caregiver = None
            if not national_id:
                row_errors.append(_("The identity card number is empty."))
            else:
                try:
                    validate_national_id(national_id)
                except ValidationError as error:
                    row_errors.extend(error.messages)
                else:
                    if national_id in seen:
                        row_errors.append(
                            _("This identity card number already appears in row %(row)s.") % {"row": seen[national_id]}
                        )
                    seen.setdefault(national_id, row.number)
                    caregiver = caregivers.get(national_id)
            if not name:
                row_errors.append(_("The name is empty."))
            if national_id and name and not row_errors and (caregiver is None or caregiver.name != name):
                # One answer whether the number is unknown or belongs to someone else: a roster upload must not
                # tell which identity numbers are registered, nor whose they are.
                row_errors.append(_("No registered caregiver has this identity card number and this name."))
                caregiver = None
            if caregiver is not None and (caregiver.name != name or row_errors):
                caregiver = None
            if caregiver is not None and caregiver.pk in missing:
                row_errors.append(
                    _("%(name)s has not completed %(courses)s.")
                    % {"name": caregiver.name, "courses": "、".join(missing[caregiver.pk])}
                )
            errors.extend(RowError(row.number, message) for message in row_errors)
            if not row_errors:
                plan.append(caregiver)
            if done % 200 == 0:
                progress(done)
        progress(len(rows))
        if batch.capacity is not None and not errors:
            newcomers = sum(1 for caregiver in plan if caregiver.pk not in on_roster)
            current = BatchMember.objects.filter(batch=batch).count()
            if current + newcomers > batch.capacity:
                errors.append(
                    RowError(
                        None,
                        _("The batch has %(capacity)s places and %(current)s are taken; %(count)s more do not fit.")
                        % {"capacity": batch.capacity, "current": current, "count": newcomers},
                    )
                )
        return errors, (batch, plan)

    def write(self, *, job, plan) -> dict:
        from .services import batch_roster_add

        batch, caregivers = plan
        try:
            return batch_roster_add(batch=batch, caregivers=caregivers, user=job.created_by)
        except PermissionDenied as error:
            raise ValidationError(str(error))


importer_register(RosterImporter())
