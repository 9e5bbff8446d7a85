"""Content holds nothing about caregivers; its one relation to people is staff's (see accounts.personal_data)."""

from django.utils.translation import gettext_lazy as _

from accounts.personal_data import personal_data_register

personal_data_register(
    staff_only={"content.ImportJob.created_by": _("Spreadsheets are uploaded by staff in the management console.")}
)
